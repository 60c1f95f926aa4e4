#pragma once
// The one clock the scheduler and the rate gate read, and the timer type that
// waits on it. In production it is std::chrono::steady_clock (and the system
// clock for the UTC day). A test switches it to virtual time with
// `virtual_time`, then drives the io_context with `run_virtual`: whenever no
// handler is ready, time jumps to the next timer's expiry, so an hour of
// budget-bound scheduling runs in a moment and nothing sleeps.
//
// Why a static clock rather than an object passed around: Asio's timers take
// the clock as a type (basic_waitable_timer<Clock>), and a timer is how a
// coroutine waits. The switch is for tests only, on one thread.
#include <chrono>
#include <functional>

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>

namespace unlinkd::scheduler {

struct clock {
  using duration = std::chrono::steady_clock::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<clock, duration>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept;
  // Wall-clock time (for the UTC day of the daily quota), virtual in tests.
  static std::chrono::system_clock::time_point utc_now() noexcept;
  [[nodiscard]] static bool is_virtual() noexcept;
};

// Real time: waits as long as asked. Virtual time: never blocks in the
// reactor; run_virtual() moves time instead.
struct clock_wait_traits {
  static clock::duration to_wait_duration(const clock::duration& d);
  static clock::duration to_wait_duration(const clock::time_point& t);
};

using timer = boost::asio::basic_waitable_timer<clock, clock_wait_traits>;

// Switches the clock to virtual time for its lifetime (tests, one thread).
class virtual_time {
 public:
  explicit virtual_time(std::chrono::system_clock::time_point utc_start =
                            std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} +
                            std::chrono::hours(12));
  virtual_time(const virtual_time&) = delete;
  virtual_time& operator=(const virtual_time&) = delete;
  ~virtual_time();

  static void advance(clock::duration d);
};

// Runs `io` in virtual time until `done()` or `limit` of virtual time has
// passed; returns done(). Each turn runs every ready handler; when none is
// ready and `busy()` (work on another thread that will post back, such as a
// store commit) is false, time jumps to the next timer's expiry (at most
// `max_jump` ahead, at least `step`). While busy, time stands still and
// the thread waits a moment in real time.
bool run_virtual(boost::asio::io_context& io, const std::function<bool()>& done,
                 clock::duration limit, const std::function<bool()>& busy = {},
                 clock::duration step = std::chrono::milliseconds(1),
                 clock::duration max_jump = std::chrono::seconds(1));

}  // namespace unlinkd::scheduler
