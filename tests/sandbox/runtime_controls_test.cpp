// Runtime controls of issue 4 (part): revoking and restoring tokens and
// changing an app's budget while the real unlinkd-sandbox process runs.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::test {
namespace {

const std::string api = "/open_api/v1.3";
const std::string admin_token = "sbx-admin-1";
const std::string standard_token = "sbx-standard-1";

std::int64_t code_of(http_client& client, const std::string& token) {
  return client.get(api + "/user/info/", token).json().at("code").as_int64();
}

std::uint64_t u64(const boost::json::value& v) { return v.to_number<std::uint64_t>(); }

// --- Tokens ---------------------------------------------------------------

class token_controls : public ::testing::Test {
 protected:
  http_reply revoke(const std::string& body) {
    return client_.post("/_sandbox/tokens/revoke", body);
  }
  http_reply restore(const std::string& body) {
    return client_.post("/_sandbox/tokens/restore", body);
  }
  boost::json::value stats() { return client_.get("/_sandbox/stats").json(); }
  // The app of a token, found without any other way in: revoke it alone and
  // read the stats' revoked_by_app, then restore it.
  std::string app_of(const std::string& token) {
    EXPECT_EQ(revoke(R"({"token":")" + token + R"("})").status, 200U);
    const auto by_app = stats().at("tokens").at("revoked_by_app").as_object();
    EXPECT_EQ(by_app.size(), 1U);
    EXPECT_EQ(restore(R"({"token":")" + token + R"("})").status, 200U);
    return by_app.empty() ? std::string() : std::string(by_app.begin()->key());
  }

  // --no-limits: these tests are not about the budget.
  sandbox_process sandbox_{{"--accounts", "10", "--seed", "1", "--no-limits"}};
  http_client client_{sandbox_.port()};
};

TEST_F(token_controls, a_revoked_token_gets_40105_and_the_other_token_still_works) {
  ASSERT_EQ(code_of(client_, admin_token), 0);
  const auto reply = revoke(R"({"token":"sbx-admin-1"})");
  ASSERT_EQ(reply.status, 200U) << reply.body;
  EXPECT_EQ(reply.json(), boost::json::parse(R"({"tokens":1})"));
  EXPECT_EQ(reply.body.find(admin_token), std::string::npos) << "never echoes a token";
  EXPECT_EQ(code_of(client_, admin_token), 40105);
  EXPECT_EQ(code_of(client_, standard_token), 0);
  const auto s = stats();
  EXPECT_EQ(u64(s.at("tokens").at("revoked")), 1U) << s;
  EXPECT_EQ(u64(s.at("tokens").at("total")), 2U) << s;
  EXPECT_EQ(boost::json::serialize(s).find(admin_token), std::string::npos) << s;
  // Revoking it again changes nothing.
  EXPECT_EQ(revoke(R"({"token":"sbx-admin-1"})").json().at("tokens").as_int64(), 0);
}

TEST_F(token_controls, a_restored_token_works_again) {
  ASSERT_EQ(revoke(R"({"token":"sbx-admin-1"})").status, 200U);
  ASSERT_EQ(code_of(client_, admin_token), 40105);
  const auto reply = restore(R"({"token":"sbx-admin-1"})");
  ASSERT_EQ(reply.status, 200U) << reply.body;
  EXPECT_EQ(reply.json().at("tokens").as_int64(), 1);
  EXPECT_EQ(code_of(client_, admin_token), 0);
  EXPECT_EQ(u64(stats().at("tokens").at("revoked")), 0U);
  EXPECT_EQ(restore(R"({"token":"sbx-admin-1"})").json().at("tokens").as_int64(), 0);
}

TEST_F(token_controls, revoking_by_app_revokes_every_token_of_that_app_only) {
  const std::string app_id = app_of(admin_token);
  ASSERT_FALSE(app_id.empty());
  ASSERT_EQ(code_of(client_, admin_token), 0);
  const auto reply = revoke(R"({"app_id":")" + app_id + R"("})");
  ASSERT_EQ(reply.status, 200U) << reply.body;
  EXPECT_EQ(reply.json().at("tokens").as_int64(), 1);
  EXPECT_EQ(code_of(client_, admin_token), 40105);
  EXPECT_EQ(code_of(client_, standard_token), 0);
  EXPECT_EQ(u64(stats().at("tokens").at("revoked_by_app").at(app_id)), 1U);
  ASSERT_EQ(restore(R"({"app_id":")" + app_id + R"("})").status, 200U);
  EXPECT_EQ(code_of(client_, admin_token), 0);
}

TEST_F(token_controls, a_bad_body_is_400_with_an_error) {
  const std::vector<std::string> bad = {"",
                                        "not json",
                                        "[]",
                                        "{}",
                                        R"({"token":1})",
                                        R"({"token":""})",
                                        R"({"app_id":null})",
                                        R"({"token":"sbx-admin-1","app_id":"x"})",
                                        R"({"user":"x"})"};
  for (const auto& body : bad) {
    for (const bool rev : {true, false}) {
      const auto reply = rev ? revoke(body) : restore(body);
      EXPECT_EQ(reply.status, 400U) << body;
      EXPECT_TRUE(reply.json().at("error").is_string()) << body;
    }
  }
  EXPECT_EQ(code_of(client_, admin_token), 0) << "nothing changed";
}

TEST_F(token_controls, an_unknown_token_or_app_is_404_and_not_echoed) {
  for (const std::string body : {R"({"token":"no-such-token"})", R"({"app_id":"no-such-app"})"}) {
    const auto reply = revoke(body);
    EXPECT_EQ(reply.status, 404U) << body;
    EXPECT_TRUE(reply.json().at("error").is_string()) << body;
    EXPECT_EQ(reply.body.find("no-such"), std::string::npos) << reply.body;
    EXPECT_EQ(restore(body).status, 404U) << body;
  }
  EXPECT_EQ(u64(stats().at("tokens").at("revoked")), 0U);
}

TEST_F(token_controls, reset_restores_every_token) {
  ASSERT_EQ(revoke(R"({"token":"sbx-admin-1"})").status, 200U);
  ASSERT_EQ(revoke(R"({"token":"sbx-standard-1"})").status, 200U);
  ASSERT_EQ(code_of(client_, standard_token), 40105);
  ASSERT_EQ(client_.post("/_sandbox/reset", "").status, 200U);
  EXPECT_EQ(code_of(client_, admin_token), 0);
  EXPECT_EQ(code_of(client_, standard_token), 0);
  EXPECT_EQ(u64(stats().at("tokens").at("revoked")), 0U);
}

// --- Limits ---------------------------------------------------------------

class limit_controls : public ::testing::Test {
 protected:
  boost::json::value stats() { return client_.get("/_sandbox/stats").json(); }
  // The app of the admin token: the only key of the stats' "apps" after one call.
  std::string admin_app() {
    EXPECT_EQ(code_of(client_, admin_token), 0);
    const auto apps = stats().at("apps").as_object();
    EXPECT_EQ(apps.size(), 1U);
    return apps.empty() ? std::string() : std::string(apps.begin()->key());
  }
  void expect_start_limits() {
    const auto s = stats();
    EXPECT_EQ(s.at("limits").at("default"),
              boost::json::parse(R"({"qps":10,"qpm":600,"qpd":864000})"))
        << s;
    EXPECT_TRUE(s.at("limits").at("apps").as_object().empty()) << s;
  }

  // The default budget (Basic tier): this is about limits.
  sandbox_process sandbox_{{"--accounts", "10", "--seed", "1"}};
  http_client client_{sandbox_.port()};
};

TEST_F(limit_controls, qps_1_for_one_app_refuses_the_second_call_in_a_second) {
  const std::string app_id = admin_app();
  ASSERT_FALSE(app_id.empty());
  const auto reply = client_.put("/_sandbox/limits", R"({"app_id":")" + app_id + R"(","qps":1})");
  ASSERT_EQ(reply.status, 200U) << reply.body;
  EXPECT_EQ(reply.json().at("limits"), boost::json::parse(R"({"qps":1,"qpm":600,"qpd":864000})"));
  int calls = 0;
  bool refused = false;
  while (calls < 100 && !refused) {
    ++calls;
    refused = code_of(client_, admin_token) == 40100;
  }
  ASSERT_TRUE(refused) << calls << " calls and not one refused";
  // The other app keeps the default.
  EXPECT_EQ(code_of(client_, standard_token), 0);
  const auto s = stats();
  const auto& app = s.at("apps").at(app_id);
  EXPECT_LE(u64(app.at("max_1s")), 1U) << s;
  EXPECT_GE(u64(app.at("refused")), 1U) << s;
  EXPECT_EQ(app.at("limits"), boost::json::parse(R"({"qps":1,"qpm":600,"qpd":864000})")) << s;
  EXPECT_EQ(u64(s.at("limits").at("apps").at(app_id).at("qps")), 1U) << s;
  EXPECT_EQ(u64(s.at("limits").at("default").at("qps")), 10U) << s;
  for (const auto& [id, other] : s.at("apps").as_object()) {
    if (id != app_id) {
      EXPECT_EQ(u64(other.at("limits").at("qps")), 10U) << s;
    }
  }
}

TEST_F(limit_controls, a_partial_put_keeps_the_other_limits_and_reset_restores_them) {
  const std::string app_id = admin_app();
  ASSERT_EQ(client_.put("/_sandbox/limits", R"({"app_id":")" + app_id + R"(","qpm":50})").status,
            200U);
  ASSERT_EQ(client_.put("/_sandbox/limits", R"({"qps":2,"qpd":5000})").status, 200U);
  auto s = stats();
  EXPECT_EQ(s.at("limits").at("apps").at(app_id),
            boost::json::parse(R"({"qps":10,"qpm":50,"qpd":864000})"))
      << s;
  EXPECT_EQ(s.at("limits").at("default"), boost::json::parse(R"({"qps":2,"qpm":600,"qpd":5000})"))
      << s;
  ASSERT_EQ(client_.post("/_sandbox/reset", "").status, 200U);
  expect_start_limits();
}

TEST_F(limit_controls, invalid_limits_are_400_and_change_nothing) {
  const std::string app_id = admin_app();
  const std::vector<std::string> bad = {"",
                                        "[]",
                                        "{}",
                                        R"({"app_id":")" + app_id + R"("})",
                                        R"({"qps":0})",
                                        R"({"qps":-1})",
                                        R"({"qps":1.5})",
                                        R"({"qps":"2"})",
                                        R"({"qps":true})",
                                        R"({"qpm":5})",    // below the default qps 10
                                        R"({"qps":700})",  // above the default qpm 600
                                        R"({"app_id":")" + app_id + R"(","qpm":200,"qpd":100})",
                                        R"({"app_id":7,"qps":1})",
                                        R"({"qps":1,"burst":3})"};
  for (const auto& body : bad) {
    const auto reply = client_.put("/_sandbox/limits", body);
    EXPECT_EQ(reply.status, 400U) << body << " -> " << reply.body;
    EXPECT_TRUE(reply.json().at("error").is_string()) << body;
  }
  const auto unknown = client_.put("/_sandbox/limits", R"({"app_id":"no-such-app","qps":1})");
  EXPECT_EQ(unknown.status, 404U) << unknown.body;
  EXPECT_TRUE(unknown.json().at("error").is_string());
  expect_start_limits();
  EXPECT_EQ(stats().at("apps").at(app_id).at("limits"),
            boost::json::parse(R"({"qps":10,"qpm":600,"qpd":864000})"));
}

TEST(limit_controls_no_limits, put_limits_is_409_when_the_budget_is_off) {
  sandbox_process sandbox({"--accounts", "10", "--seed", "1", "--no-limits"});
  http_client client(sandbox.port());
  const auto reply = client.put("/_sandbox/limits", R"({"qps":1})");
  EXPECT_EQ(reply.status, 409U) << reply.body;
  EXPECT_TRUE(reply.json().at("error").is_string());
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(code_of(client, admin_token), 0) << "call " << i;
  }
}

}  // namespace
}  // namespace unlinkd::test
