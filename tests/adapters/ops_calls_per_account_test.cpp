// API calls per account for each unlink mode, preflight to verify, with a
// 90-day report range, over a generated sandbox world (the figures of
// docs/ADAPTER_OPERATIONS.md). Accounts of a batch share one platform, as in
// the daemon, so per-credential reads and the bc_asset listing are shared.
// Run with --gtest_filter='calls_per_account.*' to print the table.
#include <cstdio>
#include <filesystem>
#include <map>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "adapters/call_estimate.hpp"
#include "adapters/tiktok_platform.hpp"
#include "config/manifest_parser.hpp"
#include "sandbox/api_service.hpp"
#include "sandbox/state_generator.hpp"
#include "tests/adapters/ops_sandbox_client.hpp"
#include "tests/adapters/ops_world.hpp"

namespace unlinkd::test {
namespace {

namespace ad = unlinkd::adapters;
namespace fs = std::filesystem;

struct tally {
  std::uint32_t accounts = 0;
  std::uint64_t preflight = 0, backup = 0, pause = 0, unlink = 0, verify = 0;
  [[nodiscard]] double per_account(std::uint64_t n) const {
    return accounts == 0 ? 0.0 : static_cast<double>(n) / accounts;
  }
  [[nodiscard]] std::uint64_t total() const { return preflight + backup + pause + unlink + verify; }
};

TEST(calls_per_account, every_mode_with_a_90_day_report_range) {
  constexpr std::size_t accounts = 100;
  auto state = sandbox::generate_state({accounts, 7});
  const auto manifest_text = sandbox::manifest_yaml(state, "calls-per-account");
  sandbox::service_options options;
  options.limits_enabled = false;
  sandbox::api_service service(state, 7, options);
  ops_sandbox_client client(service);

  const auto parsed =
      config::parse_manifest(manifest_text, "generated.yaml", {}, config::utc_today());
  ASSERT_TRUE(parsed.value) << parsed.problems.to_text();
  const auto& manifest = *parsed.value;

  config::credential_profile admin;
  admin.name = "sandbox-admin";
  admin.app_id = state.tokens[0].app_id;
  admin.access_token = config::secret(state.tokens[0].token);
  ad::call_context ctx;
  ctx.credential = &admin;
  ctx.batch = manifest.batch;

  const fs::path root = fs::temp_directory_path() / ("ops-calls-" + std::to_string(::getpid()));
  fs::remove_all(root);
  ad::platform_options po;
  po.min_free_bytes = 1;
  ad::tiktok_platform platform(client, root, po);
  boost::asio::io_context io;

  std::map<config::unlink_mode, tally> by_mode;
  std::vector<ad::account_job> jobs;
  for (const auto& a : manifest.accounts) {
    ad::account_job job{manifest.batch, manifest.business_center_id, a, std::nullopt};
    job.account.backup.reports_since = std::chrono::year_month_day{
        std::chrono::year{2025}, std::chrono::January, std::chrono::day{1}};
    job.account.backup.reports_until = std::chrono::year_month_day{
        std::chrono::year{2025}, std::chrono::March, std::chrono::day{31}};
    jobs.push_back(std::move(job));
  }
  // Step by step over the whole batch, as a scheduler with enough concurrency would.
  std::vector<std::vector<std::string>> active(jobs.size());
  std::vector<ad::call_estimate> planned(jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto& t = by_mode[*jobs[i].account.mode];
    ++t.accounts;
    auto pre = ops::run(io, platform.preflight(ctx, jobs[i]));
    ASSERT_TRUE(pre) << jobs[i].account.id << ": " << pre.error().message;
    t.preflight += pre->api_calls;
    active[i] = pre->active_campaign_ids;
    planned[i] = ad::estimate_calls(jobs[i], config::batch_action::unlink,
                                    {pre->api_calls, active[i].size(), pre->found});
  }
  std::uint64_t planned_total = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto& t = by_mode[*jobs[i].account.mode];
    auto b = ops::run(io, platform.backup(ctx, jobs[i], active[i]));
    ASSERT_TRUE(b) << b.error().message;
    t.backup += b->api_calls;
    auto p = ops::run(io, platform.pause_campaigns(ctx, jobs[i], active[i]));
    ASSERT_TRUE(p) << p.error().message;
    t.pause += p->api_calls;
    auto u = ops::run(io, platform.unlink(ctx, jobs[i]));
    ASSERT_TRUE(u) << u.error().message;
    t.unlink += u->api_calls;
    // A dry run's plan: the least each step sends (more pages may follow).
    EXPECT_LE(planned[i].backup, b->api_calls) << jobs[i].account.id;
    EXPECT_EQ(planned[i].pause, p->api_calls) << jobs[i].account.id;
    EXPECT_EQ(planned[i].unlink, u->api_calls) << jobs[i].account.id;
    planned_total += planned[i].total();
  }
  for (const auto& job : jobs) {
    auto v = ops::run(io, platform.verify(ctx, job));
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->found, ad::relationship::already_gone) << job.account.id;
    by_mode[*job.account.mode].verify += v->api_calls;
  }
  fs::remove_all(root);

  std::printf(
      "\nAPI calls per account, %zu generated accounts (seed 7), reports 2025-01-01..2025-03-31\n",
      accounts);
  std::printf("%-15s %8s %9s %7s %6s %7s %7s %6s\n", "mode", "accounts", "preflight", "backup",
              "pause", "unlink", "verify", "total");
  for (const auto& [mode, t] : by_mode) {
    std::printf("%-15s %8u %9.2f %7.2f %6.2f %7.2f %7.2f %6.2f\n",
                std::string(config::to_string(mode)).c_str(), t.accounts,
                t.per_account(t.preflight), t.per_account(t.backup), t.per_account(t.pause),
                t.per_account(t.unlink), t.per_account(t.verify), t.per_account(t.total()));
    // Bounds that catch a regression (a re-read per account, a lost cache).
    EXPECT_LE(t.per_account(t.preflight), 3.0) << config::to_string(mode);
    EXPECT_LE(t.per_account(t.verify), 1.0) << config::to_string(mode);
  }
  std::uint64_t actual_total = 0;
  for (const auto& [mode, t] : by_mode) {
    actual_total += t.total();
  }
  std::printf("dry-run plan: %llu calls estimated, %llu sent\n",
              static_cast<unsigned long long>(planned_total),
              static_cast<unsigned long long>(actual_total));
  // The walks' later pages are what the plan cannot see; over a generated world
  // it still comes within a quarter of the truth either way.
  EXPECT_GE(static_cast<double>(planned_total), 0.75 * static_cast<double>(actual_total));
  EXPECT_LE(static_cast<double>(planned_total), 1.25 * static_cast<double>(actual_total));
  EXPECT_EQ(client.count("/bc/advertiser/disable/"), 0U);
}

}  // namespace
}  // namespace unlinkd::test
