#pragma once
// One app's API budget as the daemon keeps it (PRODUCT.md §5), without I/O:
// every question carries the time it is asked at, so the rules are tested in
// virtual time and the async gate (budget_gate) only waits and wakes.
//
// - Sliding windows: at most qps calls in any 1-second window and qpm in any
//   60-second window, qpd per UTC day; /report/task/create/ also 2/s, 60/min
//   and 4,500/day. The API counts a call when it arrives, a little after the
//   gate let it go, and arrival delays differ from call to call; so the gate
//   keeps each window `margin` wider than the API's (default 20 ms: 2% of
//   the 1-s budget) and the API never sees two calls closer than we sent them.
// - Cooldown: a rate-limited answer freezes the bucket for 1 s, or 60 s when
//   the previous one was less than a minute earlier; the daily quota freezes
//   it until 00:00 UTC. After a freeze one probe call goes alone; its answer
//   decides between full rate and a longer freeze.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string_view>

#include "adapters/rate_gate.hpp"
#include "config/credentials.hpp"
#include "scheduler/clock.hpp"

namespace unlinkd::scheduler {

struct bucket_tuning {
  clock::duration margin = std::chrono::milliseconds(20);
  clock::duration first_cooldown = std::chrono::seconds(1);
  clock::duration repeated_cooldown = std::chrono::seconds(60);
  clock::duration repeat_window = std::chrono::seconds(60);  // "repeats within a minute"
};

class app_bucket {
 public:
  using utc_time = std::chrono::system_clock::time_point;

  explicit app_bucket(config::rate_limits limits, bucket_tuning tuning = {});

  // The earliest time (>= now) a call to `endpoint` may be sent;
  // clock::time_point::max() while a probe call awaits its answer.
  [[nodiscard]] clock::time_point next_slot(std::string_view endpoint, clock::time_point now,
                                            utc_time utc);
  // Counts a call sent at `now` (callers ask next_slot first).
  void take(std::string_view endpoint, clock::time_point now, utc_time utc);
  // What the API answered to a call this bucket let through.
  void on_answer(adapters::gate_answer answer, clock::time_point now, utc_time utc);

  void set_limits(config::rate_limits limits) { limits_ = limits; }
  [[nodiscard]] const config::rate_limits& limits() const { return limits_; }

  struct counters {
    std::uint64_t taken = 0;
    std::uint64_t rate_limited = 0;  // answers that froze the bucket
    std::uint64_t cooldowns = 0;
    std::uint64_t probes = 0;
  };
  [[nodiscard]] const counters& stats() const { return stats_; }
  [[nodiscard]] bool frozen(clock::time_point now) const { return now < frozen_until_; }

 private:
  struct windows {
    std::deque<clock::time_point> second;
    std::deque<clock::time_point> minute;
    std::int64_t day = 0;  // days since the epoch, UTC
    std::uint64_t day_count = 0;
  };
  struct window_limits {
    std::uint64_t qps;
    std::uint64_t qpm;
    std::uint64_t qpd;
  };
  [[nodiscard]] clock::time_point window_slot(windows& w, const window_limits& l,
                                              clock::time_point now, utc_time utc) const;
  static void record(windows& w, clock::time_point now, utc_time utc);

  config::rate_limits limits_;
  bucket_tuning tuning_;
  windows app_;
  windows report_create_;
  clock::time_point frozen_until_{};
  bool probe_due_ = false;        // the next call after the freeze goes alone
  bool probe_in_flight_ = false;  // ... and nothing else until it is answered
  clock::time_point last_rate_limited_{};
  bool rate_limited_before_ = false;
  counters stats_;
};

}  // namespace unlinkd::scheduler
