// The five operations through the sandbox's real API logic (in process):
// every unlink mode from preflight to verify, the refusals, the campaign
// policies, pagination, the error classes, dry run and "nothing twice".
#include <filesystem>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "adapters/tiktok_platform.hpp"
#include "sandbox/api_service.hpp"
#include "tests/adapters/ops_sandbox_client.hpp"
#include "tests/adapters/ops_world.hpp"

namespace unlinkd::test {
namespace {

namespace ad = unlinkd::adapters;
namespace json = boost::json;
using config::unlink_mode;
using namespace std::chrono_literals;

class operations : public ::testing::Test {
 protected:
  explicit operations(sandbox::service_options options = {})
      : service_(ops::world(), 1, with_no_limits(std::move(options))), client_(service_) {
    backups_ = std::filesystem::temp_directory_path() /
               ("ops-platform-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(backups_);
    admin_ = ops::admin_profile();
    standard_ = ops::standard_profile();
    ctx_.credential = &admin_;
    ctx_.batch = "ops-test-batch";
    ctx_.base_url = "http://sandbox.invalid";
  }
  ~operations() override {
    // No operation may ever disable an ad account (PRODUCT.md §3).
    EXPECT_EQ(client_.count("/bc/advertiser/disable/"), 0U);
    const auto stats =
        json::parse(client_.admin(sandbox::http_method::get, "/_sandbox/stats").body);
    EXPECT_EQ(stats.at("advertiser_disable_calls").to_number<std::uint64_t>(), 0U);
    std::filesystem::remove_all(backups_);
  }

  static sandbox::service_options with_no_limits(sandbox::service_options o) {
    o.limits_enabled = false;
    return o;
  }

  ad::tiktok_platform make_platform(ad::platform_options options = {}) {
    if (!options.clock) {
      options.clock = [this] { return now_; };
    }
    options.min_free_bytes = 1;
    return {client_, backups_, std::move(options)};
  }

  void put_faults(const std::string& yaml) {
    const auto r = client_.admin(sandbox::http_method::put, "/_sandbox/faults", yaml);
    ASSERT_EQ(r.status, 200U) << r.body;
  }

  // Mutations the sandbox applied for an asset (its own count, not ours).
  std::uint64_t applied(const std::string& asset) {
    const auto stats =
        json::parse(client_.admin(sandbox::http_method::get, "/_sandbox/stats").body);
    const auto* accounts = stats.at("accounts").if_object();
    if (accounts == nullptr || !accounts->contains(asset)) {
      return 0;
    }
    return accounts->at(asset).at("mutations_applied").to_number<std::uint64_t>();
  }

  boost::asio::io_context io_;
  sandbox::api_service service_;
  ops_sandbox_client client_;
  std::filesystem::path backups_;
  config::credential_profile admin_;
  config::credential_profile standard_;
  ad::call_context ctx_;
  std::chrono::steady_clock::time_point now_{std::chrono::hours{1}};
};

// preflight → pause → unlink → verify for one account, checking each step.
struct full_run {
  ad::preflight_outcome pre;
  ad::pause_outcome paused;
  ad::unlink_outcome unlinked;
  ad::verify_outcome verified;
};

full_run run_all(boost::asio::io_context& io, ad::tiktok_platform& p, const ad::call_context& ctx,
                 const ad::account_job& job) {
  full_run r;
  auto pre = ops::run(io, p.preflight(ctx, job));
  EXPECT_TRUE(pre) << pre.error().message;
  if (!pre) {
    return r;
  }
  r.pre = *pre;
  auto paused = ops::run(io, p.pause_campaigns(ctx, job, r.pre.active_campaign_ids));
  EXPECT_TRUE(paused) << paused.error().message;
  r.paused = paused ? *paused : ad::pause_outcome{};
  auto unlinked = ops::run(io, p.unlink(ctx, job));
  EXPECT_TRUE(unlinked) << unlinked.error().message;
  r.unlinked = unlinked ? *unlinked : ad::unlink_outcome{};
  auto verified = ops::run(io, p.verify(ctx, job));
  EXPECT_TRUE(verified) << verified.error().message;
  r.verified = verified ? *verified : ad::verify_outcome{};
  return r;
}

TEST_F(operations, partner_share_from_preflight_to_verify) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  const auto r = run_all(io_, p, ctx_, job);
  EXPECT_EQ(r.pre.found, ad::relationship::present);
  EXPECT_EQ(r.pre.bc_user_role, "ADMIN");
  EXPECT_EQ(r.pre.active_campaign_ids, std::vector<std::string>{"1700000000000000001"});
  // user/info, bc/get, the shared-to-us list, the relationship, the campaigns.
  EXPECT_EQ(r.pre.api_calls, 5U);
  EXPECT_EQ(r.paused.paused_campaign_ids, std::vector<std::string>{"1700000000000000001"});
  EXPECT_EQ(r.paused.api_calls, 1U);
  EXPECT_EQ(r.unlinked.api_calls, 1U);
  EXPECT_EQ(r.verified.found, ad::relationship::already_gone);
  EXPECT_EQ(r.verified.api_calls, 1U);
  EXPECT_EQ(client_.count("/bc/partner/asset/delete/"), 1U);
  EXPECT_EQ(applied(ops::shared_ad), 2U);  // the pause and the unlink, once each
  // The campaign really is disabled now: a second preflight sees none active.
  auto again = ops::run(io_, p.preflight(ctx_, job));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->found, ad::relationship::already_gone);
}

TEST_F(operations, member_access_removes_every_member) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::member_ad, unlink_mode::member_access);
  const auto r = run_all(io_, p, ctx_, job);
  EXPECT_EQ(r.pre.found, ad::relationship::present);
  EXPECT_EQ(r.unlinked.api_calls, 2U);  // one per member
  EXPECT_EQ(client_.count("/bc/asset/unassign/"), 2U);
  EXPECT_EQ(r.verified.found, ad::relationship::already_gone);
}

TEST_F(operations, bc_asset_deletes_the_tiktok_account_from_the_bc) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::tt_asset, unlink_mode::bc_asset);
  const auto r = run_all(io_, p, ctx_, job);
  EXPECT_EQ(r.pre.found, ad::relationship::present);
  EXPECT_TRUE(r.pre.active_campaign_ids.empty());
  EXPECT_EQ(r.pre.api_calls, 3U);  // user/info, bc/get, the asset's own admin read
  EXPECT_EQ(r.paused.api_calls, 0U);
  EXPECT_EQ(r.unlinked.api_calls, 1U);
  EXPECT_EQ(client_.count("/bc/asset/admin/delete/"), 1U);
  EXPECT_EQ(r.verified.found, ad::relationship::already_gone);
  EXPECT_EQ(r.verified.api_calls, 3U);  // the BC's whole TT listing: 119 assets, 3 pages
}

TEST_F(operations, tiktok_binding_unbinds_the_ad_account) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::tt_bound, unlink_mode::tiktok_binding);
  const auto r = run_all(io_, p, ctx_, job);
  EXPECT_EQ(r.pre.found, ad::relationship::present);
  EXPECT_EQ(r.pre.api_calls, 4U);  // user/info, bc/get, shared-to-us (TT), assigned
  EXPECT_EQ(r.unlinked.api_calls, 1U);
  EXPECT_EQ(client_.count("/bc/asset/advertiser/unassign/"), 1U);
  EXPECT_EQ(r.verified.found, ad::relationship::already_gone);
  // The TikTok account itself stays in the BC.
  auto still = ops::run(io_, p.preflight(ctx_, ops::job_for(ops::tt_bound, unlink_mode::bc_asset)));
  ASSERT_TRUE(still);
  EXPECT_EQ(still->found, ad::relationship::present);
}

TEST_F(operations, an_account_already_out_goes_straight_to_verify) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::unshared_ad, unlink_mode::partner_share);
  auto pre = ops::run(io_, p.preflight(ctx_, job));
  ASSERT_TRUE(pre) << pre.error().message;
  EXPECT_EQ(pre->found, ad::relationship::already_gone);
  EXPECT_EQ(client_.count("/campaign/get/"), 0U);  // no campaigns read for a gone account
  auto v = ops::run(io_, p.verify(ctx_, job));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->found, ad::relationship::already_gone);
}

TEST_F(operations, an_asset_a_partner_shared_to_us_is_refused_in_every_mode) {
  auto p = make_platform();
  for (const auto mode : {unlink_mode::partner_share, unlink_mode::member_access}) {
    auto pre = ops::run(io_, p.preflight(ctx_, ops::job_for(ops::partners_ad, mode)));
    ASSERT_FALSE(pre);
    EXPECT_EQ(pre.error().kind, ad::error_class::permanent);
    EXPECT_EQ(pre.error().code, 0);
    EXPECT_NE(pre.error().message.find("OWNER_PARTNER"), std::string::npos) << pre.error().message;
  }
  // The shared-to-us list was read once and served the second account.
  EXPECT_EQ(client_.count("/bc/asset/admin/get/"), 1U);
  EXPECT_EQ(client_.count("/bc/asset/member/get/"), 0U);
}

TEST_F(operations, bc_asset_refuses_a_tiktok_account_the_bc_does_not_own) {
  auto p = make_platform();
  auto pre = ops::run(
      io_, p.preflight(ctx_, ops::job_for(ops::tt_id(ops::tt_accounts), unlink_mode::bc_asset)));
  ASSERT_FALSE(pre);
  EXPECT_EQ(pre.error().kind, ad::error_class::permanent);
  EXPECT_NE(pre.error().message.find("OWNER_INDIVIDUAL"), std::string::npos) << pre.error().message;
}

TEST_F(operations, active_campaigns_with_policy_fail_stop_the_account) {
  auto p = make_platform();
  auto job = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  job.account.active_campaigns = config::campaign_policy::fail;
  auto pre = ops::run(io_, p.preflight(ctx_, job));
  ASSERT_FALSE(pre);
  EXPECT_EQ(pre.error().kind, ad::error_class::permanent);
  EXPECT_NE(pre.error().message.find("1700000000000000001"), std::string::npos);
  EXPECT_NE(pre.error().message.find("active_campaigns: fail"), std::string::npos);
  // ignore goes on and still reports them.
  job.account.active_campaigns = config::campaign_policy::ignore;
  auto ignored = ops::run(io_, p.preflight(ctx_, job));
  ASSERT_TRUE(ignored);
  EXPECT_EQ(ignored->active_campaign_ids.size(), 1U);
}

TEST_F(operations, many_campaigns_are_listed_over_pages_and_paused_20_per_call) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::busy_ad, std::nullopt);  // action: pause
  auto pre = ops::run(io_, p.preflight(ctx_, job));
  ASSERT_TRUE(pre) << pre.error().message;
  EXPECT_EQ(pre->active_campaign_ids.size(), static_cast<std::size_t>(ops::busy_campaigns));
  EXPECT_EQ(client_.count("/campaign/get/"), 2U);  // 1,000 + 5
  auto paused = ops::run(io_, p.pause_campaigns(ctx_, job, pre->active_campaign_ids));
  ASSERT_TRUE(paused) << paused.error().message;
  EXPECT_EQ(paused->api_calls, 51U);  // ceil(1005 / 20)
  EXPECT_EQ(paused->paused_campaign_ids, pre->active_campaign_ids);
  for (const auto& r : client_.requests()) {
    if (r.path == "/campaign/status/update/") {
      const auto body = json::parse(r.body);
      EXPECT_LE(body.at("campaign_ids").as_array().size(), 20U);
      EXPECT_EQ(body.at("operation_status").as_string(), "DISABLE");
    }
  }
  auto after = ops::run(io_, p.preflight(ctx_, job));
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->active_campaign_ids.empty());
}

TEST_F(operations, member_lists_over_several_pages) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::crowded_ad, unlink_mode::member_access);
  auto pre = ops::run(io_, p.preflight(ctx_, job));
  ASSERT_TRUE(pre) << pre.error().message;
  EXPECT_EQ(pre->found, ad::relationship::present);
  EXPECT_EQ(client_.count("/bc/asset/member/get/"), 3U);  // 20 + 20 + 5
  auto unlinked = ops::run(io_, p.unlink(ctx_, job));
  ASSERT_TRUE(unlinked) << unlinked.error().message;
  EXPECT_EQ(unlinked->api_calls, static_cast<std::uint32_t>(ops::crowded_members));
  auto v = ops::run(io_, p.verify(ctx_, job));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->found, ad::relationship::already_gone);
}

TEST_F(operations, a_standard_member_cannot_unlink) {
  auto p = make_platform();
  ctx_.credential = &standard_;
  auto pre =
      ops::run(io_, p.preflight(ctx_, ops::job_for(ops::shared_ad, unlink_mode::partner_share)));
  ASSERT_FALSE(pre);
  EXPECT_EQ(pre.error().kind, ad::error_class::credential);
  EXPECT_NE(pre.error().message.find("STANDARD"), std::string::npos);
  EXPECT_NE(pre.error().message.find("ADMIN"), std::string::npos);
}

TEST_F(operations, a_bc_the_credential_cannot_see_is_a_credential_problem) {
  auto p = make_platform();
  auto job = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  job.business_center_id = "7000000000000000999";
  auto pre = ops::run(io_, p.preflight(ctx_, job));
  ASSERT_FALSE(pre);
  EXPECT_EQ(pre.error().kind, ad::error_class::credential);
  EXPECT_FALSE(pre.error().request_id.empty());
}

TEST_F(operations, a_revoked_token_is_a_credential_problem_with_the_api_words) {
  auto p = make_platform();
  client_.admin(sandbox::http_method::post, "/_sandbox/tokens/revoke",
                R"({"token": "ops-admin-token"})");
  auto pre =
      ops::run(io_, p.preflight(ctx_, ops::job_for(ops::shared_ad, unlink_mode::partner_share)));
  ASSERT_FALSE(pre);
  EXPECT_EQ(pre.error().kind, ad::error_class::credential);
  EXPECT_EQ(pre.error().code, 40105);
  EXPECT_FALSE(pre.error().request_id.empty());
  EXPECT_FALSE(pre.error().message.empty());
}

TEST_F(operations, a_missing_permission_on_one_account_fails_only_that_account) {
  auto p = make_platform();
  // The partner's own ad account, which no token of ours may read: 40001 at account level.
  auto job = ops::job_for("7100000000000000099", std::nullopt);
  auto pre = ops::run(io_, p.preflight(ctx_, job));
  ASSERT_FALSE(pre);
  EXPECT_EQ(pre.error().code, 40001);
  EXPECT_EQ(pre.error().kind, ad::error_class::permanent);
}

TEST_F(operations, injected_api_errors_surface_classified_with_code_and_request_id) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  struct expectation {
    const char* slot;
    std::int64_t code;
    ad::error_class kind;
  };
  for (const auto& e : {expectation{"api_50002", 50002, ad::error_class::retryable},
                        expectation{"api_40100", 40100, ad::error_class::rate_limited},
                        expectation{"api_51xxx", 51000, ad::error_class::retryable}}) {
    put_faults(std::string("faults: {") + e.slot + ": 1}\n");
    auto v = ops::run(io_, p.verify(ctx_, job));
    ASSERT_FALSE(v) << e.slot;
    EXPECT_EQ(v.error().code, e.code);
    EXPECT_EQ(v.error().kind, e.kind);
    EXPECT_FALSE(v.error().request_id.empty());
  }
  put_faults("faults: {http_503: 1}\n");
  auto v = ops::run(io_, p.verify(ctx_, job));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().kind, ad::error_class::retryable);
  EXPECT_EQ(v.error().http_status, 503);
}

TEST_F(operations, a_reset_after_the_write_is_an_unknown_outcome_and_never_resent) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  put_faults("faults: {reset_after_apply: 1}\nmutating_only: true\n");
  auto u = ops::run(io_, p.unlink(ctx_, job));
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().kind, ad::error_class::unknown_outcome);
  EXPECT_EQ(client_.count("/bc/partner/asset/delete/"), 1U);  // not resent by the operation
  put_faults("");
  auto v = ops::run(io_, p.verify(ctx_, job));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->found, ad::relationship::already_gone);  // the write had been applied
  EXPECT_EQ(applied(ops::shared_ad), 1U);               // and only once
}

TEST_F(operations, an_unlink_sent_again_after_it_took_reads_and_succeeds) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::member_ad, unlink_mode::member_access);
  ASSERT_TRUE(ops::run(io_, p.unlink(ctx_, job)));
  client_.clear();
  // The scheduler resends after verify_deadline (its reply was lost): the API
  // answers 40002 "no access", the read shows it gone, so it is done.
  auto again = ops::run(io_, p.unlink(ctx_, job));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(client_.count("/bc/asset/unassign/"), 2U);
  EXPECT_EQ(client_.count("/bc/asset/member/get/"), 2U);
  EXPECT_EQ(applied(ops::member_ad), 2U);  // once per member, never twice
}

TEST_F(operations, a_resend_after_a_member_list_cut_short_sends_only_the_members_still_listed) {
  auto p = make_platform();
  auto job = ops::job_for(ops::member_ad, unlink_mode::member_access);
  // The first member's removal goes through; the second's reply is lost
  // before it reaches the API (a crash there acts the same).
  client_.fail_call(2, ad::api_error{ad::error_class::unknown_outcome, 0, 0, "reset", ""});
  auto u = ops::run(io_, p.unlink(ctx_, job));
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().kind, ad::error_class::unknown_outcome);
  auto v = ops::run(io_, p.verify(ctx_, job));
  ASSERT_TRUE(v);
  ASSERT_EQ(v->found, ad::relationship::present);
  EXPECT_EQ(v->still_listed, std::vector<std::string>{job.account.members.at(1)});
  // After verify_deadline the scheduler resends what verify still read.
  job.resend_only = v->still_listed;
  client_.clear();
  auto again = ops::run(io_, p.unlink(ctx_, job));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(client_.count("/bc/asset/unassign/"), 1U);  // the removed member is not sent again
  EXPECT_EQ(applied(ops::member_ad), 2U);
  auto after = ops::run(io_, p.verify(ctx_, job));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->found, ad::relationship::already_gone);
  EXPECT_TRUE(after->still_listed.empty());
}

TEST_F(operations, an_error_after_part_of_a_member_list_went_through_is_an_unknown_outcome) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::member_ad, unlink_mode::member_access);
  client_.fail_call(2, ad::api_error{ad::error_class::retryable, 50002, 200, "busy", "REQ-2"});
  auto u = ops::run(io_, p.unlink(ctx_, job));
  ASSERT_FALSE(u);
  // The first member is gone: a plain retry would send its removal again.
  EXPECT_EQ(u.error().kind, ad::error_class::unknown_outcome);
  EXPECT_EQ(u.error().code, 50002);
  EXPECT_NE(u.error().message.find("after 1 of 2 removals went through"), std::string::npos)
      << u.error().message;
  EXPECT_EQ(applied(ops::member_ad), 1U);
}

TEST_F(operations, an_error_on_the_first_removal_keeps_its_class) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::member_ad, unlink_mode::member_access);
  client_.fail_call(1, ad::api_error{ad::error_class::retryable, 50002, 200, "busy", "REQ-1"});
  auto u = ops::run(io_, p.unlink(ctx_, job));
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().kind, ad::error_class::retryable);
  EXPECT_EQ(applied(ops::member_ad), 0U);
}

TEST_F(operations, a_40002_on_a_relationship_still_listed_stays_an_error) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  client_.fail_call(1, ad::api_error{ad::error_class::permanent, 40002, 200,
                                     "Asset is not shared with partner.", "REQ-1"});
  auto u = ops::run(io_, p.unlink(ctx_, job));
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, 40002);
  EXPECT_EQ(u.error().request_id, "REQ-1");
  EXPECT_EQ(client_.count("/bc/asset/partner/get/"), 1U);  // it looked before failing
}

TEST_F(operations, a_partner_that_is_not_one_means_the_share_is_not_there) {
  auto p = make_platform();
  auto job = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  job.account.partner_id = "7000000000000000001";  // no share to it exists
  auto pre = ops::run(io_, p.preflight(ctx_, job));
  ASSERT_TRUE(pre) << pre.error().message;
  EXPECT_EQ(pre->found, ad::relationship::already_gone);
}

TEST_F(operations, dry_run_refuses_every_mutating_call) {
  auto p = make_platform();
  ctx_.dry_run = true;
  for (const auto mode : {unlink_mode::partner_share, unlink_mode::member_access,
                          unlink_mode::bc_asset, unlink_mode::tiktok_binding}) {
    const char* id = mode == unlink_mode::partner_share   ? ops::shared_ad
                     : mode == unlink_mode::member_access ? ops::member_ad
                     : mode == unlink_mode::bc_asset      ? ops::tt_asset
                                                          : ops::tt_bound;
    const auto job = ops::job_for(id, mode);
    auto pre = ops::run(io_, p.preflight(ctx_, job));
    ASSERT_TRUE(pre) << pre.error().message;  // preflight is read-only
    EXPECT_FALSE(ops::run(io_, p.unlink(ctx_, job)));
    if (!pre->active_campaign_ids.empty()) {
      EXPECT_FALSE(ops::run(io_, p.pause_campaigns(ctx_, job, pre->active_campaign_ids)));
    }
  }
  std::size_t mutating = 0;
  for (const auto& r : client_.requests()) {
    if (r.method == ad::http_method::post) {
      ++mutating;
      EXPECT_TRUE(r.refused) << r.path;
    }
  }
  EXPECT_GE(mutating, 5U);
  const auto stats = json::parse(client_.admin(sandbox::http_method::get, "/_sandbox/stats").body);
  EXPECT_TRUE(stats.at("accounts").as_object().empty());  // nothing attempted at the API
}

TEST_F(operations, credential_reads_are_shared_for_a_while) {
  auto p = make_platform();
  for (const char* id : {ops::shared_ad, ops::unshared_ad}) {
    ASSERT_TRUE(ops::run(io_, p.preflight(ctx_, ops::job_for(id, unlink_mode::partner_share))));
  }
  EXPECT_EQ(client_.count("/user/info/"), 1U);
  EXPECT_EQ(client_.count("/bc/get/"), 1U);
  now_ += 61s;  // past credential_fresh_for
  ASSERT_TRUE(
      ops::run(io_, p.preflight(ctx_, ops::job_for(ops::unshared_ad, unlink_mode::partner_share))));
  EXPECT_EQ(client_.count("/user/info/"), 2U);
  EXPECT_EQ(client_.count("/bc/get/"), 2U);
}

TEST_F(operations, concurrent_bc_asset_verifies_share_one_listing) {
  auto p = make_platform();
  std::vector<std::optional<ad::api_result<ad::verify_outcome>>> results(4);
  for (int i = 0; i < 4; ++i) {
    boost::asio::co_spawn(
        io_,
        [&, i]() -> boost::asio::awaitable<void> {
          results[i] =
              co_await p.verify(ctx_, ops::job_for(ops::tt_id(i + 1), unlink_mode::bc_asset));
        },
        boost::asio::detached);
  }
  io_.run_for(10s);
  std::uint32_t calls = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->found, ad::relationship::present);
    calls += (*r)->api_calls;
  }
  EXPECT_EQ(client_.count("/bc/asset/admin/get/"), 3U);  // 120 assets, 3 pages, once
  EXPECT_EQ(calls, 3U);
  // Within the freshness window another verify costs nothing; after it, a new listing.
  auto cached = ops::run(io_, p.verify(ctx_, ops::job_for(ops::tt_id(9), unlink_mode::bc_asset)));
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->api_calls, 0U);
  now_ += 6s;
  auto fresh = ops::run(io_, p.verify(ctx_, ops::job_for(ops::tt_id(9), unlink_mode::bc_asset)));
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->api_calls, 3U);
}

TEST_F(operations, a_failed_listing_is_not_kept) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::tt_asset, unlink_mode::bc_asset);
  put_faults("faults: {api_50002: 1}\npaths: [/bc/asset/admin/get/]\n");
  auto failed = ops::run(io_, p.verify(ctx_, job));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, 50002);
  put_faults("");
  auto v = ops::run(io_, p.verify(ctx_, job));
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->found, ad::relationship::present);
  EXPECT_EQ(v->api_calls, 3U);
}

TEST_F(operations, a_listing_too_long_to_share_falls_back_to_one_read_per_account) {
  ad::platform_options o;
  o.max_listing_pages = 2;
  auto p = make_platform(o);
  auto v = ops::run(io_, p.verify(ctx_, ops::job_for(ops::tt_asset, unlink_mode::bc_asset)));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->found, ad::relationship::present);
  EXPECT_EQ(v->api_calls, 2U);  // the listing's first page says 3 pages; then the asset's own read
}

class operations_with_visibility_delay : public operations {
 protected:
  static sandbox::service_options delayed() {
    sandbox::service_options o;
    o.visibility = sandbox::visibility_delay{1000ms, 1000ms};
    return o;
  }
  operations_with_visibility_delay() : operations(delayed()) {}
};

TEST_F(operations_with_visibility_delay, verify_sees_the_unlink_only_after_the_delay) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::tt_bound, unlink_mode::tiktok_binding);
  ASSERT_TRUE(ops::run(io_, p.unlink(ctx_, job)));
  auto first = ops::run(io_, p.verify(ctx_, job));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->found, ad::relationship::present);  // reads lag writes
  // Poll as the scheduler does, up to a deadline.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  ad::relationship found = ad::relationship::present;
  int polls = 1;
  while (found == ad::relationship::present && std::chrono::steady_clock::now() < deadline) {
    found = ops::run(io_, [&]() -> boost::asio::awaitable<ad::relationship> {
      boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 50ms);
      co_await t.async_wait(boost::asio::use_awaitable);
      auto v = co_await p.verify(ctx_, job);
      co_return v ? v->found : ad::relationship::present;
    }());
    ++polls;
  }
  EXPECT_EQ(found, ad::relationship::already_gone);
  EXPECT_GT(polls, 2);
}

TEST_F(operations_with_visibility_delay,
       a_resend_of_what_a_lagging_read_still_lists_is_not_an_error) {
  auto p = make_platform();
  auto job = ops::job_for(ops::member_ad, unlink_mode::member_access);
  ASSERT_TRUE(ops::run(io_, p.unlink(ctx_, job)));  // took, but say its reply was lost
  auto v = ops::run(io_, p.verify(ctx_, job));
  ASSERT_TRUE(v);
  ASSERT_EQ(v->still_listed, job.account.members);  // the read lags the removal
  job.resend_only = v->still_listed;
  client_.clear();
  // Both answer 40002 "not there": the earlier send took; verify settles it.
  auto again = ops::run(io_, p.unlink(ctx_, job));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(client_.count("/bc/asset/unassign/"), 2U);
  EXPECT_EQ(client_.count("/bc/asset/member/get/"), 0U);
  EXPECT_EQ(applied(ops::member_ad), 2U);  // once per member, never twice
}

}  // namespace
}  // namespace unlinkd::test
