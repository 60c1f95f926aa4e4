#pragma once
// Eventual consistency (SANDBOX_API.md §1.10, --visibility-delay): a write is
// checked against and applied to the authoritative state at once, so its own
// answer is the truth of that instant; the reads see it only `delay` later,
// as the real API's reads lag its writes (by minutes, at times).
//
// The view is a second copy of the world that replays every applied write
// when it becomes due, in the order the writes were applied: a write is
// never visible before an earlier one, even when the delay is drawn at
// random from a range. Replaying the write endpoint on the lagging copy gives
// it exactly the change the authoritative state got, because a write's
// effect depends only on the state it finds and that state, lagging, is the
// one the authoritative state had when the write came.
//
// With no delay the view holds no copy and the reads use the authoritative
// state itself.
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

#include "sandbox/api_call.hpp"
#include "sandbox/endpoints.hpp"
#include "sandbox/fault_plan.hpp"
#include "sandbox/sandbox_state.hpp"

namespace unlinkd::sandbox {

// Fixed when min == max; otherwise drawn uniformly from [min, max] per write,
// from the --seed.
struct visibility_delay {
  std::chrono::milliseconds min{0};
  std::chrono::milliseconds max{0};
  [[nodiscard]] bool enabled() const { return max.count() > 0; }
};

class delayed_view {
 public:
  using mono_time = std::chrono::steady_clock::time_point;

  delayed_view(const sandbox_state& initial, visibility_delay delay, std::uint64_t seed);

  [[nodiscard]] bool enabled() const { return delay_.enabled(); }
  [[nodiscard]] const visibility_delay& delay() const { return delay_; }
  // The world the reads see at `now`: every write due by then replayed.
  // Only when enabled().
  sandbox_state& visible_at(mono_time now);
  // A write `e` that the authoritative state applied at `now`.
  void record(const endpoint& e, request_params params, access_token caller, mono_time now);
  // Back to `initial` with nothing pending (POST /_sandbox/reset).
  void reset(const sandbox_state& initial);
  [[nodiscard]] std::size_t pending() const { return pending_.size(); }

 private:
  struct pending_write {
    mono_time visible_at;
    const endpoint* e;
    request_params params;
    access_token caller;
  };

  visibility_delay delay_;
  std::uint64_t seed_;
  fault_random random_;
  std::optional<sandbox_state> visible_;
  std::deque<pending_write> pending_;
  mono_time last_visible_at_{};
};

}  // namespace unlinkd::sandbox
