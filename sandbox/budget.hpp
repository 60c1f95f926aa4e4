#pragma once
// The budget contract of PRODUCT.md §5 / SANDBOX_API.md §1.9, without I/O or
// clocks of its own: every call to admit() carries the time it happens at.
//
// Per app: at most qps admitted calls in any sliding 1-second window, qpm in
// any sliding 60-second window, qpd per UTC day; /report/task/create/ also at
// most 2 per sliding second, 60 per sliding minute and 4,500 per UTC day per
// app, at every tier. A refused call counts in no window.
//
// Window convention: the window of a call at time t is (t - W, t]. An earlier
// admitted call at t0 is in it when t - t0 < W; a call exactly W after
// another is in a new window. Windows use the monotonic clock; the UTC day
// uses the wall clock (day = floor(seconds since the epoch / 86400)).

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>

namespace unlinkd::sandbox {

struct budget_limits {
  std::uint64_t qps = 10;       // Basic tier
  std::uint64_t qpm = 600;      // Basic tier
  std::uint64_t qpd = 864'000;  // Basic tier
  std::uint64_t report_create_qps = 2;
  std::uint64_t report_create_qpm = 60;
  std::uint64_t report_create_qpd = 4'500;
};

enum class budget_verdict : std::uint8_t {
  admitted,
  over_window,  // a 1-s or 60-s window (the app's or the endpoint's) is full
  over_day,     // the app's UTC-day quota is used up
};

struct app_budget_stats {
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;
  std::uint64_t max_1s = 0;   // most admitted calls seen in any 1-s window
  std::uint64_t max_60s = 0;  // most admitted calls seen in any 60-s window
};

class app_budget {
 public:
  using mono_time = std::chrono::steady_clock::time_point;
  using wall_time = std::chrono::system_clock::time_point;

  explicit app_budget(budget_limits limits = {}) : start_limits_(limits), limits_(limits) {}

  // Decides one call of `app_id` at `now` (monotonic) and `utc_now` (wall);
  // an admitted call is counted, a refused one only in the refused stat.
  // `now` must not go backwards between calls.
  budget_verdict admit(const std::string& app_id, bool report_create, mono_time now,
                       wall_time utc_now);

  // The default limits, for every app without limits of its own.
  [[nodiscard]] const budget_limits& limits() const { return limits_; }
  // The limits that apply to `app_id`: its own, or the default.
  [[nodiscard]] const budget_limits& limits_for(const std::string& app_id) const;
  // Apps with limits of their own (set_app_limits).
  [[nodiscard]] const std::map<std::string, budget_limits>& app_limits() const {
    return overrides_;
  }
  // Changes limits at run time; the windows and counts already seen stay, so
  // a lower limit applies from the next call on. The caller validates.
  void set_default_limits(const budget_limits& limits) { limits_ = limits; }
  void set_app_limits(const std::string& app_id, const budget_limits& limits) {
    overrides_[app_id] = limits;
  }
  // Back to the limits given to the constructor, no app of its own.
  void reset_limits() {
    limits_ = start_limits_;
    overrides_.clear();
  }
  [[nodiscard]] std::map<std::string, app_budget_stats> stats() const;
  void reset() { apps_.clear(); }

 private:
  struct app_state {
    std::deque<mono_time> last_second;  // admitted calls, at most qps
    std::deque<mono_time> last_minute;  // admitted calls, at most qpm
    std::deque<mono_time> report_create_last_second;
    std::deque<mono_time> report_create_last_minute;
    std::int64_t day = 0;
    std::uint64_t day_count = 0;
    std::uint64_t report_create_day_count = 0;
    app_budget_stats stats;
  };

  budget_limits start_limits_;
  budget_limits limits_;
  std::map<std::string, budget_limits> overrides_;
  std::map<std::string, app_state> apps_;
};

}  // namespace unlinkd::sandbox
