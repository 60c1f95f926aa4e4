#pragma once
// The waits between tries, as pure functions (PRODUCT.md §5).
#include <chrono>
#include <cstdint>

namespace unlinkd::scheduler {

// Exponential backoff with full jitter: a wait drawn uniformly from
// [0, min(max, initial * 2^(attempt - 1))], `unit` in [0, 1) being the draw.
// Full jitter spreads retries of many accounts that failed together.
std::chrono::milliseconds retry_backoff(std::uint32_t attempt, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double unit);

// How long verify waits before reading the relationship again, given how
// long ago the unlink was sent: a quarter of that, at least `initial`, at most
// a minute. Reads lag writes by seconds to minutes, so early polls are close
// together and later ones spare the budget.
std::chrono::milliseconds verify_poll_interval(std::chrono::milliseconds since_unlink,
                                               std::chrono::milliseconds initial);

}  // namespace unlinkd::scheduler
