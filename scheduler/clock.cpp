#include "scheduler/clock.hpp"

#include <algorithm>
#include <thread>

namespace unlinkd::scheduler {

namespace {

// Virtual time's state. Only tests set it, from the thread that runs their
// io_context, so it needs no synchronisation.
struct virtual_state {
  bool active = false;
  clock::time_point now{};
  std::chrono::system_clock::time_point utc{};
  // The earliest timer expiry Asio last asked about (it asks whenever the
  // earliest timer changes), so idle time can jump straight to it.
  clock::time_point next_due = clock::time_point::max();
};
virtual_state state;

}  // namespace

clock::time_point clock::now() noexcept {
  if (state.active) {
    return state.now;
  }
  return time_point(std::chrono::steady_clock::now().time_since_epoch());
}

std::chrono::system_clock::time_point clock::utc_now() noexcept {
  return state.active ? state.utc : std::chrono::system_clock::now();
}

bool clock::is_virtual() noexcept { return state.active; }

clock::duration clock_wait_traits::to_wait_duration(const clock::duration& d) {
  if (!state.active) {
    return d;
  }
  state.next_due =
      d < clock::time_point::max() - state.now ? state.now + d : clock::time_point::max();
  return clock::duration::zero();
}

clock::duration clock_wait_traits::to_wait_duration(const clock::time_point& t) {
  if (!state.active) {
    return t - clock::now();
  }
  state.next_due = t;
  return clock::duration::zero();
}

virtual_time::virtual_time(std::chrono::system_clock::time_point utc_start) {
  // Start far from zero so `now - 60s` never goes below the epoch.
  state = {true, clock::time_point(std::chrono::hours(1000)), utc_start};
}

virtual_time::~virtual_time() { state = {}; }

void virtual_time::advance(clock::duration d) {
  state.now += d;
  state.utc += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
}

bool run_virtual(boost::asio::io_context& io, const std::function<bool()>& done,
                 clock::duration limit, const std::function<bool()>& busy, clock::duration step,
                 clock::duration max_jump) {
  const auto end = clock::now() + limit;
  io.restart();
  while (!done() && clock::now() < end) {
    if (io.poll() != 0) {
      continue;
    }
    if (io.stopped()) {
      io.restart();
    }
    if (busy && busy()) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      continue;
    }
    auto jump = step;
    if (state.next_due != clock::time_point::max() && state.next_due > state.now) {
      jump = std::clamp(state.next_due - state.now, step, max_jump);
    }
    virtual_time::advance(jump);
  }
  return done();
}

}  // namespace unlinkd::scheduler
