// Fenced transitions: a transition that expects the state the account holds
// is applied with every field it sets and logged; a stale one is refused,
// logged, and changes nothing. Batch transitions, holds, audit events, read
// tallies and retention.

#include <gtest/gtest.h>

#include "tests/store/store_test_support.hpp"

namespace unlinkd::store::test {
namespace {

using namespace std::chrono_literals;

class store_transitions : public ::testing::Test {
 protected:
  void SetUp() override {
    store_options o;
    o.clock = clock_.fn();
    o.event_retention = std::chrono::hours{24};
    store_ = open_store(path(), *log_.logger, o);
    auto r = store_->ingest_blocking(make_request(make_manifest("b1", 3, 100)));
    batch_ = std::get<ingest_accepted>(r.value()).batch_id;
  }
  std::string path() const { return dir_.file("unlinkd.db"); }
  transition step(const std::string& id, account_state from, account_state to,
                  pipeline_step at) const {
    transition t;
    t.batch_id = batch_;
    t.account_id = id;
    t.expected = from;
    t.to = to;
    t.step = at;
    return t;
  }
  account_record account(const std::string& id) {
    auto a = run(io_, store_->find_account(batch_, id)).value();
    EXPECT_TRUE(a);
    return a.value_or(account_record{});
  }

  temp_dir dir_;
  captured_log log_;
  manual_clock clock_;
  boost::asio::io_context io_;
  std::unique_ptr<store> store_;
  std::int64_t batch_ = 0;
};

TEST_F(store_transitions, api_calls_add_up_and_the_pipeline_is_timed) {
  const auto started = clock_.now();
  auto t = step("100", account_state::pending, account_state::backup, pipeline_step::backup);
  t.api_calls = 3;
  ASSERT_EQ(run(io_, store_->commit(t)).value(), commit_outcome::applied);
  EXPECT_EQ(account("100").api_calls, 3U);
  EXPECT_EQ(account("100").started_at, started);
  EXPECT_FALSE(account("100").ended_at);

  clock_.advance(10s);
  auto failed = step("100", account_state::backup, account_state::failed, pipeline_step::backup);
  failed.api_calls = 4;
  ASSERT_EQ(run(io_, store_->commit(failed)).value(), commit_outcome::applied);
  auto a = account("100");
  EXPECT_EQ(a.api_calls, 7U);
  EXPECT_EQ(a.started_at, started) << "the first transition's time stays";
  EXPECT_EQ(a.ended_at, started + 10s);

  // retry-failed: running again, no end yet; the calls keep counting.
  clock_.advance(5s);
  auto again = step("100", account_state::failed, account_state::pending, pipeline_step::backup);
  ASSERT_EQ(run(io_, store_->commit(again)).value(), commit_outcome::applied);
  a = account("100");
  EXPECT_EQ(a.api_calls, 7U);
  EXPECT_FALSE(a.ended_at);
}

TEST_F(store_transitions, a_dry_runs_plan_is_stored) {
  auto t = step("101", account_state::pending, account_state::done, pipeline_step::preflight);
  t.plan = account_plan{"unlink", 12, 1200ms};
  ASSERT_EQ(run(io_, store_->commit(t)).value(), commit_outcome::applied);
  const auto a = account("101");
  ASSERT_TRUE(a.plan);
  EXPECT_EQ(a.plan->action, "unlink");
  EXPECT_EQ(a.plan->estimated_api_calls, 12U);
  EXPECT_EQ(a.plan->estimated_time, 1200ms);
  EXPECT_FALSE(account("100").plan) << "no plan unless a dry run made one";
}

TEST_F(store_transitions, a_refused_unlink_clears_its_intent) {
  auto t = step("100", account_state::pending, account_state::unlink, pipeline_step::unlink);
  t.unlink_intent_at = clock_.now();
  t.unlink_sends = 1;
  ASSERT_EQ(run(io_, store_->commit(t)).value(), commit_outcome::applied);
  ASSERT_TRUE(account("100").unlink_intent_at);
  auto refused = step("100", account_state::unlink, account_state::unlink, pipeline_step::unlink);
  refused.clear_unlink_intent = true;
  refused.unlink_sends = 0;
  ASSERT_EQ(run(io_, store_->commit(refused)).value(), commit_outcome::applied);
  const auto a = account("100");
  EXPECT_FALSE(a.unlink_intent_at);
  EXPECT_EQ(a.unlink_sends, 0U);
}

TEST_F(store_transitions, an_applied_transition_sets_every_field_it_names) {
  auto t = step("100", account_state::pending, account_state::unlink, pipeline_step::unlink);
  t.attempts = 2;
  t.next_attempt_at = clock_.now() + 5s;
  t.last_error = account_error{40002, "param error", "req-123"};
  t.backup = backup_record{"backups/b1/100", "ab12"};
  t.campaigns_to_pause = std::vector<std::string>{"1", "2", "3"};
  t.campaigns_paused = std::vector<std::string>{"1", "2"};
  t.unlink_intent_at = clock_.now();
  t.event = {"unlink_intent", "partner_share to 7099", std::nullopt};
  ASSERT_EQ(run(io_, store_->commit(t)).value(), commit_outcome::applied);

  const auto a = account("100");
  EXPECT_EQ(a.state, account_state::unlink);
  EXPECT_EQ(a.step, pipeline_step::unlink);
  EXPECT_EQ(a.attempts, 2U);
  EXPECT_EQ(a.next_attempt_at, clock_.now() + 5s);
  ASSERT_TRUE(a.last_error);
  EXPECT_EQ(a.last_error->code, 40002);
  EXPECT_EQ(a.last_error->request_id, "req-123");
  ASSERT_TRUE(a.backup);
  EXPECT_EQ(a.backup->digest, "ab12");
  EXPECT_EQ(a.campaigns_to_pause, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(a.campaigns_paused, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(a.unlink_intent_at, clock_.now());
  EXPECT_FALSE(a.unlink_sent_at);

  // Unset fields keep their values; clear_last_error clears the error.
  auto sent = step("100", account_state::unlink, account_state::verify, pipeline_step::verify);
  sent.unlink_sent_at = clock_.now() + 1s;
  sent.clear_last_error = true;
  ASSERT_EQ(run(io_, store_->commit(sent)).value(), commit_outcome::applied);
  const auto b = account("100");
  EXPECT_EQ(b.state, account_state::verify);
  EXPECT_FALSE(b.last_error);
  EXPECT_EQ(b.attempts, 2U);
  ASSERT_TRUE(b.backup);
  EXPECT_EQ(b.unlink_intent_at, clock_.now());
  EXPECT_EQ(b.unlink_sent_at, clock_.now() + 1s);

  auto events = run(io_, store_->account_events(batch_, "100")).value();
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].kind, "unlink_intent");
  EXPECT_EQ(events[0].from_state, "pending");
  EXPECT_EQ(events[0].to_state, "unlink");
  EXPECT_EQ(events[0].detail, "partner_share to 7099");
  EXPECT_EQ(events[1].kind, "transition");
  EXPECT_EQ(events[1].to_state, "verify");
  EXPECT_LT(events[0].seq, events[1].seq);
}

TEST_F(store_transitions, a_stale_transition_is_refused_logged_and_changes_nothing) {
  ASSERT_EQ(run(io_, store_->commit(step("101", account_state::pending, account_state::preflight,
                                         pipeline_step::preflight)))
                .value(),
            commit_outcome::applied);
  const auto counts_before = store_->counts();

  // A second worker that still believes the account is pending.
  auto stale = step("101", account_state::pending, account_state::failed, pipeline_step::preflight);
  stale.last_error = account_error{40001, "no permission", "req-9"};
  EXPECT_EQ(run(io_, store_->commit(stale)).value(), commit_outcome::stale);

  const auto a = account("101");
  EXPECT_EQ(a.state, account_state::preflight);
  EXPECT_FALSE(a.last_error);
  EXPECT_EQ(store_->counts(), counts_before);
  EXPECT_EQ(full_count(path()), counts_before);
  EXPECT_NE(log_.text().find("refused a stale transition pending -> failed"), std::string::npos)
      << log_.text();
  auto events = run(io_, store_->account_events(batch_, "101")).value();
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[1].kind, "stale_transition_refused");
  EXPECT_NE(events[1].detail.find("the account is preflight"), std::string::npos);
}

TEST_F(store_transitions, a_transition_for_an_unknown_account_is_an_error_value) {
  auto r = run(io_, store_->commit(step("999", account_state::pending, account_state::preflight,
                                        pipeline_step::preflight)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, store_errc::not_found);
  EXPECT_NE(r.error().message.find("999"), std::string::npos);
}

TEST_F(store_transitions, batch_transitions_are_fenced_too) {
  batch_transition start{batch_, batch_state::queued, batch_state::running, "", {}};
  EXPECT_EQ(run(io_, store_->commit(start)).value(), commit_outcome::applied);
  EXPECT_EQ(run(io_, store_->commit(start)).value(), commit_outcome::stale);

  batch_transition pause{batch_,
                         batch_state::running,
                         batch_state::paused,
                         "circuit breaker: 11 of the first 50 accounts failed",
                         {"batch_paused", "", 0}};
  EXPECT_EQ(run(io_, store_->commit(pause)).value(), commit_outcome::applied);
  auto b = run(io_, store_->batches()).value().at(0);
  EXPECT_EQ(b.state, batch_state::paused);
  EXPECT_EQ(b.state_reason, "circuit breaker: 11 of the first 50 accounts failed");
  EXPECT_FALSE(b.finished_at);

  batch_transition cancel{
      batch_, batch_state::paused, batch_state::cancelled, "", {"cancel", "", 0}};
  EXPECT_EQ(run(io_, store_->commit(cancel)).value(), commit_outcome::applied);
  b = run(io_, store_->batches()).value().at(0);
  EXPECT_EQ(b.finished_at, clock_.now());

  auto events = run(io_, store_->events_after(0, 100)).value();
  ASSERT_EQ(events.size(), 5U);  // accepted, running, refused, paused, cancelled
  EXPECT_EQ(events[2].kind, "stale_transition_refused");
  EXPECT_EQ(events[3].uid, 0U);
  EXPECT_EQ(events[3].detail, "circuit breaker: 11 of the first 50 accounts failed");
}

TEST_F(store_transitions, credential_holds_are_set_lifted_and_audited) {
  ASSERT_TRUE(run(io_, store_->hold_credential({"acme-bc", "40105: token expired", std::nullopt})));
  auto holds = run(io_, store_->credential_holds()).value();
  ASSERT_EQ(holds.size(), 1U);
  EXPECT_EQ(holds[0].reason, "40105: token expired");
  EXPECT_TRUE(run(io_, store_->lift_credential_hold("acme-bc", 0)).value());
  EXPECT_FALSE(run(io_, store_->lift_credential_hold("acme-bc", 0)).value());
  EXPECT_TRUE(run(io_, store_->credential_holds()).value().empty());
  auto events = run(io_, store_->events_after(1, 100)).value();
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].kind, "credential_held");
  EXPECT_EQ(events[1].kind, "credential_hold_lifted");
  EXPECT_EQ(events[1].uid, 0U);
}

TEST_F(store_transitions, audit_events_and_read_tallies_are_appended) {
  const auto seq = run(io_, store_->append({batch_, "", 1001, "pause_requested", "via unlinkctl"}));
  ASSERT_TRUE(seq);
  auto events = run(io_, store_->events_after(*seq - 1, 10)).value();
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].seq, *seq);
  EXPECT_EQ(events[0].uid, 1001U);
  EXPECT_TRUE(run(io_, store_->events_after(*seq, 10)).value().empty());

  // A thousand successful reads make no event at all.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(run(io_, store_->record_reads({batch_, "100", pipeline_step::backup, 100})));
  }
  EXPECT_TRUE(run(io_, store_->events_after(*seq, 10)).value().empty());
}

TEST_F(store_transitions, retention_prunes_only_long_finished_batches) {
  auto other = store_->ingest_blocking(make_request(make_manifest("b2", 1, 500)));
  const auto running = std::get<ingest_accepted>(other.value()).batch_id;
  batch_transition done{batch_, batch_state::queued, batch_state::completed, "", {}};
  ASSERT_EQ(run(io_, store_->commit(done)).value(), commit_outcome::applied);

  EXPECT_EQ(run(io_, store_->prune_events()).value(), 0);  // finished just now
  clock_.advance(25h);
  EXPECT_EQ(run(io_, store_->prune_events()).value(), 2);  // accepted + completed
  auto left = run(io_, store_->events_after(0, 10)).value();
  ASSERT_EQ(left.size(), 1U);
  EXPECT_EQ(left[0].batch_id, running);
  // The batch itself stays: its name is never reused.
  EXPECT_EQ(run(io_, store_->batches()).value().size(), 2U);
}

}  // namespace
}  // namespace unlinkd::store::test
