#include "sandbox/delayed_view.hpp"

#include <algorithm>
#include <utility>

namespace unlinkd::sandbox {

delayed_view::delayed_view(const sandbox_state& initial, visibility_delay delay, std::uint64_t seed)
    : delay_(delay), seed_(seed), random_(seed) {
  if (delay_.enabled()) {
    visible_ = initial;
  }
}

sandbox_state& delayed_view::visible_at(mono_time now) {
  // The replay's own counts are thrown away: the authoritative state counted
  // the write when it was applied.
  mutation_stats replay_counts;
  while (!pending_.empty() && pending_.front().visible_at <= now) {
    pending_write& w = pending_.front();
    api_call call{*visible_, w.caller, w.params, replay_counts};
    (void)w.e->handle(call);
    pending_.pop_front();
  }
  return *visible_;
}

void delayed_view::record(const endpoint& e, request_params params, access_token caller,
                          mono_time now) {
  if (!enabled()) {
    return;
  }
  auto delay = delay_.min;
  if (delay_.max > delay_.min) {
    const auto span = static_cast<std::uint64_t>((delay_.max - delay_.min).count()) + 1;
    delay += std::chrono::milliseconds(random_.next() % span);
  }
  // Never before an earlier write: changes become visible in the order applied.
  last_visible_at_ = std::max(last_visible_at_, now + delay);
  pending_.push_back({last_visible_at_, &e, std::move(params), std::move(caller)});
}

void delayed_view::reset(const sandbox_state& initial) {
  pending_.clear();
  random_ = fault_random(seed_);
  last_visible_at_ = {};
  if (enabled()) {
    visible_ = initial;
  }
}

}  // namespace unlinkd::sandbox
