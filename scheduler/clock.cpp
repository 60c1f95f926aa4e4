#include "scheduler/clock.hpp"

namespace unlinkd::scheduler {

namespace {

// Virtual time's state. Only tests set it, from the thread that runs their
// io_context, so it needs no synchronisation.
struct virtual_state {
  bool active = false;
  clock::time_point now{};
  std::chrono::system_clock::time_point utc{};
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
  return state.active ? clock::duration::zero() : d;
}

clock::duration clock_wait_traits::to_wait_duration(const clock::time_point& t) {
  return state.active ? clock::duration::zero() : t - clock::now();
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
                 clock::duration limit, clock::duration step) {
  const auto end = clock::now() + limit;
  io.restart();
  while (!done() && clock::now() < end) {
    if (io.poll() == 0) {
      if (io.stopped()) {
        io.restart();
      }
      virtual_time::advance(step);
    }
  }
  return done();
}

}  // namespace unlinkd::scheduler
