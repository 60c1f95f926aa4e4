// The pure pieces of the operations: report windows, ID reading, the calls
// of each mode, and what a listed item means.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "adapters/call_estimate.hpp"
#include "adapters/json_fields.hpp"
#include "adapters/report_windows.hpp"
#include "adapters/unlink_request.hpp"
#include "tests/adapters/ops_world.hpp"

namespace unlinkd::test {
namespace {

namespace ad = unlinkd::adapters;
namespace json = boost::json;
using config::unlink_mode;
using std::chrono::year_month_day;

year_month_day ymd(int y, unsigned m, unsigned d) {
  return year_month_day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
}

TEST(call_estimate, an_advertiser_with_campaigns_to_pause) {
  auto job = ops::job_for(ops::busy_ad, unlink_mode::partner_share);
  job.account.active_campaigns = config::campaign_policy::pause;
  job.account.backup.reports_since = ymd(2025, 1, 1);
  job.account.backup.reports_until = ymd(2025, 3, 31);
  const auto e =
      ad::estimate_calls(job, config::batch_action::unlink, {4, 1005, ad::relationship::present});
  EXPECT_EQ(e.preflight, 4U);
  // Info, two pages of campaigns, one of ad groups, one of ads, three report windows.
  EXPECT_EQ(e.backup, 1U + 2U + 1U + 1U + 3U);
  EXPECT_EQ(e.pause, 51U) << "20 campaigns a call";
  EXPECT_EQ(e.unlink, 1U);
  EXPECT_EQ(e.verify, 1U);
  EXPECT_EQ(e.total(), 4U + 8U + 51U + 1U + 1U);
}

TEST(call_estimate, already_gone_pause_only_and_the_budget) {
  auto job = ops::job_for(ops::busy_ad, unlink_mode::partner_share);
  const auto gone =
      ad::estimate_calls(job, config::batch_action::unlink, {2, 3, ad::relationship::already_gone});
  EXPECT_EQ(gone.total(), 3U) << "preflight, then verify only";
  const auto pause =
      ad::estimate_calls(job, config::batch_action::pause, {2, 3, ad::relationship::present});
  EXPECT_EQ(pause.pause, 1U);
  EXPECT_EQ(pause.unlink + pause.verify, 0U) << "action: pause stops after the pause";
  // The sustained budget is the smaller of qps and qpm / 60.
  EXPECT_DOUBLE_EQ(ad::seconds_at_budget(600, 10, 600), 60.0);
  EXPECT_DOUBLE_EQ(ad::seconds_at_budget(600, 50, 600), 60.0);
  EXPECT_DOUBLE_EQ(ad::seconds_at_budget(600, 0, 0), 0.0);
}

TEST(report_windows, ninety_days_are_three_windows_of_thirty) {
  const auto w = ad::report_windows(ymd(2025, 1, 1), ymd(2025, 3, 31));
  ASSERT_EQ(w.size(), 3U);
  EXPECT_EQ(w[0], (ad::report_window{ymd(2025, 1, 1), ymd(2025, 1, 30)}));
  EXPECT_EQ(w[1], (ad::report_window{ymd(2025, 1, 31), ymd(2025, 3, 1)}));
  EXPECT_EQ(w[2], (ad::report_window{ymd(2025, 3, 2), ymd(2025, 3, 31)}));
}

TEST(report_windows, edges) {
  EXPECT_EQ(ad::report_windows(ymd(2025, 1, 1), ymd(2025, 1, 1)).size(), 1U);
  EXPECT_EQ(ad::report_windows(ymd(2025, 1, 1), ymd(2025, 1, 31)).size(), 2U);
  EXPECT_TRUE(ad::report_windows(ymd(2025, 2, 1), ymd(2025, 1, 31)).empty());
  // A leap day and a whole year: 366 days need 13 windows.
  const auto leap = ad::report_windows(ymd(2024, 1, 1), ymd(2024, 12, 31));
  EXPECT_EQ(leap.size(), 13U);
  EXPECT_EQ(leap.back().last, ymd(2024, 12, 31));
  for (std::size_t i = 1; i < leap.size(); ++i) {
    EXPECT_EQ(std::chrono::sys_days{leap[i].first},
              std::chrono::sys_days{leap[i - 1].last} + std::chrono::days{1});
  }
}

TEST(json_fields, ids_are_read_as_strings_or_numbers_and_kept_as_text) {
  EXPECT_EQ(ad::id_text(json::value("7123456789012345678")), "7123456789012345678");
  EXPECT_EQ(ad::id_text(json::parse("7123456789012345678")), "7123456789012345678");
  EXPECT_EQ(ad::id_text(json::parse("18446744073709551615")), "18446744073709551615");
  EXPECT_FALSE(ad::id_text(json::parse("-5")));
  EXPECT_FALSE(ad::id_text(json::parse("1.5e18")));
  EXPECT_FALSE(ad::id_text(json::value("12a")));
  EXPECT_FALSE(ad::id_text(json::value("0123")));
  const auto data = json::parse(R"({"list": [1], "page_info": {"total_page": 4}})");
  ASSERT_NE(ad::list_of(data), nullptr);
  EXPECT_EQ(ad::total_pages_of(data), 4U);
  EXPECT_EQ(ad::list_of(json::parse("{}")), nullptr);
}

TEST(unlink_requests, each_mode_sends_its_one_call_and_never_disable) {
  struct expected {
    unlink_mode mode;
    const char* id;
    const char* path;
    const char* body;
  };
  const expected cases[] = {
      {unlink_mode::partner_share, ops::shared_ad, "/bc/partner/asset/delete/",
       R"({"bc_id":"7000000000000000100","partner_id":"7000000000000000200","asset_type":"ADVERTISER","asset_ids":["7100000000000000001"]})"},
      {unlink_mode::bc_asset, ops::tt_asset, "/bc/asset/admin/delete/",
       R"({"bc_id":"7000000000000000100","asset_type":"TT_ACCOUNT","asset_ids":["7200000000000000001"]})"},
      {unlink_mode::tiktok_binding, ops::tt_bound, "/bc/asset/advertiser/unassign/",
       R"({"bc_id":"7000000000000000100","asset_id":"7200000000000000002","asset_type":"TT_ACCOUNT","advertiser_id":"7100000000000000003"})"},
  };
  for (const auto& c : cases) {
    const auto calls = ad::unlink_requests(ops::job_for(c.id, c.mode));
    ASSERT_EQ(calls.size(), 1U);
    EXPECT_EQ(calls[0].path, c.path);
    EXPECT_TRUE(calls[0].mutating());
    EXPECT_EQ(calls[0].body, json::parse(c.body).as_object());
  }
  const auto members =
      ad::unlink_requests(ops::job_for(ops::member_ad, unlink_mode::member_access));
  ASSERT_EQ(members.size(), 2U);
  EXPECT_EQ(
      members[1].body,
      json::parse(
          R"({"bc_id":"7000000000000000100","user_id":"6900000000000000004","asset_type":"ADVERTISER","asset_id":"7100000000000000002"})")
          .as_object());
  EXPECT_TRUE(ad::unlink_requests(ops::job_for(ops::busy_ad, std::nullopt)).empty());
}

TEST(unlink_requests, the_relationship_read_of_each_mode) {
  const auto share =
      ad::relationship_read(ops::job_for(ops::shared_ad, unlink_mode::partner_share));
  EXPECT_EQ(share.path, "/bc/asset/partner/get/");
  EXPECT_FALSE(share.mutating());
  EXPECT_EQ(ad::relationship_read(ops::job_for(ops::member_ad, unlink_mode::member_access)).path,
            "/bc/asset/member/get/");
  const auto asset = ad::relationship_read(ops::job_for(ops::tt_asset, unlink_mode::bc_asset));
  EXPECT_EQ(asset.path, "/bc/asset/admin/get/");
  EXPECT_NE(std::find(asset.query.begin(), asset.query.end(),
                      std::pair<std::string, std::string>{"filtering",
                                                          R"({"keyword":"7200000000000000001"})"}),
            asset.query.end());
  EXPECT_EQ(ad::relationship_read(ops::job_for(ops::tt_bound, unlink_mode::tiktok_binding)).path,
            "/bc/asset/advertiser/assigned/");
  EXPECT_EQ(ad::relationship_page_size(unlink_mode::member_access), 20U);
  EXPECT_EQ(ad::relationship_page_size(unlink_mode::partner_share), 50U);
}

TEST(unlink_requests, a_listed_item_is_recognised_by_the_key_of_the_mode) {
  const auto share = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  EXPECT_EQ(
      ad::relationship_key(share, json::parse(R"({"bc_id":"7000000000000000200"})").as_object()),
      ops::partner_bc);
  // An ID given as a number is the same ID.
  EXPECT_EQ(
      ad::relationship_key(share, json::parse(R"({"bc_id":7000000000000000200})").as_object()),
      ops::partner_bc);
  EXPECT_EQ(
      ad::relationship_key(share, json::parse(R"({"bc_id":"7000000000000000300"})").as_object()),
      "");
  const auto members = ops::job_for(ops::member_ad, unlink_mode::member_access);
  EXPECT_EQ(ad::relationship_key(members,
                                 json::parse(R"({"user_id":"6900000000000000004"})").as_object()),
            "6900000000000000004");
  EXPECT_EQ(ad::relationship_key(members,
                                 json::parse(R"({"user_id":"6900000000000000009"})").as_object()),
            "");
  const auto binding = ops::job_for(ops::tt_bound, unlink_mode::tiktok_binding);
  EXPECT_EQ(ad::relationship_key(
                binding, json::parse(R"({"advertiser_id":"7100000000000000003"})").as_object()),
            ops::bound_ad);
}

TEST(unlink_requests, jobs_missing_what_their_mode_needs_are_refused) {
  auto job = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  EXPECT_EQ(ad::job_problem(job), "");
  job.account.partner_id.clear();
  EXPECT_NE(ad::job_problem(job), "");
  auto members = ops::job_for(ops::member_ad, unlink_mode::member_access);
  members.account.members = {"x1"};
  EXPECT_NE(ad::job_problem(members), "");
  auto wrong_type = ops::job_for(ops::tt_asset, unlink_mode::bc_asset);
  wrong_type.account.type = config::account_type::advertiser;
  EXPECT_NE(ad::job_problem(wrong_type), "");
  auto bad_id = ops::job_for("12ab", unlink_mode::bc_asset);
  EXPECT_NE(ad::job_problem(bad_id), "");
}

TEST(unlink_requests, pause_sends_disable_for_the_given_campaigns) {
  const std::vector<std::string> ids{"1", "2"};
  const auto r = ad::pause_request("7100000000000000001", ids);
  EXPECT_EQ(r.path, "/campaign/status/update/");
  EXPECT_EQ(
      json::serialize(r.body),
      R"({"advertiser_id":"7100000000000000001","campaign_ids":["1","2"],"operation_status":"DISABLE"})");
  EXPECT_EQ(r.scope, ad::call_scope::account_level);
}

}  // namespace
}  // namespace unlinkd::test
