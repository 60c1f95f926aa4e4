#pragma once
// "What runs next" for one account (PRODUCT.md §3 and §5), as pure functions
// of the stored account, its batch's policy, the step's result and the time:
// no I/O, so every rule (the backup gate, campaigns recorded before pausing,
// the unlink intent before the call, a resend only after an unknown outcome
// and verify_deadline, at most max_unlink_sends, retries and their caps) has its
// own unit test. The account runner commits what these return.
#include <optional>
#include <string>
#include <utility>

#include "scheduler/batch_policy.hpp"
#include "scheduler/step_report.hpp"
#include "store/account_record.hpp"
#include "store/transition.hpp"

namespace unlinkd::scheduler {

// The most unlinks sent for one account whose replies were lost: the first,
// and a resend each time verify still reads the relationship after
// verify_deadline. A resend is itself an unlink whose reply can be lost, so
// it gets the same rule, but not forever: an API that keeps losing the
// replies of unlinks that never take ends in a failure a person can check.
// Sends the API refused do not count (nothing of them was applied).
inline constexpr std::uint32_t max_unlink_sends = 3;

struct decision {
  explicit decision(store::transition t) : transition(std::move(t)) {}
  store::transition transition;  // release_claim false: the runner goes on with the account
  // A credential error: hold the batch's profile, with this for the operator.
  std::optional<std::string> hold_reason;
  // Send the unlink once more now; `transition` records the new intent first.
  bool resend_unlink = false;
};

// The step a claimed account runs (pending accounts start at preflight).
store::pipeline_step step_to_run(const store::account_record& a);

// Before the unlink call: either the intent to record (then send), or, when
// an earlier intent has no answer (a crash after sending, or a lost reply),
// the move to verify without sending: that unlink's outcome is unknown.
struct unlink_start {
  store::transition transition;
  bool send = false;
};
unlink_start begin_unlink(const store::account_record& a, store::time_point now);

// After a step: where the account goes. `unit` in [0, 1) is the jitter draw.
decision decide(const store::account_record& a, const batch_policy& p, const step_report& r,
                store::time_point now, double unit);

// `t` as the store applies it, so the runner's copy of the account stays
// equal to the stored one without reading it back.
void apply(store::account_record& a, const store::transition& t);

// The state an account is in while at `step`.
store::account_state state_of(store::pipeline_step step);

// The transition that moves an account to `step`'s state with fresh attempts.
store::transition enter_step(const store::account_record& a, store::pipeline_step step,
                             store::time_point now);

}  // namespace unlinkd::scheduler
