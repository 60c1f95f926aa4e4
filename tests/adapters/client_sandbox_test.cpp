// The client against the real sandbox: calls that succeed, each error class
// the API answers, the rate gate, keep-alive, dry run and redaction.
#include <gtest/gtest.h>

#include "adapters/pagination.hpp"
#include "tests/adapters/client_sandbox_world.hpp"

namespace unlinkd::test {
namespace {

namespace json = boost::json;
using adapters::error_class;
using namespace std::chrono_literals;

std::string campaign_status(sandbox_world& w, const std::string& campaign) {
  auto r = list_campaigns();
  r.query.emplace_back("filtering",
                       json::serialize(json::object{{"campaign_ids", json::array{campaign}}}));
  const auto reply = w.call(r);
  if (!reply) {
    return "error: " + reply.error().message;
  }
  return std::string{reply->data.at("list").at(0).at("operation_status").as_string()};
}

TEST(client_sandbox, a_get_returns_the_envelope_data_and_request_id) {
  sandbox_world w;
  const auto reply = w.call(list_bcs());
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->attempts, 1U);
  EXPECT_EQ(reply->request_id.size(), 34U) << reply->request_id;
  const auto& list = reply->data.at("list").as_array();
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(adapters::id_string(list.at(0).at("bc_info").at("bc_id")), fixture_bc);
  EXPECT_EQ(w.gate.counters().acquired, 1U);
  EXPECT_EQ(w.gate.counters().ok, 1U);
}

TEST(client_sandbox, json_query_values_arrive_intact) {
  sandbox_world w;
  auto r = list_campaigns();
  r.query.emplace_back(
      "filtering",
      json::serialize(json::object{{"campaign_ids", json::array{"1700000000000000002"}}}));
  const auto reply = w.call(r);
  ASSERT_TRUE(reply) << reply.error().message;
  const auto& list = reply->data.at("list").as_array();
  ASSERT_EQ(list.size(), 1U);
  EXPECT_EQ(adapters::id_string(list.at(0).at("campaign_id")), "1700000000000000002");
  EXPECT_TRUE(adapters::read_page_info(reply->data));
}

TEST(client_sandbox, a_post_is_applied_once) {
  sandbox_world w;
  ASSERT_EQ(campaign_status(w, fixture_campaign), "ENABLE");
  const auto reply = w.call(set_campaign_status("DISABLE"));
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->attempts, 1U);
  EXPECT_FALSE(reply->request_id.empty());
  EXPECT_EQ(campaign_status(w, fixture_campaign), "DISABLE");
  const auto account = w.stats().at("accounts").at(fixture_advertiser);
  EXPECT_EQ(account.at("mutations_applied").to_number<int>(), 1);
}

TEST(client_sandbox, a_revoked_token_is_a_credential_error_with_the_api_words) {
  sandbox_world w;
  ASSERT_EQ(w.admin.post("/_sandbox/tokens/revoke", R"({"token":"fixture-admin"})").status, 200U);
  const auto reply = w.call(list_bcs());
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, error_class::credential);
  EXPECT_EQ(reply.error().code, 40105);
  EXPECT_EQ(reply.error().http_status, 200);
  EXPECT_EQ(reply.error().message, "Access token is incorrect or has been revoked.");
  EXPECT_FALSE(reply.error().request_id.empty());
  EXPECT_EQ(w.client.counters().requests_sent, 1U);  // not retried
}

TEST(client_sandbox, a_token_without_the_admin_role_is_a_credential_error_at_bc_level) {
  sandbox_world w;
  w.profile.app_id = "7000000000000000002";
  w.profile.access_token = config::secret{"fixture-standard"};
  adapters::api_request r;
  r.path = "/bc/member/get/";
  r.query = {{"bc_id", fixture_bc}};
  r.scope = adapters::call_scope::bc_level;
  const auto reply = w.call(r);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code, 40001);
  EXPECT_EQ(reply.error().kind, error_class::credential);
  EXPECT_NE(reply.error().message.find("ADMIN"), std::string::npos) << reply.error().message;
}

TEST(client_sandbox, an_account_out_of_reach_is_permanent_at_account_level) {
  sandbox_world w;
  const auto reply = w.call(list_campaigns("7100000000000000999"));
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code, 40001);
  EXPECT_EQ(reply.error().kind, error_class::permanent);
  EXPECT_EQ(w.client.counters().requests_sent, 1U);
}

TEST(client_sandbox, an_unknown_path_is_a_permanent_http_error) {
  sandbox_world w;
  adapters::api_request r;
  r.path = "/bc/get";  // no trailing slash: 404 text/plain
  const auto reply = w.call(r);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, error_class::permanent);
  EXPECT_EQ(reply.error().http_status, 404);
  EXPECT_NE(reply.error().message.find("404 page not found"), std::string::npos)
      << reply.error().message;
}

TEST(client_sandbox, rate_limited_answers_go_back_through_the_gate_without_spending_tries) {
  auto options = fast_options();
  options.retry.max_attempts = 1;  // a spent try would fail the call
  sandbox_world w{{"--qps", "1", "--qpm", "600"}, options, {std::chrono::microseconds{0}, 100ms}};
  std::vector<boost::asio::awaitable<adapters::api_result<adapters::api_reply>>> calls;
  calls.reserve(3);
  for (int i = 0; i < 3; ++i) {
    calls.push_back(w.client.call(w.ctx, list_bcs()));
  }
  const auto replies = run_all_bounded(w.io, std::move(calls));
  std::uint32_t sent = 0;
  for (const auto& reply : replies) {
    ASSERT_TRUE(reply) << reply.error().message;
    sent += reply->attempts;
  }
  const auto refused =
      w.stats().at("apps").at(w.profile.app_id).at("refused").to_number<std::uint64_t>();
  EXPECT_GE(refused, 1U);
  EXPECT_EQ(w.gate.counters().rate_limited, refused);
  EXPECT_EQ(w.client.counters().rate_limited, refused);
  EXPECT_EQ(w.client.counters().retries, 0U);
  EXPECT_EQ(sent, 3U + refused);
}

TEST(client_sandbox, a_rate_limited_call_that_may_not_go_back_is_rate_limited) {
  auto options = fast_options();
  options.max_rate_limited_rounds = 0;
  sandbox_world w{{"--qps", "1", "--qpm", "600"}, options, {std::chrono::microseconds{0}, 1ms}};
  ASSERT_TRUE(w.call(list_bcs()));
  const auto reply = w.call(list_bcs());
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, error_class::rate_limited);
  EXPECT_EQ(reply.error().code, 40100);
  EXPECT_FALSE(reply.error().request_id.empty());
}

TEST(client_sandbox, the_call_deadline_bounds_the_wait_at_the_gate) {
  sandbox_world w{{"--no-limits"}, fast_options(), {std::chrono::microseconds{0}, 60s}};
  w.gate.report({w.profile.app_id, "/bc/get/", "b"}, adapters::gate_answer::rate_limited, 40100);
  w.ctx.deadline = std::chrono::steady_clock::now() + 200ms;
  const auto start = std::chrono::steady_clock::now();
  const auto reply = w.call(list_bcs());
  ASSERT_FALSE(reply);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(reply.error().kind, error_class::retryable);
  EXPECT_EQ(reply.error().message, "the deadline passed while waiting for the rate gate");
  EXPECT_EQ(w.total_calls(), 0U);
}

TEST(client_sandbox, dry_run_refuses_every_write_before_the_network) {
  sandbox_world w;
  w.ctx.dry_run = true;
  for (const char* path :
       {"/campaign/status/update/", "/bc/partner/asset/delete/", "/bc/asset/unassign/"}) {
    auto r = set_campaign_status("DISABLE");
    r.path = path;
    const auto reply = w.call(r);
    ASSERT_FALSE(reply);
    EXPECT_TRUE(adapters::is_dry_run_refusal(reply.error())) << reply.error().message;
    EXPECT_NE(reply.error().message.find(path), std::string::npos);
  }
  EXPECT_EQ(w.client.counters().dry_run_refusals, 3U);
  EXPECT_EQ(w.client.counters().requests_sent, 0U);
  EXPECT_EQ(w.gate.counters().acquired, 0U);
  EXPECT_EQ(w.total_calls(), 0U);
  EXPECT_NE(w.log.text().find("dry run: refused POST"), std::string::npos);
  // Reads still work in a dry run.
  EXPECT_TRUE(w.call(list_bcs()));
  EXPECT_EQ(campaign_status(w, fixture_campaign), "ENABLE");
}

TEST(client_sandbox, plain_http_to_another_host_is_refused_before_sending) {
  sandbox_world w;
  w.ctx.base_url = "http://business-api.tiktok.com";
  const auto reply = w.call(list_bcs());
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, error_class::permanent);
  EXPECT_NE(reply.error().message.find("loopback"), std::string::npos);
  EXPECT_EQ(w.client.counters().requests_sent, 0U);
}

TEST(client_sandbox, sequential_calls_reuse_one_kept_alive_connection) {
  sandbox_world w;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(w.call(list_bcs()));
  }
  EXPECT_EQ(w.client.counters().connections_opened, 1U);
  EXPECT_EQ(w.client.counters().connections_reused, 4U);
  EXPECT_EQ(w.client.open_connections(), 1U);
}

TEST(client_sandbox, concurrent_calls_stay_within_the_connection_bound) {
  auto options = fast_options();
  options.max_connections_per_host = 2;
  sandbox_world w{{"--no-limits"}, options};
  std::vector<boost::asio::awaitable<adapters::api_result<adapters::api_reply>>> calls;
  calls.reserve(12);
  for (int i = 0; i < 12; ++i) {
    calls.push_back(w.client.call(w.ctx, list_bcs()));
  }
  for (const auto& reply : run_all_bounded(w.io, std::move(calls))) {
    ASSERT_TRUE(reply) << reply.error().message;
  }
  EXPECT_LE(w.client.counters().connections_opened, 2U);
  EXPECT_LE(w.client.open_connections(), 2U);
  EXPECT_EQ(w.client.counters().connections_opened + w.client.counters().connections_reused, 12U);
}

TEST(client_sandbox, no_token_or_secret_reaches_a_log_line_or_an_error) {
  sandbox_world w;
  const std::string token = w.profile.access_token.reveal();
  const std::string secret = w.profile.app_secret.reveal();
  // The one endpoint that takes the app secret in its query.
  adapters::api_request oauth;
  oauth.path = "/oauth2/advertiser/get/";
  oauth.query = {{"app_id", w.profile.app_id}, {"secret", secret}};
  oauth.scope = adapters::call_scope::credential_level;
  const auto ok = w.call(oauth);
  ASSERT_TRUE(ok) << ok.error().message;
  // The same call failing (wrong path) puts the URL into an error message.
  oauth.path = "/oauth2/advertiser/get";
  const auto failed = w.call(oauth);
  ASSERT_FALSE(failed);
  w.ctx.dry_run = true;
  auto write = set_campaign_status("DISABLE");
  write.path = "/x/?secret=" + secret + "&t=" + token;
  const auto refused = w.call(write);
  ASSERT_FALSE(refused);
  w.ctx.dry_run = false;
  ASSERT_EQ(w.admin.post("/_sandbox/tokens/revoke", R"({"token":"fixture-admin"})").status, 200U);
  const auto revoked = w.call(oauth);
  ASSERT_FALSE(revoked);

  const std::string logged = w.log.text();
  EXPECT_FALSE(logged.empty());
  EXPECT_NE(logged.find("[redacted]"), std::string::npos) << logged;
  for (const std::string& text :
       {logged, failed.error().message, refused.error().message, revoked.error().message}) {
    EXPECT_EQ(text.find(token), std::string::npos) << text;
    EXPECT_EQ(text.find(secret), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace unlinkd::test
