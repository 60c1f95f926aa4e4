// The pure parts of webhook notifications: the body, its signature, delivery
// IDs, URLs, the retry schedule, which events become which notifications,
// and the notifier's state file. No sockets here (webhook_delivery_test.cpp).
#include <filesystem>
#include <fstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "daemon/batch_notifier.hpp"
#include "daemon/webhook_payload.hpp"
#include "daemon/webhook_sender.hpp"
#include "tests/store/store_test_support.hpp"

namespace unlinkd::daemon {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using store::batch_state;

webhook_notification ended_notification() {
  webhook_notification n;
  n.event = webhook_event::ended;
  n.event_seq = 42;
  n.at = std::chrono::system_clock::time_point{std::chrono::milliseconds{1'780'000'000'123}};
  n.batch = "acme-offboarding";
  n.state = "completed";
  n.reason = "3 done, 1 failed";
  n.counts = {{"done", 3}, {"failed", 1}, {"pending", 0}};
  n.dry_run = true;
  n.reports = webhook_reports{"/var/lib/unlinkd/reports/acme-offboarding.json",
                              "/var/lib/unlinkd/reports/acme-offboarding.csv"};
  return n;
}

TEST(webhook_payload, the_body_carries_every_documented_field) {
  const auto body = json::parse(webhook_body(ended_notification(), "d-1")).as_object();
  EXPECT_EQ(body.at("schema_version").as_int64(), 1);
  EXPECT_EQ(body.at("event").as_string(), "batch.ended");
  EXPECT_EQ(body.at("delivery_id").as_string(), "d-1");
  EXPECT_EQ(body.at("timestamp").as_string(), "2026-05-28T20:26:40.123Z");
  EXPECT_EQ(body.at("event_seq").as_int64(), 42);
  EXPECT_EQ(body.at("batch").as_string(), "acme-offboarding");
  EXPECT_EQ(body.at("state").as_string(), "completed");
  EXPECT_EQ(body.at("reason").as_string(), "3 done, 1 failed");
  EXPECT_TRUE(body.at("cause").is_null());
  EXPECT_EQ(body.at("counts").at("done").as_int64(), 3);
  EXPECT_EQ(body.at("counts").at("failed").as_int64(), 1);
  EXPECT_EQ(body.at("counts").at("total").as_int64(), 4);
  EXPECT_TRUE(body.at("dry_run").as_bool());
  EXPECT_EQ(body.at("reports").at("json").as_string(),
            "/var/lib/unlinkd/reports/acme-offboarding.json");
  EXPECT_EQ(body.at("reports").at("csv").as_string(),
            "/var/lib/unlinkd/reports/acme-offboarding.csv");
}

TEST(webhook_payload, needs_attention_names_its_cause_and_has_no_reports) {
  auto n = ended_notification();
  n.event = webhook_event::needs_attention;
  n.cause = attention_cause::circuit_breaker;
  n.reports.reset();
  const auto body = json::parse(webhook_body(n, "d-2")).as_object();
  EXPECT_EQ(body.at("event").as_string(), "batch.needs_attention");
  EXPECT_EQ(body.at("cause").as_string(), "circuit_breaker");
  EXPECT_TRUE(body.at("reports").is_null());
}

TEST(webhook_payload, iso8601_is_utc_with_milliseconds) {
  EXPECT_EQ(iso8601_utc(std::chrono::system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_utc(std::chrono::system_clock::time_point{std::chrono::milliseconds{-1}}),
            "1969-12-31T23:59:59.999Z");
}

TEST(webhook_signature, hmac_sha256_matches_rfc_4231) {
  // RFC 4231 test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(webhook_signature, verifies_with_the_secret_and_fails_with_anything_else) {
  const std::string body = webhook_body(ended_notification(), "d-1");
  const std::string sig = webhook_signature("s3cret", "1780000000", body);
  ASSERT_TRUE(sig.starts_with("sha256="));
  EXPECT_EQ(sig.size(), 7U + 64U);
  EXPECT_EQ(sig, "sha256=" + hmac_sha256_hex("s3cret", "1780000000." + body));
  EXPECT_TRUE(verify_webhook_signature("s3cret", "1780000000", body, sig));
  EXPECT_FALSE(verify_webhook_signature("other", "1780000000", body, sig));
  EXPECT_FALSE(verify_webhook_signature("s3cret", "1780000001", body, sig)) << "timestamp signed";
  EXPECT_FALSE(verify_webhook_signature("s3cret", "1780000000", body + " ", sig));
  EXPECT_FALSE(verify_webhook_signature("s3cret", "1780000000", body, sig.substr(0, 20)));
}

TEST(webhook_delivery_id, is_stable_for_one_notification_and_url_and_differs_otherwise) {
  const auto a = delivery_id_for("acme", 7, "https://h.example/a");
  EXPECT_EQ(a, delivery_id_for("acme", 7, "https://h.example/a"));
  EXPECT_NE(a, delivery_id_for("acme", 8, "https://h.example/a"));
  EXPECT_NE(a, delivery_id_for("acme", 7, "https://h.example/b"));
  EXPECT_NE(a, delivery_id_for("acme2", 7, "https://h.example/a"));
  ASSERT_EQ(a.size(), 36U);
  EXPECT_EQ(a[8], '-');
  EXPECT_EQ(a[23], '-');
}

TEST(webhook_url, splits_scheme_host_port_and_target) {
  auto u = parse_webhook_url("https://hooks.agency.example/unlinkd?token=abc#frag");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "hooks.agency.example");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/unlinkd?token=abc");
  u = parse_webhook_url("http://127.0.0.1:8080");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/");
  u = parse_webhook_url("http://[::1]:9000?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->target, "/?x=1");
  EXPECT_FALSE(parse_webhook_url("ftp://x.example/"));
  EXPECT_FALSE(parse_webhook_url("https://user:pw@x.example/"));
  EXPECT_FALSE(parse_webhook_url("https://x.example:0/"));
  EXPECT_FALSE(parse_webhook_url("https://x.example:99999/"));
  EXPECT_FALSE(parse_webhook_url("https://x.example:/"));
  EXPECT_FALSE(parse_webhook_url("https:///path"));
  EXPECT_EQ(webhook_log_host("https://hooks.example/secret-token"), "hooks.example");
  EXPECT_EQ(webhook_log_host("nonsense"), "(invalid URL)");
}

TEST(webhook_retry, full_jitter_under_a_doubling_capped_ceiling) {
  const webhook_retry_options o;  // 20 s doubling, capped at 300 s
  std::chrono::milliseconds total{0};
  const std::chrono::milliseconds expected[] = {20s, 40s, 80s, 160s, 300s};
  for (std::uint32_t attempt = 1; attempt < o.max_attempts; ++attempt) {
    const auto ceiling = webhook_retry_delay(attempt, o, 1.0);
    EXPECT_EQ(ceiling, expected[attempt - 1]) << attempt;
    EXPECT_EQ(webhook_retry_delay(attempt, o, 0.0), 0ms);
    EXPECT_EQ(webhook_retry_delay(attempt, o, 0.5), ceiling / 2);
    total += ceiling;
  }
  EXPECT_EQ(total, 600s) << "six attempts within ten minutes";
  EXPECT_EQ(webhook_retry_delay(1'000'000, o, 1.0), 300s) << "no overflow";
}

TEST(webhook_retry, classifies_statuses) {
  EXPECT_EQ(classify_webhook_status(200), attempt_verdict::delivered);
  EXPECT_EQ(classify_webhook_status(204), attempt_verdict::delivered);
  EXPECT_EQ(classify_webhook_status(400), attempt_verdict::give_up);
  EXPECT_EQ(classify_webhook_status(404), attempt_verdict::give_up);
  EXPECT_EQ(classify_webhook_status(408), attempt_verdict::retry);
  EXPECT_EQ(classify_webhook_status(429), attempt_verdict::retry);
  EXPECT_EQ(classify_webhook_status(500), attempt_verdict::retry);
  EXPECT_EQ(classify_webhook_status(503), attempt_verdict::retry);
  EXPECT_EQ(classify_webhook_status(301), attempt_verdict::give_up) << "redirects not followed";
}

// --- plan_notifications

store::event_record event(std::int64_t seq, std::optional<std::int64_t> batch, std::string kind,
                          std::string to_state = {}, std::string detail = {},
                          std::string account = {}) {
  store::event_record e;
  e.seq = seq;
  e.batch_id = batch;
  e.kind = std::move(kind);
  e.to_state = std::move(to_state);
  e.detail = std::move(detail);
  e.account_id = std::move(account);
  return e;
}

notified_batches two_batches() {
  notified_batches b;
  b[1] = notified_batch{1, "one", "acme", {"https://h.example/1"}, false, batch_state::running, {}};
  b[2] = notified_batch{2, "two", "acme", {}, false, batch_state::running, {}};  // no notify
  b[3] =
      notified_batch{3, "three", "other", {"https://h.example/3"}, false, batch_state::running, {}};
  return b;
}

TEST(plan_notifications, a_started_batch_with_notify_is_announced_one_without_is_not) {
  const auto batches = two_batches();
  told_causes told;
  auto p = plan_notifications(event(1, 1, "batch_started", "running", "started"), batches, told);
  ASSERT_EQ(p.size(), 1U);
  EXPECT_EQ(p[0].event, webhook_event::started);
  EXPECT_EQ(p[0].state, "running");
  EXPECT_TRUE(plan_notifications(event(2, 2, "batch_started", "running"), batches, told).empty());
  EXPECT_TRUE(plan_notifications(event(3, 9, "batch_started", "running"), batches, told).empty())
      << "an unknown batch";
  EXPECT_TRUE(
      plan_notifications(event(4, 1, "transition", "backup", "", "7100"), batches, told).empty());
}

TEST(plan_notifications, the_circuit_breaker_needs_attention_an_operators_pause_does_not) {
  const auto batches = two_batches();
  told_causes told;
  auto breaker = event(1, 1, "batch_paused", "paused", "circuit breaker: 11 of the first 50 ...");
  auto p = plan_notifications(breaker, batches, told);
  ASSERT_EQ(p.size(), 1U);
  EXPECT_EQ(p[0].event, webhook_event::needs_attention);
  EXPECT_EQ(p[0].cause, attention_cause::circuit_breaker);
  EXPECT_EQ(p[0].state, "paused");
  auto op = event(2, 3, "batch_paused", "paused", "paused by an operator");
  op.uid = 1000;
  EXPECT_TRUE(plan_notifications(op, batches, told).empty());
}

TEST(plan_notifications, a_credential_hold_is_one_notification_per_batch_not_per_account) {
  const auto batches = two_batches();
  told_causes told;
  auto p = plan_notifications(
      event(1, std::nullopt, "credential_held", "", "acme: the API refused the credential"),
      batches, told);
  ASSERT_EQ(p.size(), 1U) << "batch one; two has no notify; three uses another profile";
  EXPECT_EQ(p[0].batch_id, 1);
  EXPECT_EQ(p[0].cause, attention_cause::credential_hold);
  EXPECT_EQ(p[0].reason, "the API refused the credential");
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(plan_notifications(event(2 + i, 1, "needs_attention", "needs_attention",
                                         "credential refused: bad token", std::to_string(i)),
                                   batches, told)
                    .empty());
  }
  // Another cause in the same batch is news; its second account is not.
  p = plan_notifications(
      event(10, 1, "needs_attention", "needs_attention", "some other reason", "a1"), batches, told);
  ASSERT_EQ(p.size(), 1U);
  EXPECT_EQ(p[0].cause, attention_cause::accounts);
  EXPECT_TRUE(plan_notifications(
                  event(11, 1, "needs_attention", "needs_attention", "some other reason", "a2"),
                  batches, told)
                  .empty());
  // The operator resumes: the same cause is news again.
  EXPECT_TRUE(
      plan_notifications(event(12, 1, "resumed", "preflight", "", "a1"), batches, told).empty());
  p = plan_notifications(event(13, 1, "needs_attention", "needs_attention",
                               "the credential of profile 'acme' is held", "a1"),
                         batches, told);
  ASSERT_EQ(p.size(), 1U);
  EXPECT_EQ(p[0].cause, attention_cause::credential_hold);
}

TEST(plan_notifications, lifting_a_hold_clears_that_cause_only) {
  const auto batches = two_batches();
  told_causes told;
  (void)plan_notifications(event(1, std::nullopt, "credential_held", "", "acme: refused"), batches,
                           told);
  (void)plan_notifications(event(2, 1, "needs_attention", "needs_attention", "x", "a"), batches,
                           told);
  (void)plan_notifications(event(3, std::nullopt, "credential_hold_lifted", "", "acme"), batches,
                           told);
  EXPECT_EQ(told.at(1), std::set<attention_cause>{attention_cause::accounts});
  EXPECT_EQ(plan_notifications(event(4, std::nullopt, "credential_held", "", "acme: again"),
                               batches, told)
                .size(),
            1U);
}

TEST(plan_notifications, an_unknown_profile_is_its_own_cause) {
  const auto batches = two_batches();
  told_causes told;
  const auto p = plan_notifications(event(1, 3, "needs_attention", "needs_attention",
                                          "the credentials file has no profile 'other'", "a"),
                                    batches, told);
  ASSERT_EQ(p.size(), 1U);
  EXPECT_EQ(p[0].cause, attention_cause::unknown_profile);
}

TEST(plan_notifications, an_end_is_announced_and_forgets_the_batch) {
  const auto batches = two_batches();
  told_causes told;
  (void)plan_notifications(event(1, 1, "needs_attention", "needs_attention", "x", "a"), batches,
                           told);
  ASSERT_TRUE(told.contains(1));
  auto p = plan_notifications(event(2, 1, "batch_completed", "completed", "1 done"), batches, told);
  ASSERT_EQ(p.size(), 1U);
  EXPECT_EQ(p[0].event, webhook_event::ended);
  EXPECT_EQ(p[0].state, "completed");
  EXPECT_FALSE(told.contains(1));
  p = plan_notifications(event(3, 3, "batch_cancelled", "cancelled", "2 cancelled"), batches, told);
  ASSERT_EQ(p.size(), 1U);
  EXPECT_EQ(p[0].state, "cancelled");
  EXPECT_TRUE(
      plan_notifications(event(4, 1, "stale_transition_refused", "completed"), batches, told)
          .empty());
}

TEST(plan_notifications, fresh_batches_are_needed_for_unknown_batches_and_holds) {
  const auto batches = two_batches();
  EXPECT_TRUE(needs_fresh_batches(event(1, 9, "batch_started"), batches));
  EXPECT_FALSE(needs_fresh_batches(event(1, 1, "batch_started"), batches));
  EXPECT_FALSE(needs_fresh_batches(event(1, 9, "transition"), batches)) << "not batch-level";
  EXPECT_TRUE(needs_fresh_batches(event(1, std::nullopt, "credential_held"), batches));
}

TEST(counts_by_state, lists_every_state) {
  store::count_map m;
  m[{1, store::account_state::done, store::pipeline_step::verify}] = 3;
  m[{1, store::account_state::failed, store::pipeline_step::backup}] = 1;
  m[{1, store::account_state::failed, store::pipeline_step::unlink}] = 2;
  const auto c = counts_by_state(m);
  EXPECT_EQ(c.size(), std::size(store::all_account_states));
  EXPECT_EQ(c.at("done"), 3);
  EXPECT_EQ(c.at("failed"), 3);
  EXPECT_EQ(c.at("pending"), 0);
}

// --- the state file

TEST(notifier_state, round_trips) {
  notifier_state s;
  s.cursor = 1234;
  s.told[7] = {attention_cause::credential_hold, attention_cause::circuit_breaker};
  s.pending.push_back({"https://h.example/x?t=1", "batch.ended", "id-1", "acme", "{\"a\":1}"});
  const auto back = decode_notifier_state(encode_notifier_state(s));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->cursor, 1234);
  EXPECT_EQ(back->told, s.told);
  ASSERT_EQ(back->pending.size(), 1U);
  EXPECT_EQ(back->pending[0].url, "https://h.example/x?t=1");
  EXPECT_EQ(back->pending[0].body, "{\"a\":1}");
  EXPECT_EQ(back->pending[0].delivery_id, "id-1");
}

TEST(notifier_state, refuses_what_it_cannot_trust) {
  EXPECT_FALSE(decode_notifier_state("not json"));
  EXPECT_FALSE(decode_notifier_state(R"({"version":2,"cursor":1,"told":[],"pending":[]})"));
  EXPECT_FALSE(decode_notifier_state(R"({"version":1,"cursor":-1,"told":[],"pending":[]})"));
  EXPECT_FALSE(decode_notifier_state(
      R"({"version":1,"cursor":1,"told":[{"batch_id":1,"causes":["nope"]}],"pending":[]})"));
  EXPECT_FALSE(decode_notifier_state(R"({"version":1,"cursor":1,"told":[],"pending":[{}]})"));
  EXPECT_TRUE(decode_notifier_state(R"({"version":1,"cursor":0,"told":[],"pending":[]})"));
}

// --- the secret file

class webhook_secret_test : public ::testing::Test {
 protected:
  std::string write(const std::string& content, mode_t mode) {
    auto path = dir_.file("secret");
    std::ofstream(path, std::ios::trunc) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }
  store::test::temp_dir dir_;
};

TEST_F(webhook_secret_test, a_private_file_gives_its_line_as_the_key) {
  auto key = load_webhook_secret(write("k3y\n", 0600));
  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(key->reveal(), "k3y");
  key = load_webhook_secret(write("k3y\r\n", 0400));
  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(key->reveal(), "k3y");
}

TEST_F(webhook_secret_test, a_readable_empty_or_missing_file_is_refused_without_its_content) {
  auto key = load_webhook_secret(write("topsecret\n", 0640));
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find("chmod 600"), std::string::npos) << key.error();
  EXPECT_EQ(key.error().find("topsecret"), std::string::npos);
  key = load_webhook_secret(write("\n", 0600));
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find("empty"), std::string::npos) << key.error();
  EXPECT_FALSE(load_webhook_secret(dir_.file("missing")));
  EXPECT_FALSE(load_webhook_secret(write(std::string(5000, 'k'), 0600)));
}

}  // namespace
}  // namespace unlinkd::daemon
