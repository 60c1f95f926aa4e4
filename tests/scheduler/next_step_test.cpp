// The pipeline's rules (PRODUCT.md §3, §5) as pure decisions, one test per
// rule: the backup gate, campaigns recorded before pausing, the intent
// before the unlink, resends only after verify_deadline and at most
// max_unlink_sends,
// retries and caps, credential holds, dry runs and `action: pause`.
#include "scheduler/next_step.hpp"

#include <chrono>

#include <gtest/gtest.h>

#include "scheduler/backoff.hpp"

namespace unlinkd::scheduler {
namespace {

using namespace std::chrono_literals;
using adapters::api_error;
using adapters::error_class;
using adapters::relationship;
using store::account_state;
using store::pipeline_step;

class next_step_test : public ::testing::Test {
 protected:
  next_step_test() {
    account_.batch_id = 7;
    account_.settings.id = "7123456789012345678";
    account_.settings.mode = config::unlink_mode::partner_share;
    account_.settings.partner_id = "7099999999999999999";
    account_.settings.active_campaigns = config::campaign_policy::pause;
    policy_.batch_id = 7;
    policy_.name = "acme";
    policy_.credentials = "acme-bc";
  }

  store::account_record at(account_state s, pipeline_step step) const {
    auto a = account_;
    a.state = s;
    a.step = step;
    return a;
  }

  static step_report ok(pipeline_step step) {
    step_report r;
    r.step = step;
    return r;
  }
  static step_report failed(pipeline_step step, error_class kind, std::int64_t code = 50002) {
    step_report r;
    r.step = step;
    r.error = api_error{kind, code, 200, "the API said no", "2026112612000000ABCDEF"};
    return r;
  }

  store::account_record account_;
  batch_policy policy_;
  const store::time_point now_ = std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + 12h;
};

TEST_F(next_step_test, a_pending_account_starts_at_preflight) {
  EXPECT_EQ(step_to_run(at(account_state::pending, pipeline_step::preflight)),
            pipeline_step::preflight);
  EXPECT_EQ(step_to_run(at(account_state::verify, pipeline_step::verify)), pipeline_step::verify);
}

TEST_F(next_step_test, preflight_records_the_campaigns_to_pause_before_any_pause) {
  auto r = ok(pipeline_step::preflight);
  r.active_campaigns = {"1", "2"};
  const auto d =
      decide(at(account_state::preflight, pipeline_step::preflight), policy_, r, now_, 0);
  EXPECT_EQ(d.transition.to, account_state::backup);
  ASSERT_TRUE(d.transition.campaigns_to_pause.has_value());
  EXPECT_EQ(*d.transition.campaigns_to_pause, (std::vector<std::string>{"1", "2"}));
  EXPECT_FALSE(d.transition.release_claim) << "the backup starts at once";
}

TEST_F(next_step_test, active_campaigns_fail_stops_the_account_with_a_reason) {
  account_.settings.active_campaigns = config::campaign_policy::fail;
  auto r = ok(pipeline_step::preflight);
  r.active_campaigns = {"1"};
  const auto d =
      decide(at(account_state::preflight, pipeline_step::preflight), policy_, r, now_, 0);
  EXPECT_EQ(d.transition.to, account_state::failed);
  EXPECT_NE(d.transition.event.detail.find("active_campaigns: fail"), std::string::npos);
}

TEST_F(next_step_test, active_campaigns_ignore_goes_on_without_pausing) {
  account_.settings.active_campaigns = config::campaign_policy::ignore;
  auto r = ok(pipeline_step::preflight);
  r.active_campaigns = {"1"};
  const auto d =
      decide(at(account_state::preflight, pipeline_step::preflight), policy_, r, now_, 0);
  EXPECT_EQ(d.transition.to, account_state::backup);
  EXPECT_TRUE(d.transition.campaigns_to_pause->empty());
}

TEST_F(next_step_test, an_account_already_unlinked_goes_straight_to_verify) {
  auto r = ok(pipeline_step::preflight);
  r.found = relationship::already_gone;
  const auto d =
      decide(at(account_state::preflight, pipeline_step::preflight), policy_, r, now_, 0);
  EXPECT_EQ(d.transition.to, account_state::verify);
}

TEST_F(next_step_test, a_dry_run_ends_after_preflight_with_a_plan) {
  policy_.dry_run = true;
  auto r = ok(pipeline_step::preflight);
  r.active_campaigns = {"1"};
  const auto d =
      decide(at(account_state::preflight, pipeline_step::preflight), policy_, r, now_, 0);
  EXPECT_EQ(d.transition.to, account_state::done);
  EXPECT_EQ(d.transition.event.kind, "plan");
  ASSERT_TRUE(d.transition.plan.has_value());
  EXPECT_EQ(d.transition.plan->action, "unlink");
  EXPECT_EQ(d.transition.plan->estimated_time, std::chrono::milliseconds{0})
      << "no budget known, no time";

  policy_.budget_qps = 50;
  policy_.budget_qpm = 1'200;  // 20 a second: the minute is the tighter limit
  r.api_calls = 2;
  const auto timed =
      decide(at(account_state::preflight, pipeline_step::preflight), policy_, r, now_, 0);
  ASSERT_TRUE(timed.transition.plan.has_value());
  EXPECT_EQ(timed.transition.api_calls, 2U);
  EXPECT_EQ(timed.transition.plan->estimated_time,
            std::chrono::milliseconds{50 * timed.transition.plan->estimated_api_calls});

  r.found = adapters::relationship::already_gone;
  const auto gone =
      decide(at(account_state::preflight, pipeline_step::preflight), policy_, r, now_, 0);
  ASSERT_TRUE(gone.transition.plan.has_value());
  EXPECT_EQ(gone.transition.plan->action, "already_unlinked");
  EXPECT_EQ(gone.transition.plan->estimated_api_calls, 3U) << "preflight again, then one verify";
}

TEST_F(next_step_test, after_the_backup_come_pause_then_unlink) {
  auto a = at(account_state::backup, pipeline_step::backup);
  a.campaigns_to_pause = {"1"};
  auto r = ok(pipeline_step::backup);
  r.backup_folder = "/var/lib/unlinkd/backups/acme/7123456789012345678";
  r.backup_digest = "ab";
  auto d = decide(a, policy_, r, now_, 0);
  EXPECT_EQ(d.transition.to, account_state::pause);
  ASSERT_TRUE(d.transition.backup.has_value());
  EXPECT_EQ(d.transition.backup->digest, "ab");

  a.campaigns_to_pause.clear();
  d = decide(a, policy_, r, now_, 0);
  EXPECT_EQ(d.transition.to, account_state::unlink) << "nothing to pause";

  auto p = at(account_state::pause, pipeline_step::pause);
  auto paused = ok(pipeline_step::pause);
  paused.paused = {"1"};
  d = decide(p, policy_, paused, now_, 0);
  EXPECT_EQ(d.transition.to, account_state::unlink);
  EXPECT_EQ(*d.transition.campaigns_paused, (std::vector<std::string>{"1"}));
}

TEST_F(next_step_test, action_pause_pauses_every_active_campaign_and_stops_there) {
  policy_.action = config::batch_action::pause;
  account_.settings.active_campaigns = config::campaign_policy::fail;
  auto r = ok(pipeline_step::preflight);
  r.active_campaigns = {"1", "2"};
  auto d = decide(at(account_state::preflight, pipeline_step::preflight), policy_, r, now_, 0);
  EXPECT_EQ(d.transition.to, account_state::backup);
  EXPECT_EQ(d.transition.campaigns_to_pause->size(), 2U);
  d = decide(at(account_state::pause, pipeline_step::pause), policy_, ok(pipeline_step::pause),
             now_, 0);
  EXPECT_EQ(d.transition.to, account_state::done);
}

TEST_F(next_step_test, the_backup_gate_refuses_an_unlink_without_a_recorded_backup) {
  const auto start = begin_unlink(at(account_state::unlink, pipeline_step::unlink), now_);
  EXPECT_FALSE(start.send);
  EXPECT_EQ(start.transition.to, account_state::failed);
  EXPECT_NE(start.transition.event.detail.find("no verified backup"), std::string::npos);
  ASSERT_TRUE(start.transition.last_error.has_value()) << "the report's reason";
  EXPECT_NE(start.transition.last_error->message.find("no verified backup"), std::string::npos);
}

TEST_F(next_step_test, without_a_required_backup_the_unlink_may_go) {
  account_.settings.backup.required = false;
  EXPECT_TRUE(begin_unlink(at(account_state::unlink, pipeline_step::unlink), now_).send);
}

TEST_F(next_step_test, the_intent_is_recorded_before_the_unlink_is_sent) {
  account_.backup = store::backup_record{"/b", "ab"};
  const auto start = begin_unlink(at(account_state::unlink, pipeline_step::unlink), now_);
  ASSERT_TRUE(start.send);
  EXPECT_EQ(start.transition.unlink_intent_at, now_);
  EXPECT_EQ(start.transition.unlink_sends, 1U);
  EXPECT_EQ(start.transition.expected, account_state::unlink);
  EXPECT_FALSE(start.transition.release_claim);
}

TEST_F(next_step_test, an_intent_without_an_answer_goes_to_verify_and_is_never_resent_blindly) {
  account_.backup = store::backup_record{"/b", "ab"};
  auto a = at(account_state::unlink, pipeline_step::unlink);
  a.unlink_intent_at = now_ - 5s;  // sent, then the daemon crashed
  a.unlink_sends = 1;
  const auto start = begin_unlink(a, now_);
  EXPECT_FALSE(start.send);
  EXPECT_EQ(start.transition.to, account_state::verify);
}

TEST_F(next_step_test, a_lost_unlink_reply_goes_to_verify) {
  auto a = at(account_state::unlink, pipeline_step::unlink);
  a.unlink_intent_at = now_;
  a.unlink_sends = 1;
  const auto d =
      decide(a, policy_, failed(pipeline_step::unlink, error_class::unknown_outcome, 0), now_, 0);
  EXPECT_EQ(d.transition.to, account_state::verify);
  EXPECT_FALSE(d.transition.unlink_sent_at.has_value());
}

TEST_F(next_step_test, an_unlink_the_api_refused_is_sent_again_without_waiting_for_verify) {
  account_.backup = store::backup_record{"/b", "ab"};
  auto a = at(account_state::unlink, pipeline_step::unlink);
  a.unlink_intent_at = now_;
  a.unlink_sends = 1;
  // Answered with a code: nothing applied, so the intent is not an unknown.
  for (const auto kind : {error_class::retryable, error_class::credential,
                          error_class::rate_limited, error_class::permanent}) {
    const auto d = decide(a, policy_, failed(pipeline_step::unlink, kind, 40105), now_, 0);
    EXPECT_TRUE(d.transition.clear_unlink_intent) << static_cast<int>(kind);
    EXPECT_EQ(d.transition.unlink_sends, 0U) << "a refused send does not count";
    auto after = a;
    apply(after, d.transition);
    EXPECT_FALSE(after.unlink_intent_at.has_value());
  }
  auto retried = a;
  apply(retried, decide(a, policy_, failed(pipeline_step::unlink, error_class::retryable), now_, 0)
                     .transition);
  const auto start = begin_unlink(retried, now_ + 1s);
  EXPECT_TRUE(start.send) << "sent again, not sent to verify";
  EXPECT_EQ(start.transition.unlink_sends, 1U);
}

TEST_F(next_step_test, a_refusal_without_an_api_answer_keeps_the_intent) {
  auto a = at(account_state::unlink, pipeline_step::unlink);
  a.unlink_intent_at = now_;
  a.unlink_sends = 1;
  // HTTP 503 (code 0): the call may have been processed.
  const auto d =
      decide(a, policy_, failed(pipeline_step::unlink, error_class::retryable, 0), now_, 0);
  EXPECT_FALSE(d.transition.clear_unlink_intent);
}

TEST_F(next_step_test, a_refused_resend_is_read_then_sent_again_and_does_not_count) {
  // Found by the reliability suite's Faults scenario: a resend the API
  // answered 50002 went back to verify, waited verify_deadline once more and
  // failed, for a retryable cause.
  account_.backup = store::backup_record{"/b", "ab"};
  auto a = at(account_state::unlink, pipeline_step::unlink);
  a.unlink_intent_at = now_;
  a.unlink_sends = 2;
  const auto d =
      decide(a, policy_, failed(pipeline_step::unlink, error_class::retryable, 50002), now_, 0);
  EXPECT_TRUE(d.transition.clear_unlink_intent);
  EXPECT_EQ(d.transition.unlink_sends, 1U);
  EXPECT_EQ(d.transition.to, account_state::unlink) << "a retry, not a wait for verify_deadline";
  auto retried = a;
  apply(retried, d.transition);
  // The retry reads first: the lost send may have removed part of a list.
  const auto start = begin_unlink(retried, now_ + 1s);
  EXPECT_FALSE(start.send);
  EXPECT_EQ(start.transition.to, account_state::verify);
  EXPECT_EQ(start.transition.attempts, std::nullopt) << "refused tries keep counting";
  apply(retried, start.transition);
  // Still listed: sent at once, no second verify_deadline.
  const auto again = decide(retried, policy_, ok(pipeline_step::verify), now_ + 2s, 0);
  EXPECT_TRUE(again.resend_unlink);
  EXPECT_EQ(again.transition.unlink_sends, 2U);
  EXPECT_EQ(again.transition.attempts, retried.attempts);
  // Gone (the lost send took after all, a lagging read hid it): done.
  auto read_gone = ok(pipeline_step::verify);
  read_gone.found = relationship::already_gone;
  const auto gone = decide(retried, policy_, read_gone, now_ + 2s, 0);
  EXPECT_EQ(gone.transition.to, account_state::done);
}

TEST_F(next_step_test, verify_polls_until_the_deadline_then_resends_after_an_unknown_outcome) {
  auto a = at(account_state::verify, pipeline_step::verify);
  a.unlink_intent_at = now_;
  a.unlink_sends = 1;
  const auto present = ok(pipeline_step::verify);
  // Before the deadline: poll again, never resend.
  for (auto t = now_; t < now_ + 30min; t += 1min) {
    const auto d = decide(a, policy_, present, t, 0);
    ASSERT_FALSE(d.resend_unlink) << "resent before verify_deadline";
    ASSERT_EQ(d.transition.to, account_state::verify);
    ASSERT_GT(*d.transition.next_attempt_at, t);
  }
  const auto d = decide(a, policy_, present, now_ + 30min, 0);
  EXPECT_TRUE(d.resend_unlink);
  EXPECT_EQ(d.transition.to, account_state::unlink);
  EXPECT_EQ(d.transition.unlink_sends, 2U);
  EXPECT_EQ(d.transition.unlink_intent_at, now_ + 30min);

  // The resend's reply was lost too: the same rule, once more.
  a.unlink_sends = 2;
  a.unlink_intent_at = now_ + 30min;
  ASSERT_FALSE(decide(a, policy_, present, now_ + 59min, 0).resend_unlink);
  const auto again = decide(a, policy_, present, now_ + 60min, 0);
  EXPECT_TRUE(again.resend_unlink);
  EXPECT_EQ(again.transition.unlink_sends, max_unlink_sends);

  // After max_unlink_sends lost replies: no further send.
  a.unlink_sends = max_unlink_sends;
  a.unlink_intent_at = now_ + 60min;
  const auto last = decide(a, policy_, present, now_ + 91min, 0);
  EXPECT_FALSE(last.resend_unlink);
  EXPECT_EQ(last.transition.to, account_state::failed);
  EXPECT_NE(last.transition.event.detail.find("replies were lost"), std::string::npos);
}

TEST_F(next_step_test, an_accepted_unlink_still_visible_after_the_deadline_fails_without_resend) {
  auto a = at(account_state::verify, pipeline_step::verify);
  a.unlink_intent_at = now_;
  a.unlink_sent_at = now_;
  a.unlink_sends = 1;
  const auto d = decide(a, policy_, ok(pipeline_step::verify), now_ + 31min, 0);
  EXPECT_FALSE(d.resend_unlink);
  EXPECT_EQ(d.transition.to, account_state::failed);
  EXPECT_NE(d.transition.event.detail.find("verify_deadline"), std::string::npos);
  ASSERT_TRUE(d.transition.last_error.has_value());
  EXPECT_EQ(d.transition.last_error->message, d.transition.event.detail)
      << "a failure of ours still gives the report a reason";
}

TEST_F(next_step_test, verify_done_when_the_relationship_is_gone) {
  auto a = at(account_state::verify, pipeline_step::verify);
  a.unlink_intent_at = now_;
  auto r = ok(pipeline_step::verify);
  r.found = relationship::already_gone;
  EXPECT_EQ(decide(a, policy_, r, now_, 0).transition.to, account_state::done);
}

TEST_F(next_step_test, a_retryable_error_counts_an_attempt_and_backs_off_until_the_cap) {
  auto a = at(account_state::backup, pipeline_step::backup);
  auto d = decide(a, policy_, failed(pipeline_step::backup, error_class::retryable), now_, 0.5);
  EXPECT_EQ(d.transition.to, account_state::backup);
  EXPECT_EQ(d.transition.attempts, 1U);
  EXPECT_EQ(*d.transition.next_attempt_at, now_ + 1s) << "half of the first 2 s";
  EXPECT_TRUE(d.transition.release_claim);
  a.attempts = policy_.max_attempts - 1;
  d = decide(a, policy_, failed(pipeline_step::backup, error_class::retryable), now_, 0.5);
  EXPECT_EQ(d.transition.to, account_state::failed);
  EXPECT_EQ(d.transition.last_error->code, 50002);
  EXPECT_EQ(d.transition.last_error->request_id, "2026112612000000ABCDEF");
}

TEST_F(next_step_test, a_rate_limited_answer_spends_no_attempt) {
  const auto d = decide(at(account_state::backup, pipeline_step::backup), policy_,
                        failed(pipeline_step::backup, error_class::rate_limited, 40100), now_, 0);
  EXPECT_FALSE(d.transition.attempts.has_value());
  EXPECT_EQ(d.transition.to, account_state::backup);
}

TEST_F(next_step_test, a_credential_error_holds_the_profile_and_waits_for_a_person) {
  const auto d = decide(at(account_state::preflight, pipeline_step::preflight), policy_,
                        failed(pipeline_step::preflight, error_class::credential, 40105), now_, 0);
  EXPECT_EQ(d.transition.to, account_state::needs_attention);
  ASSERT_TRUE(d.hold_reason.has_value());
  EXPECT_NE(d.hold_reason->find("unlinkctl resume acme"), std::string::npos);
}

TEST_F(next_step_test, a_permanent_error_fails_with_the_apis_words) {
  const auto d = decide(at(account_state::unlink, pipeline_step::unlink), policy_,
                        failed(pipeline_step::unlink, error_class::permanent, 40002), now_, 0);
  EXPECT_EQ(d.transition.to, account_state::failed);
  EXPECT_EQ(d.transition.step, pipeline_step::unlink);
  EXPECT_EQ(d.transition.last_error->code, 40002);
}

TEST_F(next_step_test, a_backup_that_is_not_required_may_fail_without_stopping_the_account) {
  account_.settings.backup.required = false;
  const auto d = decide(at(account_state::backup, pipeline_step::backup), policy_,
                        failed(pipeline_step::backup, error_class::permanent, 40002), now_, 0);
  EXPECT_EQ(d.transition.to, account_state::unlink);
  EXPECT_EQ(d.transition.event.kind, "backup_skipped");
}

TEST(backoff, full_jitter_stays_under_the_doubling_cap) {
  EXPECT_EQ(retry_backoff(1, 2s, 10min, 0.999999), 1999ms);
  EXPECT_EQ(retry_backoff(3, 2s, 10min, 0.5), 4s);
  EXPECT_EQ(retry_backoff(30, 2s, 10min, 0.5), 5min) << "capped at max_backoff";
  EXPECT_EQ(retry_backoff(5, 2s, 10min, 0.0), 0ms);
}

TEST(backoff, verify_polls_grow_from_the_initial_wait_to_a_minute) {
  EXPECT_EQ(verify_poll_interval(0ms, 2s), 2s);
  EXPECT_EQ(verify_poll_interval(40s, 2s), 10s);
  EXPECT_EQ(verify_poll_interval(20min, 2s), 60s);
}

}  // namespace
}  // namespace unlinkd::scheduler
