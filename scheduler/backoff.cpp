#include "scheduler/backoff.hpp"

#include <algorithm>

namespace unlinkd::scheduler {

std::chrono::milliseconds retry_backoff(std::uint32_t attempt, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double unit) {
  // Doubling stops at the cap; the shift stays far from overflow.
  auto ceiling = initial;
  for (std::uint32_t i = 1; i < attempt && ceiling < max; ++i) {
    ceiling *= 2;
  }
  ceiling = std::min(ceiling, max);
  const double u = std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(u * static_cast<double>(ceiling.count())));
}

std::chrono::milliseconds verify_poll_interval(std::chrono::milliseconds since_unlink,
                                               std::chrono::milliseconds initial) {
  constexpr std::chrono::milliseconds longest{60'000};
  return std::clamp(since_unlink / 4, std::min(initial, longest), longest);
}

}  // namespace unlinkd::scheduler
