// The backup step: contents, checksums (checked by sha256sum itself),
// permissions, reuse, and that a failure leaves nothing published.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "adapters/backup_writer.hpp"
#include "adapters/tiktok_platform.hpp"
#include "sandbox/api_service.hpp"
#include "tests/adapters/ops_sandbox_client.hpp"
#include "tests/adapters/ops_world.hpp"

namespace unlinkd::test {
namespace {

namespace ad = unlinkd::adapters;
namespace fs = std::filesystem;
namespace json = boost::json;
using config::unlink_mode;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t line_count(const fs::path& p) {
  const auto text = read_text(p);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777U;
}

class backups : public ::testing::Test {
 protected:
  backups() : service_(ops::world(), 1, no_limits()), client_(service_) {
    root_ = fs::temp_directory_path() /
            ("ops-backup-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()) /
            "backups";
    fs::remove_all(root_.parent_path());
    admin_ = ops::admin_profile();
    ctx_.credential = &admin_;
    ctx_.batch = "ops-test-batch";
  }
  ~backups() override { fs::remove_all(root_.parent_path()); }
  static sandbox::service_options no_limits() {
    sandbox::service_options o;
    o.limits_enabled = false;
    return o;
  }
  ad::tiktok_platform make_platform(std::uint64_t min_free = 1) {
    ad::platform_options o;
    o.min_free_bytes = min_free;
    o.wall_clock = [] {
      return std::chrono::system_clock::time_point{std::chrono::seconds{1764115200}};
    };
    return {client_, root_, o};
  }
  fs::path folder(const std::string& id) const { return root_ / "ops-test-batch" / id; }

  boost::asio::io_context io_;
  sandbox::api_service service_;
  ops_sandbox_client client_;
  fs::path root_;
  config::credential_profile admin_;
  ad::call_context ctx_;
};

TEST_F(backups, an_ad_account_backup_holds_everything_and_verifies) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  auto b = ops::run(io_, p.backup(ctx_, job, {"1700000000000000001"}));
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->folder, folder(ops::shared_ad));
  EXPECT_EQ(b->files, 6U);
  // info, campaigns, ad groups, ads, 3 report windows of 30 days (90 days).
  EXPECT_EQ(b->api_calls, 7U);
  EXPECT_EQ(client_.count("/report/integrated/get/"), 3U);

  EXPECT_EQ(mode_of(root_ / "ops-test-batch"), 0700U);
  EXPECT_EQ(mode_of(b->folder), 0700U);
  for (const auto& entry : fs::directory_iterator(b->folder)) {
    EXPECT_EQ(mode_of(entry.path()), 0600U) << entry.path();
  }
  // sha256sum itself agrees with SHA256SUMS, and the digest is the file's.
  const std::string check =
      "cd '" + b->folder.string() + "' && sha256sum --check --quiet SHA256SUMS";
  EXPECT_EQ(std::system(check.c_str()), 0);
  EXPECT_EQ(b->digest, ad::sha256_hex(read_text(b->folder / "SHA256SUMS")));
  EXPECT_EQ(line_count(b->folder / "SHA256SUMS"), 6U);

  // Deleted items are in it too.
  // The request asks for deleted campaigns too (secondary_status CAMPAIGN_STATUS_ALL,
  // SANDBOX_API.md §2.5), but the sandbox's /campaign/get/ does not apply that
  // filter yet and lists a deleted campaign only when asked by ID: so 2 here, not 3.
  EXPECT_GE(line_count(b->folder / "campaigns.jsonl"), 2U);
  EXPECT_NE(read_text(b->folder / "campaigns.jsonl").find("1700000000000000002"),
            std::string::npos);
  for (const auto& r : client_.requests()) {
    if (r.path == "/campaign/get/") {
      EXPECT_EQ(r.query.at(1).second, R"({"secondary_status":"CAMPAIGN_STATUS_ALL"})");
    }
  }
  EXPECT_NE(read_text(b->folder / "ads.jsonl").find("1900000000000000002"), std::string::npos);
  EXPECT_GE(line_count(b->folder / "adgroups.jsonl"), 1U);
  EXPECT_GT(line_count(b->folder / "reports.jsonl"), 0U);
  const auto info = json::parse(read_text(b->folder / "advertiser.json"));
  EXPECT_EQ(info.at("list").as_array().at(0).at("advertiser_id").as_string(), ops::shared_ad);
  const auto meta = json::parse(read_text(b->folder / "backup.json"));
  EXPECT_EQ(meta.at("report_windows").to_number<int>(), 3);
  EXPECT_EQ(meta.at("created_at").as_string(), "2025-11-26T00:00:00Z");
  EXPECT_EQ(meta.at("active_campaigns_at_preflight").as_array().size(), 1U);
  // Nothing else beside it: the temporary folder is gone.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(root_ / "ops-test-batch")) {
    ++entries;
  }
  EXPECT_EQ(entries, 1U);
}

TEST_F(backups, a_published_backup_is_reused_at_no_cost) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  auto first = ops::run(io_, p.backup(ctx_, job, {}));
  ASSERT_TRUE(first);
  client_.clear();
  auto second = ops::run(io_, p.backup(ctx_, job, {}));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->api_calls, 0U);
  EXPECT_TRUE(client_.requests().empty());
  EXPECT_EQ(second->digest, first->digest);
  EXPECT_EQ(second->bytes, first->bytes);
}

TEST_F(backups, a_failure_mid_backup_leaves_nothing_published) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  client_.fail_call(5,
                    ad::api_error{ad::error_class::retryable, 50002, 200, "System timeout.", "R5"});
  auto b = ops::run(io_, p.backup(ctx_, job, {}));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, 50002);
  EXPECT_FALSE(fs::exists(folder(ops::shared_ad)));
  EXPECT_FALSE(
      fs::exists(root_ / "ops-test-batch" / ("." + std::string(ops::shared_ad) + ".partial")));
  // The next attempt starts clean and publishes.
  auto retry = ops::run(io_, p.backup(ctx_, job, {}));
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_TRUE(fs::exists(folder(ops::shared_ad) / "SHA256SUMS"));
}

TEST_F(backups, a_stale_temporary_folder_is_cleaned_on_the_next_attempt) {
  auto p = make_platform();
  const auto stale = root_ / "ops-test-batch" / ("." + std::string(ops::member_ad) + ".partial");
  fs::create_directories(stale);
  std::ofstream(stale / "campaigns.jsonl") << "half a page";
  auto b =
      ops::run(io_, p.backup(ctx_, ops::job_for(ops::member_ad, unlink_mode::member_access), {}));
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_FALSE(fs::exists(stale));
}

TEST_F(backups, a_tampered_published_backup_is_refused_not_overwritten) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  auto first = ops::run(io_, p.backup(ctx_, job, {}));
  ASSERT_TRUE(first);
  std::ofstream(first->folder / "campaigns.jsonl", std::ios::app) << "{}\n";
  auto second = ops::run(io_, p.backup(ctx_, job, {}));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, ad::error_class::permanent);
  EXPECT_NE(second.error().message.find("does not verify"), std::string::npos);
  EXPECT_TRUE(fs::exists(first->folder / "campaigns.jsonl"));
}

TEST_F(backups, a_tiktok_account_backup_holds_its_bc_side_records) {
  auto p = make_platform();
  auto b =
      ops::run(io_, p.backup(ctx_, ops::job_for(ops::tt_bound, unlink_mode::tiktok_binding), {}));
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->files, 3U);
  EXPECT_EQ(b->api_calls, 2U);
  EXPECT_EQ(line_count(b->folder / "asset.jsonl"), 1U);
  EXPECT_NE(read_text(b->folder / "bindings.jsonl").find(ops::bound_ad), std::string::npos);
}

TEST_F(backups, path_components_are_checked_before_anything_is_written) {
  auto p = make_platform();
  auto job = ops::job_for(ops::shared_ad, unlink_mode::partner_share);
  job.batch = "../escape";
  auto b = ops::run(io_, p.backup(ctx_, job, {}));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, ad::error_class::permanent);
  EXPECT_TRUE(client_.requests().empty());
  EXPECT_FALSE(fs::exists(root_));
  EXPECT_FALSE(ad::backup_folder(root_, "ok-batch", "12/34"));
  EXPECT_FALSE(ad::backup_folder(root_, "ok-batch", ".."));
  EXPECT_TRUE(ad::backup_folder(root_, "ok-batch", "1234"));
}

TEST_F(backups, too_little_free_space_is_retryable_and_writes_nothing) {
  auto p = make_platform(std::uint64_t{1} << 62U);
  auto b =
      ops::run(io_, p.backup(ctx_, ops::job_for(ops::shared_ad, unlink_mode::partner_share), {}));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, ad::error_class::retryable);
  EXPECT_NE(b.error().message.find("free"), std::string::npos);
  EXPECT_TRUE(client_.requests().empty());
  EXPECT_FALSE(fs::exists(folder(ops::shared_ad)));
}

TEST_F(backups, file_work_can_run_on_its_own_thread) {
  boost::asio::thread_pool files(1);
  ad::platform_options o;
  o.min_free_bytes = 1;
  o.file_executor = files.get_executor();
  ad::tiktok_platform p(client_, root_, o);
  auto b =
      ops::run(io_, p.backup(ctx_, ops::job_for(ops::member_ad, unlink_mode::member_access), {}));
  ASSERT_TRUE(b) << b.error().message;
  const std::string check =
      "cd '" + b->folder.string() + "' && sha256sum --check --quiet SHA256SUMS";
  EXPECT_EQ(std::system(check.c_str()), 0);
  files.join();
}

}  // namespace
}  // namespace unlinkd::test
