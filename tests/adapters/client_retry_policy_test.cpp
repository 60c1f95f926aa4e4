// Backoff with full jitter: bounds, growth, cap.
#include <gtest/gtest.h>

#include "adapters/retry_policy.hpp"

namespace unlinkd::adapters {
namespace {

using std::chrono::milliseconds;

TEST(client_retry_policy, the_ceiling_doubles_per_retry_up_to_the_cap) {
  const retry_policy p{6, milliseconds{100}, milliseconds{1'000}};
  // Just below 1.0 gives the ceiling itself.
  const double top = 0.999999999;
  EXPECT_EQ(backoff_delay(p, 2, top), milliseconds{100});
  EXPECT_EQ(backoff_delay(p, 3, top), milliseconds{200});
  EXPECT_EQ(backoff_delay(p, 4, top), milliseconds{400});
  EXPECT_EQ(backoff_delay(p, 5, top), milliseconds{800});
  EXPECT_EQ(backoff_delay(p, 6, top), milliseconds{1'000});
  EXPECT_EQ(backoff_delay(p, 60, top), milliseconds{1'000});
  EXPECT_EQ(backoff_delay(p, 4'000'000'000U, top), milliseconds{1'000});
}

TEST(client_retry_policy, full_jitter_spans_zero_to_the_ceiling) {
  const retry_policy p{4, milliseconds{100}, milliseconds{1'000}};
  EXPECT_EQ(backoff_delay(p, 3, 0.0), milliseconds{0});
  EXPECT_EQ(backoff_delay(p, 3, 0.5), milliseconds{100});
  for (int i = 0; i <= 100; ++i) {
    const auto d = backoff_delay(p, 4, i / 100.0);
    EXPECT_GE(d, milliseconds{0});
    EXPECT_LE(d, milliseconds{400});
  }
}

TEST(client_retry_policy, out_of_range_randomness_is_clamped) {
  const retry_policy p{4, milliseconds{100}, milliseconds{1'000}};
  EXPECT_EQ(backoff_delay(p, 2, -3.0), milliseconds{0});
  EXPECT_EQ(backoff_delay(p, 2, 7.0), milliseconds{100});
}

TEST(client_retry_policy, a_zero_base_never_waits) {
  const retry_policy p{4, milliseconds{0}, milliseconds{1'000}};
  EXPECT_EQ(backoff_delay(p, 5, 0.99), milliseconds{0});
}

}  // namespace
}  // namespace unlinkd::adapters
