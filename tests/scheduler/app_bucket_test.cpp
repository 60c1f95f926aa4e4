// The budget rules of one app (PRODUCT.md §5) in virtual time: sliding
// windows with the safety margin, the report-create limits, the daily quota,
// cooldowns of 1 s and 60 s, and the lone probe after a freeze.
#include "scheduler/app_bucket.hpp"

#include <chrono>

#include <gtest/gtest.h>

namespace unlinkd::scheduler {
namespace {

using namespace std::chrono_literals;
using adapters::gate_answer;

config::rate_limits limits(std::uint32_t qps, std::uint32_t qpm, std::uint64_t qpd = 1'000'000) {
  return {qps, qpm, qpd};
}

class bucket_test : public ::testing::Test {
 protected:
  const clock::time_point t0_{std::chrono::hours(100)};
  const app_bucket::utc_time noon_{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + 12h};
  app_bucket::utc_time utc(clock::time_point t) const { return noon_ + (t - t0_); }

  clock::time_point slot(app_bucket& b, clock::time_point t,
                         std::string_view endpoint = "/bc/get/") {
    return b.next_slot(endpoint, t, utc(t));
  }
  void take(app_bucket& b, clock::time_point t, std::string_view endpoint = "/bc/get/") {
    ASSERT_LE(b.next_slot(endpoint, t, utc(t)), t) << "took a call the bucket did not allow";
    b.take(endpoint, t, utc(t));
  }
  void answer(app_bucket& b, gate_answer a, clock::time_point t) { b.on_answer(a, t, utc(t)); }
};

TEST_F(bucket_test, the_second_window_opens_a_margin_after_the_oldest_call_leaves) {
  app_bucket b(limits(3, 100), {.margin = 20ms});
  take(b, t0_);
  take(b, t0_ + 100ms);
  take(b, t0_ + 200ms);
  EXPECT_EQ(slot(b, t0_ + 300ms), t0_ + 1020ms);
  take(b, t0_ + 1020ms);
  EXPECT_EQ(slot(b, t0_ + 1020ms), t0_ + 1120ms);
}

TEST_F(bucket_test, the_minute_window_limits_a_steady_stream) {
  app_bucket b(limits(10, 20), {.margin = 0ms});
  auto t = t0_;
  for (int i = 0; i < 20; ++i) {
    t = slot(b, t);
    take(b, t);
  }
  EXPECT_EQ(t, t0_ + 1s) << "ten in the first second, ten as the second window frees";
  EXPECT_EQ(slot(b, t), t0_ + 60s) << "the minute's 20 are spent until the first leaves";
}

TEST_F(bucket_test, in_steady_state_the_stream_uses_at_least_97_percent_of_the_budget) {
  app_bucket b(limits(10, 600));  // the default margin
  auto t = t0_;
  std::uint64_t calls = 0;
  while (t < t0_ + 600s) {
    t = slot(b, t);
    take(b, t);
    ++calls;
  }
  // 10 minutes at 10/s is 6,000.
  EXPECT_GE(static_cast<double>(calls) / 6000.0, 0.97) << calls;
  EXPECT_LE(calls, 6000U + 10U);
}

TEST_F(bucket_test, report_create_has_its_own_two_per_second_and_sixty_per_minute) {
  app_bucket b(limits(50, 3000), {.margin = 0ms});
  const std::string_view create = "/report/task/create/";
  take(b, t0_, create);
  take(b, t0_ + 1ms, create);
  EXPECT_EQ(slot(b, t0_ + 2ms, create), t0_ + 1s);
  EXPECT_EQ(slot(b, t0_ + 2ms), t0_ + 2ms) << "other endpoints are not held back";
  auto t = t0_ + 1s;
  for (int i = 2; i < 60; ++i) {
    t = slot(b, t, create);
    take(b, t, create);
  }
  EXPECT_EQ(slot(b, t, create), t0_ + 60s);
}

TEST_F(bucket_test, a_spent_daily_quota_waits_for_midnight_utc) {
  app_bucket b(limits(10, 600, 3), {.margin = 0ms});
  take(b, t0_);
  take(b, t0_ + 200ms);
  take(b, t0_ + 400ms);
  EXPECT_EQ(slot(b, t0_ + 500ms), t0_ + 12h) << "noon plus 12 h is midnight";
  take(b, t0_ + 12h);
}

TEST_F(bucket_test, a_rate_limited_answer_freezes_for_a_second_then_one_probe_goes_alone) {
  app_bucket b(limits(10, 600));
  take(b, t0_);
  take(b, t0_ + 10ms);
  answer(b, gate_answer::rate_limited, t0_ + 20ms);
  EXPECT_TRUE(b.frozen(t0_ + 500ms));
  EXPECT_EQ(slot(b, t0_ + 500ms), t0_ + 1020ms);
  answer(b, gate_answer::rate_limited, t0_ + 30ms);  // a call sent before the freeze
  EXPECT_EQ(slot(b, t0_ + 500ms), t0_ + 1020ms) << "an earlier call's answer does not lengthen it";
  take(b, t0_ + 1020ms);  // the probe
  EXPECT_EQ(slot(b, t0_ + 1030ms), clock::time_point::max()) << "nothing goes beside the probe";
  answer(b, gate_answer::ok, t0_ + 1100ms);
  EXPECT_EQ(slot(b, t0_ + 1100ms), t0_ + 1100ms) << "full rate after a good probe";
  EXPECT_EQ(b.stats().probes, 1U);
  EXPECT_EQ(b.stats().cooldowns, 1U);
}

TEST_F(bucket_test, a_second_rate_limit_within_a_minute_freezes_for_sixty_seconds) {
  app_bucket b(limits(10, 600));
  take(b, t0_);
  answer(b, gate_answer::rate_limited, t0_ + 10ms);
  take(b, t0_ + 1010ms);  // probe
  answer(b, gate_answer::rate_limited, t0_ + 1050ms);
  EXPECT_EQ(slot(b, t0_ + 1100ms), t0_ + 61050ms);
  take(b, t0_ + 61050ms);
  answer(b, gate_answer::ok, t0_ + 61060ms);
  // Much later, a single rate limit is a 1-s freeze again.
  take(b, t0_ + 200s);
  answer(b, gate_answer::rate_limited, t0_ + 200s);
  EXPECT_EQ(slot(b, t0_ + 200s), t0_ + 201s);
}

TEST_F(bucket_test, a_daily_quota_answer_freezes_until_midnight) {
  app_bucket b(limits(10, 600));
  take(b, t0_);
  answer(b, gate_answer::daily_quota, t0_ + 1h);
  EXPECT_EQ(slot(b, t0_ + 2h), t0_ + 12h);
}

TEST_F(bucket_test, a_probe_that_was_never_sent_lets_another_probe_go) {
  app_bucket b(limits(10, 600));
  take(b, t0_);
  answer(b, gate_answer::rate_limited, t0_);
  take(b, t0_ + 1s);
  answer(b, gate_answer::not_sent, t0_ + 1100ms);
  EXPECT_EQ(slot(b, t0_ + 1100ms), t0_ + 1100ms);
  take(b, t0_ + 1100ms);
  EXPECT_EQ(slot(b, t0_ + 1100ms), clock::time_point::max()) << "still a lone probe";
}

TEST_F(bucket_test, lowering_the_limits_applies_to_the_next_call) {
  app_bucket b(limits(10, 600), {.margin = 0ms});
  for (int i = 0; i < 5; ++i) {
    take(b, t0_ + std::chrono::milliseconds(i));
  }
  b.set_limits(limits(2, 600));
  EXPECT_EQ(slot(b, t0_ + 10ms), t0_ + 1s + 3ms) << "5 in the window, 2 allowed: 4 must leave";
}

}  // namespace
}  // namespace unlinkd::scheduler
