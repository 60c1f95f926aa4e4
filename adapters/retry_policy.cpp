#include "adapters/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace unlinkd::adapters {

std::chrono::milliseconds backoff_delay(const retry_policy& policy, std::uint32_t next_attempt,
                                        double unit_random) {
  const auto base = std::max<std::int64_t>(policy.base_delay.count(), 0);
  const auto cap = std::max<std::int64_t>(policy.max_delay.count(), 0);
  // Doubling stops at the cap; shifting is bounded so it never overflows.
  const std::uint32_t doublings =
      next_attempt >= 2 ? std::min<std::uint32_t>(next_attempt - 2, 30) : 0;
  std::int64_t ceiling = base;
  for (std::uint32_t i = 0; i < doublings && ceiling < cap; ++i) {
    ceiling *= 2;
  }
  ceiling = std::min(ceiling, cap);
  // Full jitter: anywhere from 0 to the ceiling, so many callers that failed
  // together do not retry together.
  const double r = std::clamp(unit_random, 0.0, 1.0);
  auto wait = static_cast<std::int64_t>(std::floor(r * static_cast<double>(ceiling + 1)));
  return std::chrono::milliseconds{std::min(wait, ceiling)};
}

}  // namespace unlinkd::adapters
