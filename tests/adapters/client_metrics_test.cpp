// The client's tally of requests by endpoint and answer (GET /metrics'
// unlinkd_api_calls_total), against the real sandbox process: a success is
// code 0, an API error its code, an HTTP error its status, a connection that
// never answered "transport"; every retry is one more row count; dry-run
// refusals are not requests; no token or query string reaches a label.
#include <gtest/gtest.h>

#include "tests/adapters/client_sandbox_world.hpp"

namespace unlinkd::test {
namespace {

using adapters::api_call_key;
using adapters::error_class;

std::uint64_t tally(const sandbox_world& w, const std::string& endpoint, const std::string& code) {
  const auto& calls = w.client.calls_by_outcome();
  const auto it = calls.find(api_call_key{endpoint, code});
  return it == calls.end() ? 0 : it->second;
}

std::uint64_t total(const sandbox_world& w) {
  std::uint64_t n = 0;
  for (const auto& [key, count] : w.client.calls_by_outcome()) {
    n += count;
  }
  return n;
}

TEST(client_metrics, the_code_label_is_the_api_code_else_the_http_status_else_transport) {
  EXPECT_EQ(adapters::api_call_code(true, {}), "0");
  EXPECT_EQ(adapters::api_call_code(false, {error_class::rate_limited, 40100, 200, "", ""}),
            "40100");
  EXPECT_EQ(adapters::api_call_code(false, {error_class::retryable, 0, 503, "", ""}), "503");
  EXPECT_EQ(adapters::api_call_code(false, {error_class::retryable, 0, 0, "reset", ""}),
            "transport");
}

TEST(client_metrics, successes_are_counted_by_endpoint_without_the_query) {
  sandbox_world w;
  ASSERT_TRUE(w.call(list_bcs()));
  ASSERT_TRUE(w.call(list_bcs()));
  ASSERT_TRUE(w.call(list_campaigns()));
  EXPECT_EQ(tally(w, "/bc/get/", "0"), 2U);
  EXPECT_EQ(tally(w, "/campaign/get/", "0"), 1U);
  EXPECT_EQ(total(w), 3U);
  for (const auto& [key, count] : w.client.calls_by_outcome()) {
    EXPECT_EQ(key.endpoint.find('?'), std::string::npos) << key.endpoint;
    EXPECT_EQ(key.endpoint.find(w.profile.access_token.reveal()), std::string::npos);
  }
}

TEST(client_metrics, an_api_error_counts_under_its_code) {
  sandbox_world w;
  ASSERT_EQ(w.admin.post("/_sandbox/tokens/revoke", R"({"token":"fixture-admin"})").status, 200U);
  const auto reply = w.call(list_bcs());
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code, 40105);
  EXPECT_EQ(tally(w, "/bc/get/", "40105"), 1U);
  EXPECT_EQ(total(w), 1U);
}

TEST(client_metrics, every_retry_of_an_http_error_counts_under_the_status) {
  auto options = fast_options();
  options.retry.max_attempts = 3;
  sandbox_world w{{"--no-limits"}, options};
  w.set_faults(R"({"faults": {"http_502": 1}})");
  const auto reply = w.call(list_bcs());
  ASSERT_FALSE(reply);
  EXPECT_EQ(tally(w, "/bc/get/", "502"), 3U);
  EXPECT_EQ(tally(w, "/bc/get/", "502"), w.fault_count("http_502"));
  EXPECT_EQ(total(w), 3U);
}

TEST(client_metrics, a_server_that_never_answers_counts_as_transport) {
  sandbox_world w;
  // A port the sandbox's own listener is not on, closed: connect is refused.
  w.ctx.base_url = "http://127.0.0.1:1";
  const auto reply = w.call(list_bcs());
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, error_class::retryable);
  EXPECT_EQ(tally(w, "/bc/get/", "transport"), fast_options().retry.max_attempts);
  EXPECT_EQ(total(w), fast_options().retry.max_attempts);
}

TEST(client_metrics, a_dry_run_refusal_is_not_a_request) {
  sandbox_world w;
  w.ctx.dry_run = true;
  const auto reply = w.call(set_campaign_status("DISABLE"));
  ASSERT_FALSE(reply);
  EXPECT_TRUE(adapters::is_dry_run_refusal(reply.error()));
  EXPECT_EQ(total(w), 0U);
  EXPECT_EQ(w.client.counters().dry_run_refusals, 1U);
}

}  // namespace
}  // namespace unlinkd::test
