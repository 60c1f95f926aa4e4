#pragma once
// How long to wait before sending a retryable call again (PRODUCT.md §5):
// exponential backoff with full jitter, capped, a small bound on tries.
// Pure: the randomness is a number the caller draws.
#include <chrono>
#include <cstdint>

namespace unlinkd::adapters {

struct retry_policy {
  std::uint32_t max_attempts = 4;              // sends of one call, the first included
  std::chrono::milliseconds base_delay{200};   // the ceiling of the first wait
  std::chrono::milliseconds max_delay{5'000};  // no ceiling grows past this
};

// The wait before attempt `next_attempt` (2 for the first retry): uniform in
// [0, min(max_delay, base_delay * 2^(next_attempt - 2))], picked by
// `unit_random` in [0, 1).
std::chrono::milliseconds backoff_delay(const retry_policy& policy, std::uint32_t next_attempt,
                                        double unit_random);

}  // namespace unlinkd::adapters
