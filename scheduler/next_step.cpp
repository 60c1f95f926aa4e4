#include "scheduler/next_step.hpp"

#include <chrono>

#include "adapters/call_estimate.hpp"
#include "scheduler/backoff.hpp"

namespace unlinkd::scheduler {

namespace {

using adapters::error_class;
using store::account_state;
using store::pipeline_step;

}  // namespace

account_state state_of(pipeline_step s) {
  switch (s) {
    case pipeline_step::preflight:
      return account_state::preflight;
    case pipeline_step::backup:
      return account_state::backup;
    case pipeline_step::pause:
      return account_state::pause;
    case pipeline_step::unlink:
      return account_state::unlink;
    case pipeline_step::verify:
      return account_state::verify;
  }
  return account_state::preflight;
}

namespace {

// A transition from the account's current state, fenced on it.
store::transition from(const store::account_record& a) {
  store::transition t;
  t.batch_id = a.batch_id;
  t.account_id = a.settings.id;
  t.expected = a.state;
  t.to = a.state;
  t.step = a.step;
  return t;
}

std::string duration_text(std::chrono::milliseconds d) {
  using namespace std::chrono;
  if (d % hours(1) == milliseconds(0)) {
    return std::to_string(d / hours(1)) + "h";
  }
  if (d % minutes(1) == milliseconds(0)) {
    return std::to_string(d / minutes(1)) + "m";
  }
  if (d % seconds(1) == milliseconds(0)) {
    return std::to_string(d / seconds(1)) + "s";
  }
  return std::to_string(d.count()) + "ms";
}

decision fail(const store::account_record& a, pipeline_step step, store::account_error error,
              std::string detail) {
  decision d{from(a)};
  d.transition.to = account_state::failed;
  d.transition.step = step;
  if (error.message.empty()) {
    error.message = detail;  // not the API's words: the report's reason is ours
  }
  d.transition.last_error = std::move(error);
  d.transition.event = {"failed", std::move(detail), std::nullopt};
  return d;
}

store::account_error error_of(const adapters::api_error& e) {
  return {e.code, e.message, e.request_id};
}

// The step after a successful backup or pause.
decision after_backup_or_pause(const store::account_record& a, const batch_policy& p,
                               pipeline_step done_step, store::time_point now) {
  const bool pause_next = done_step == pipeline_step::backup && !a.campaigns_to_pause.empty();
  if (pause_next) {
    return decision{enter_step(a, pipeline_step::pause, now)};
  }
  if (p.action == config::batch_action::pause) {
    decision d{from(a)};
    d.transition.to = account_state::done;
    d.transition.event = {"done", "action pause: campaigns paused, links kept", std::nullopt};
    return d;
  }
  return decision{enter_step(a, pipeline_step::unlink, now)};
}

decision on_error_kind(const store::account_record& a, const batch_policy& p, const step_report& r,
                       error_class kind, store::time_point now, double unit);

decision on_error(const store::account_record& a, const batch_policy& p, const step_report& r,
                  store::time_point now, double unit) {
  const adapters::api_error& e = *r.error;
  error_class kind = e.kind;
  // Re-running a pause is safe (disabling a disabled campaign changes
  // nothing), so a lost reply there is only a retry. The unlink's is not.
  if (kind == error_class::unknown_outcome && r.step != pipeline_step::unlink) {
    kind = error_class::retryable;
  }
  // A backup that is not required may fail without stopping the offboarding.
  const bool final_failure = kind == error_class::permanent ||
                             (kind == error_class::retryable && a.attempts + 1 >= p.max_attempts);
  if (r.step == pipeline_step::backup && !a.settings.backup.required && final_failure) {
    decision d = after_backup_or_pause(a, p, pipeline_step::backup, now);
    d.transition.last_error = error_of(e);
    d.transition.clear_last_error = false;
    d.transition.event = {
        "backup_skipped",
        "the backup failed (" + e.message + ") and backup.required is false: going on without one",
        std::nullopt};
    return d;
  }
  decision d = on_error_kind(a, p, r, kind, now, unit);
  if (r.step == pipeline_step::unlink && kind != error_class::unknown_outcome && e.code != 0 &&
      a.unlink_intent_at && !a.unlink_sent_at) {
    // The API answered the unlink with a refusal, so nothing of it was
    // applied (a partly applied member list comes as unknown_outcome): the
    // next try sends it again instead of waiting verify_deadline for an
    // outcome that is known, and the refused send does not count as one.
    // This holds for a resend too: the verify before it read the
    // relationship still there after the deadline, and the refused resend
    // changed nothing since (begin_unlink has its next try read first).
    d.transition.clear_unlink_intent = true;
    d.transition.unlink_sends = a.unlink_sends > 0 ? a.unlink_sends - 1 : 0;
  }
  return d;
}

decision on_error_kind(const store::account_record& a, const batch_policy& p, const step_report& r,
                       error_class kind, store::time_point now, double unit) {
  const adapters::api_error& e = *r.error;
  switch (kind) {
    case error_class::unknown_outcome: {
      decision d{from(a)};
      d.transition.to = account_state::verify;
      d.transition.step = pipeline_step::verify;
      d.transition.attempts = 0;
      d.transition.next_attempt_at = now;
      d.transition.last_error = error_of(e);
      d.transition.release_claim = false;
      d.transition.event = {"unlink_outcome_unknown",
                            "the unlink's reply was lost (" + e.message +
                                "); verifying, and sending it again only if the relationship is "
                                "still there after verify_deadline",
                            std::nullopt};
      return d;
    }
    case error_class::rate_limited: {
      // The client normally absorbs these; never an attempt.
      decision d{from(a)};
      d.transition.next_attempt_at = now + std::chrono::seconds(1);
      d.transition.event = {"rate_limited", e.message, std::nullopt};
      return d;
    }
    case error_class::credential: {
      decision d{from(a)};
      d.transition.to = account_state::needs_attention;
      d.transition.step = r.step;
      d.transition.last_error = error_of(e);
      d.transition.event = {"needs_attention", "credential refused: " + e.message, std::nullopt};
      d.hold_reason = "the API refused the credential of profile '" + p.credentials + "' (code " +
                      std::to_string(e.code) + ": " + e.message +
                      "); fix the profile in the credentials file, reload unlinkd, then run "
                      "`unlinkctl resume " +
                      p.name + "`";
      return d;
    }
    case error_class::permanent:
      return fail(a, r.step, error_of(e), e.message);
    case error_class::retryable:
      break;
  }
  const std::uint32_t attempts = a.attempts + 1;
  if (attempts >= p.max_attempts) {
    return fail(a, r.step, error_of(e),
                "gave up after " + std::to_string(attempts) + " attempts: " + e.message);
  }
  decision d{from(a)};
  d.transition.attempts = attempts;
  d.transition.next_attempt_at =
      now + retry_backoff(attempts, p.initial_backoff, p.max_backoff, unit);
  d.transition.last_error = error_of(e);
  d.transition.event = {"retry", e.message, std::nullopt};
  return d;
}

// A dry run ends after preflight with what the real run would do and cost.
decision dry_run_plan(const store::account_record& a, const batch_policy& p, const step_report& r) {
  const adapters::account_job job{p.name, p.business_center_id, a.settings, std::nullopt};
  const auto calls =
      adapters::estimate_calls(job, p.action, {r.api_calls, r.active_campaigns.size(), r.found})
          .total();
  store::account_plan plan;
  plan.action =
      r.found == adapters::relationship::already_gone && p.action == config::batch_action::unlink
          ? "already_unlinked"
      : p.action == config::batch_action::pause ? "pause_campaigns"
                                                : "unlink";
  plan.estimated_api_calls = calls;
  plan.estimated_time = std::chrono::milliseconds{static_cast<std::int64_t>(
      adapters::seconds_at_budget(calls, p.budget_qps, p.budget_qpm) * 1000.0)};
  decision d{from(a)};
  d.transition.to = account_state::done;
  d.transition.campaigns_to_pause = r.active_campaigns;
  d.transition.plan = plan;
  d.transition.event = {
      "plan",
      plan.action == "already_unlinked"
          ? std::string("already unlinked")
          : "would " + std::string(plan.action == "unlink" ? "unlink" : "pause campaigns") +
                " in about " + std::to_string(calls) + " API calls",
      std::nullopt};
  return d;
}

decision after_preflight(const store::account_record& a, const batch_policy& p,
                         const step_report& r, store::time_point now) {
  if (p.dry_run) {
    return dry_run_plan(a, p, r);
  }
  if (r.found == adapters::relationship::already_gone && p.action == config::batch_action::unlink) {
    decision d{enter_step(a, pipeline_step::verify, now)};
    d.transition.event = {"already_unlinked", "the relationship is already gone", std::nullopt};
    return d;
  }
  // action: pause pauses every active campaign, whatever active_campaigns says.
  const bool pausing = p.action == config::batch_action::pause ||
                       a.settings.active_campaigns == config::campaign_policy::pause;
  if (!r.active_campaigns.empty() && !pausing &&
      a.settings.active_campaigns == config::campaign_policy::fail) {
    return fail(a, pipeline_step::preflight, {0, "", ""},
                std::to_string(r.active_campaigns.size()) +
                    " campaigns are active and the manifest says active_campaigns: fail; pause "
                    "them first, or set active_campaigns to pause or ignore");
  }
  decision d{enter_step(a, pipeline_step::backup, now)};
  // Recorded before any pause is sent (PRODUCT.md §3).
  d.transition.campaigns_to_pause = pausing ? r.active_campaigns : std::vector<std::string>{};
  return d;
}

// Send the unlink once more, of what the verify just read still listed,
// recording the intent first. `attempts`: those of refused resends before it.
decision resend(const store::account_record& a, store::time_point now, std::uint32_t attempts) {
  decision d{from(a)};
  d.transition.to = account_state::unlink;
  d.transition.step = pipeline_step::unlink;
  d.transition.attempts = attempts;
  d.transition.unlink_intent_at = now;
  d.transition.unlink_sends = a.unlink_sends + 1;
  d.transition.release_claim = false;
  d.transition.event = {"unlink_resend",
                        "the relationship is still there " +
                            duration_text(a.settings.verify_deadline) +
                            " after an unlink whose reply was lost; sending it once more",
                        std::nullopt};
  d.resend_unlink = true;
  return d;
}

decision after_verify(const store::account_record& a, const batch_policy& p, const step_report& r,
                      store::time_point now) {
  if (r.found == adapters::relationship::already_gone) {
    decision d{from(a)};
    d.transition.to = account_state::done;
    d.transition.clear_last_error = true;
    d.transition.event = {"done", "the relationship is gone", std::nullopt};
    return d;
  }
  if (!a.unlink_intent_at && a.unlink_sends > 0) {
    // A resend the API refused (begin_unlink): its lost send was verified
    // past verify_deadline already, so what this read still lists is sent
    // now.
    return resend(a, now, a.attempts);
  }
  if (!a.unlink_intent_at) {
    // Preflight read it gone and verify reads it back: reads disagree.
    return fail(a, pipeline_step::verify, {0, "", ""},
                "preflight found the relationship gone but verify finds it; check it by hand");
  }
  const auto deadline = *a.unlink_intent_at + a.settings.verify_deadline;
  if (now < deadline) {
    decision d{from(a)};
    const auto since =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - *a.unlink_intent_at);
    d.transition.next_attempt_at = now + verify_poll_interval(since, p.initial_backoff);
    return d;
  }
  if (!a.unlink_sent_at && a.unlink_sends < max_unlink_sends) {
    // The unlink's outcome was unknown and the deadline proved it did not
    // take: send it once more.
    return resend(a, now, 0);
  }
  return fail(a, pipeline_step::verify, {0, "", ""},
              "the relationship is still there " + duration_text(a.settings.verify_deadline) +
                  " (verify_deadline) after the unlink" +
                  (a.unlink_sent_at ? " the API accepted" : "s whose replies were lost") +
                  "; check it in TikTok Business Center");
}

}  // namespace

void apply(store::account_record& a, const store::transition& t) {
  a.state = t.to;
  a.step = t.step;
  if (t.attempts) {
    a.attempts = *t.attempts;
  }
  if (t.next_attempt_at) {
    a.next_attempt_at = *t.next_attempt_at;
  }
  if (t.clear_last_error) {
    a.last_error.reset();
  }
  if (t.last_error) {
    a.last_error = t.last_error;
  }
  if (t.backup) {
    a.backup = t.backup;
  }
  if (t.campaigns_to_pause) {
    a.campaigns_to_pause = *t.campaigns_to_pause;
  }
  if (t.campaigns_paused) {
    a.campaigns_paused = *t.campaigns_paused;
  }
  if (t.clear_unlink_intent) {
    a.unlink_intent_at.reset();
  } else if (t.unlink_intent_at) {
    a.unlink_intent_at = t.unlink_intent_at;
  }
  if (t.unlink_sent_at) {
    a.unlink_sent_at = t.unlink_sent_at;
  }
  if (t.unlink_sends) {
    a.unlink_sends = *t.unlink_sends;
  }
  a.api_calls += t.api_calls;
  if (t.plan) {
    a.plan = t.plan;
  }
}

store::pipeline_step step_to_run(const store::account_record& a) {
  switch (a.state) {
    case account_state::pending:
      return pipeline_step::preflight;
    case account_state::preflight:
    case account_state::backup:
    case account_state::pause:
    case account_state::unlink:
    case account_state::verify:
    default:
      return a.step;
  }
}

store::transition enter_step(const store::account_record& a, pipeline_step step,
                             store::time_point now) {
  store::transition t = from(a);
  t.to = state_of(step);
  t.step = step;
  t.attempts = 0;
  t.next_attempt_at = now;
  t.clear_last_error = true;
  t.release_claim = false;
  t.event = {"step", std::string(store::to_string(step)), std::nullopt};
  return t;
}

unlink_start begin_unlink(const store::account_record& a, store::time_point now) {
  // The backup gate (PRODUCT.md §3): the last check before the only call
  // that loses access, whatever path led here.
  if (a.settings.backup.required && (!a.backup || a.backup->digest.empty())) {
    store::transition t = from(a);
    t.to = account_state::failed;
    t.step = pipeline_step::unlink;
    std::string why =
        "refused to unlink: backup.required is true and no verified backup of this account is "
        "recorded";
    t.last_error = store::account_error{0, why, ""};
    t.event = {"failed", std::move(why), std::nullopt};
    return {std::move(t), false};
  }
  if (a.unlink_intent_at && !a.unlink_sent_at) {
    // Sent before, never answered: never resend blindly (PRODUCT.md §3).
    store::transition t = enter_step(a, pipeline_step::verify, now);
    t.clear_last_error = false;
    t.event = {"unlink_outcome_unknown",
               "an unlink was recorded as sent but has no answer; verifying before anything "
               "else",
               std::nullopt};
    return {std::move(t), false};
  }
  if (a.unlink_sends > 0) {
    // No intent, yet a send counted: one was lost and verified not taken,
    // and its resend was refused. Verify reads what is still listed, and
    // only that is sent (the lost send may have removed part of a member
    // list); the refused tries keep counting as attempts.
    store::transition t = from(a);
    t.to = account_state::verify;
    t.step = pipeline_step::verify;
    t.next_attempt_at = now;
    t.release_claim = false;
    t.event = {"unlink_resend_refused",
               "the resend was refused; reading what is still listed before sending it again",
               std::nullopt};
    return {std::move(t), false};
  }
  store::transition t = from(a);
  t.unlink_intent_at = now;
  t.unlink_sends = a.unlink_sends + 1;
  t.release_claim = false;
  t.event = {"unlink_intent", "recorded before the unlink call", std::nullopt};
  return {std::move(t), true};
}

namespace {

decision decide_step(const store::account_record& a, const batch_policy& p, const step_report& r,
                     store::time_point now, double unit) {
  if (r.error) {
    return on_error(a, p, r, now, unit);
  }
  switch (r.step) {
    case pipeline_step::preflight:
      return after_preflight(a, p, r, now);
    case pipeline_step::backup: {
      decision d = after_backup_or_pause(a, p, pipeline_step::backup, now);
      d.transition.backup = store::backup_record{r.backup_folder, r.backup_digest};
      return d;
    }
    case pipeline_step::pause: {
      decision d = after_backup_or_pause(a, p, pipeline_step::pause, now);
      d.transition.campaigns_paused = r.paused;
      return d;
    }
    case pipeline_step::unlink: {
      decision d{enter_step(a, pipeline_step::verify, now)};
      d.transition.unlink_sent_at = now;
      return d;
    }
    case pipeline_step::verify:
      return after_verify(a, p, r, now);
  }
  return fail(a, r.step, {0, "", ""}, "unknown step");
}

}  // namespace

decision decide(const store::account_record& a, const batch_policy& p, const step_report& r,
                store::time_point now, double unit) {
  decision d = decide_step(a, p, r, now, unit);
  d.transition.api_calls = r.api_calls;  // the report's "API calls made"
  return d;
}

}  // namespace unlinkd::scheduler
