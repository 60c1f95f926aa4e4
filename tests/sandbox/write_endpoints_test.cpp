// Contract tests of the calls that change state: each unlink mode removes
// its relationship once, answers 40002 the second time, and is counted; only
// a BC admin may call them; /bc/advertiser/disable/ is counted always.
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "config/manifest_parser.hpp"
#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::test {
namespace {

namespace json = boost::json;

const std::string api = "/open_api/v1.3";
const std::string admin_token = "sbx-admin-4";
const std::string standard_token = "sbx-standard-4";

std::int64_t code_of(const json::value& reply) { return reply.at("code").as_int64(); }

class sandbox_writes : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(sandbox_.dir() + "/manifest.yaml");
    std::ostringstream text;
    text << in.rdbuf();
    auto parsed = config::parse_manifest(text.str(), "manifest.yaml", {}, config::utc_today());
    ASSERT_TRUE(parsed.value.has_value()) << parsed.problems.to_text();
    manifest_ = std::move(*parsed.value);
  }

  const config::account& first(config::unlink_mode mode) {
    for (const auto& a : manifest_.accounts) {
      if (a.mode == mode) {
        return a;
      }
    }
    throw std::runtime_error("the generated manifest has no account with that mode");
  }

  json::value post(const std::string& path, const json::object& body,
                   const std::string& token = admin_token) {
    return client_.post(api + path, json::serialize(body), token).json();
  }

  json::value account_stats(const std::string& id) {
    const auto stats = client_.get("/_sandbox/stats").json();
    const auto* account = stats.at("accounts").as_object().if_contains(id);
    return account == nullptr ? json::value(nullptr) : *account;
  }

  json::value state(const std::string& id) {
    return client_.get("/_sandbox/state?asset_id=" + id).json();
  }

  [[nodiscard]] const std::string& bc() const { return manifest_.business_center_id; }

  sandbox_process sandbox_{{"--accounts", "30", "--seed", "4", "--manifest-out",
                            "{dir}/manifest.yaml",
                            "--no-limits"}};  // many calls at once; the budget is budget_test.cpp's
  http_client client_{sandbox_.port()};
  config::manifest manifest_;
};

TEST_F(sandbox_writes, partner_share_is_removed_once_then_answers_40002) {
  const auto& a = first(config::unlink_mode::partner_share);
  const json::object body{{"bc_id", bc()},
                          {"partner_id", a.partner_id},
                          {"asset_type", "ADVERTISER"},
                          {"asset_ids", json::array{json::value(a.id)}}};
  EXPECT_EQ(state(a.id).at("shared_with_partners").as_array().size(), 1U);
  EXPECT_EQ(code_of(post("/bc/partner/asset/delete/", body)), 0);
  EXPECT_TRUE(state(a.id).at("shared_with_partners").as_array().empty());
  const auto again = post("/bc/partner/asset/delete/", body);
  EXPECT_EQ(code_of(again), 40002) << again;
  const auto counted = account_stats(a.id);
  EXPECT_EQ(counted.at("mutations_attempted").as_int64(), 2);
  EXPECT_EQ(counted.at("mutations_applied").as_int64(), 1);
}

TEST_F(sandbox_writes, member_access_is_removed_per_member) {
  const auto& a = first(config::unlink_mode::member_access);
  for (const auto& member : a.members) {
    const json::object body{
        {"bc_id", bc()}, {"user_id", member}, {"asset_type", "ADVERTISER"}, {"asset_id", a.id}};
    EXPECT_EQ(code_of(post("/bc/asset/unassign/", body)), 0);
    EXPECT_EQ(code_of(post("/bc/asset/unassign/", body)), 40002);
  }
  EXPECT_TRUE(state(a.id).at("members").as_array().empty());
  EXPECT_EQ(account_stats(a.id).at("mutations_applied").as_int64(),
            static_cast<std::int64_t>(a.members.size()));
}

TEST_F(sandbox_writes, bc_asset_removes_a_tiktok_account_but_never_an_ad_account) {
  const auto& tt = first(config::unlink_mode::bc_asset);
  const json::object body{{"bc_id", bc()},
                          {"asset_type", "TT_ACCOUNT"},
                          {"asset_ids", json::array{json::value(tt.id)}}};
  EXPECT_EQ(code_of(post("/bc/asset/admin/delete/", body)), 0);
  EXPECT_TRUE(state(tt.id).at("in_business_centers").as_array().empty());
  EXPECT_EQ(code_of(post("/bc/asset/admin/delete/", body)), 40002);

  const auto& ad_account = first(config::unlink_mode::partner_share);
  const auto refused =
      post("/bc/asset/admin/delete/", {{"bc_id", bc()},
                                       {"asset_type", "ADVERTISER"},
                                       {"asset_ids", json::array{json::value(ad_account.id)}}});
  EXPECT_EQ(code_of(refused), 40000);
  EXPECT_EQ(refused.at("message").as_string(), "This action isn't supported");
  EXPECT_EQ(state(ad_account.id).at("in_business_centers").as_array().size(), 1U);
}

TEST_F(sandbox_writes, tiktok_binding_is_removed_once) {
  const auto& tt = first(config::unlink_mode::tiktok_binding);
  const json::object body{{"bc_id", bc()},
                          {"asset_id", tt.id},
                          {"asset_type", "TT_ACCOUNT"},
                          {"advertiser_id", tt.advertiser_id}};
  EXPECT_EQ(state(tt.id).at("bound_advertisers").as_array().size(), 1U);
  EXPECT_EQ(code_of(post("/bc/asset/advertiser/unassign/", body)), 0);
  EXPECT_TRUE(state(tt.id).at("bound_advertisers").as_array().empty());
  EXPECT_EQ(code_of(post("/bc/asset/advertiser/unassign/", body)), 40002);
}

TEST_F(sandbox_writes, only_a_bc_admin_may_unlink) {
  const auto& a = first(config::unlink_mode::partner_share);
  const json::object body{{"bc_id", bc()},
                          {"partner_id", a.partner_id},
                          {"asset_type", "ADVERTISER"},
                          {"asset_ids", json::array{json::value(a.id)}}};
  EXPECT_EQ(code_of(post("/bc/partner/asset/delete/", body, standard_token)), 40001);
  EXPECT_EQ(state(a.id).at("shared_with_partners").as_array().size(), 1U);
}

TEST_F(sandbox_writes, parameters_are_checked_before_anything_changes) {
  const auto& a = first(config::unlink_mode::partner_share);
  EXPECT_EQ(
      code_of(post("/bc/partner/asset/delete/", {{"partner_id", a.partner_id},
                                                 {"asset_type", "ADVERTISER"},
                                                 {"asset_ids", json::array{json::value(a.id)}}})),
      40002);  // no bc_id
  EXPECT_EQ(
      code_of(post("/bc/partner/asset/delete/", {{"bc_id", bc()},
                                                 {"partner_id", a.partner_id},
                                                 {"asset_type", "PIXEL"},
                                                 {"asset_ids", json::array{json::value(a.id)}}})),
      40002);
  EXPECT_EQ(
      code_of(client_.post(api + "/bc/partner/asset/delete/", "{not json", admin_token).json()),
      40002);
  EXPECT_EQ(client_.get(api + "/bc/partner/asset/delete/", admin_token).status, 405U);
  EXPECT_EQ(state(a.id).at("shared_with_partners").as_array().size(), 1U);
}

TEST_F(sandbox_writes, advertiser_disable_is_counted_whatever_it_answers) {
  const auto& a = first(config::unlink_mode::partner_share);
  post("/bc/advertiser/disable/",
       {{"bc_id", bc()}, {"advertiser_ids", json::array{json::value(a.id)}}}, standard_token);
  const auto reply = post("/bc/advertiser/disable/",
                          {{"bc_id", bc()}, {"advertiser_ids", json::array{json::value(a.id)}}});
  EXPECT_EQ(code_of(reply), 0);
  EXPECT_EQ(reply.at("data").at("disabled_advertiser_ids").as_array().size(), 1U);
  const auto stats = client_.get("/_sandbox/stats").json();
  EXPECT_EQ(stats.at("advertiser_disable_calls").as_int64(), 2);
}

TEST_F(sandbox_writes, campaigns_are_disabled_at_most_20_per_call) {
  // An advertiser of ours with campaigns: find one through /campaign/get/.
  for (const auto& a : manifest_.accounts) {
    if (a.type != config::account_type::advertiser) {
      continue;
    }
    const auto page = client_.get(api + "/campaign/get/?advertiser_id=" + a.id, admin_token).json();
    const auto& list = page.at("data").at("list").as_array();
    if (list.empty()) {
      continue;
    }
    json::array ids;
    for (const auto& c : list) {
      ids.push_back(c.at("campaign_id"));
    }
    const auto reply =
        post("/campaign/status/update/",
             {{"advertiser_id", a.id}, {"campaign_ids", ids}, {"operation_status", "DISABLE"}});
    ASSERT_EQ(code_of(reply), 0) << reply;
    const auto after =
        client_.get(api + "/campaign/get/?advertiser_id=" + a.id, admin_token).json();
    for (const auto& c : after.at("data").at("list").as_array()) {
      EXPECT_EQ(c.at("operation_status").as_string(), "DISABLE");
    }
    json::array too_many;
    for (int i = 0; i < 21; ++i) {
      too_many.push_back(ids[0]);
    }
    EXPECT_EQ(code_of(post("/campaign/status/update/", {{"advertiser_id", a.id},
                                                        {"campaign_ids", too_many},
                                                        {"operation_status", "DISABLE"}})),
              40002);
    return;
  }
  FAIL() << "no advertiser with campaigns in the generated world";
}

}  // namespace
}  // namespace unlinkd::test
