// The operations over the real client (http_api_client) against the real
// unlinkd-sandbox process on port 0, serving the operations' world: every
// mode from preflight to verify, concurrent verifies sharing one listing,
// the visibility delay, a reset after the write, a dry run, a backup.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include "adapters/http_api_client.hpp"
#include "adapters/simple_rate_gate.hpp"
#include "adapters/tiktok_platform.hpp"
#include "tests/adapters/ops_world.hpp"
#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::test {
namespace {

namespace ad = unlinkd::adapters;
namespace fs = std::filesystem;
namespace json = boost::json;
using config::unlink_mode;
using namespace std::chrono_literals;

// The world as a fixture file the process reads, removed when the tests end.
struct world_file_holder {
  world_file_holder()
      : path((fs::temp_directory_path() / ("ops-world-" + std::to_string(::getpid()) + ".yaml"))
                 .string()) {
    std::ofstream(path) << ops::world_yaml();
  }
  world_file_holder(const world_file_holder&) = delete;
  world_file_holder& operator=(const world_file_holder&) = delete;
  ~world_file_holder() {
    std::error_code ec;
    fs::remove(path, ec);
  }
  std::string path;
};

std::string world_file() {
  static const world_file_holder holder;
  return holder.path;
}

ad::client_options quick_retries() {
  ad::client_options o;
  o.retry.max_attempts = 3;
  o.retry.base_delay = 1ms;
  o.retry.max_delay = 4ms;
  o.io_timeout = 10s;
  o.random = [] { return 0.5; };
  return o;
}

class over_the_process : public ::testing::Test {
 protected:
  explicit over_the_process(std::vector<std::string> extra = {})
      : sandbox_(args(std::move(extra))),
        admin_http_(sandbox_.port()),
        log_(std::make_shared<spdlog::logger>(
            "ops", std::make_shared<spdlog::sinks::ostream_sink_st>(lines_))),
        gate_(io_.get_executor()),
        client_(io_.get_executor(), gate_, *log_, quick_retries()) {
    log_->set_level(spdlog::level::trace);
    profile_ = ops::admin_profile();
    profile_.base_url = "http://127.0.0.1:" + std::to_string(sandbox_.port());
    ctx_.credential = &profile_;
    ctx_.base_url = profile_.base_url;
    ctx_.batch = "ops-test-batch";
    ctx_.deadline = std::chrono::steady_clock::now() + 60s;
    root_ = fs::path(sandbox_.dir()) / "backups";
  }
  ~over_the_process() override {
    EXPECT_EQ(stats().at("advertiser_disable_calls").to_number<std::uint64_t>(), 0U);
    log_->flush();
    const std::string text = lines_.str();
    EXPECT_EQ(text.find(ops::admin_token), std::string::npos) << "a token in the log";
    EXPECT_EQ(text.find("ops-secret-admin"), std::string::npos) << "a secret in the log";
  }
  static std::vector<std::string> args(std::vector<std::string> extra) {
    std::vector<std::string> a{"--fixture", world_file(), "--no-limits"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  json::value stats() { return admin_http_.get("/_sandbox/stats").json(); }
  std::uint64_t calls_to(const std::string& path) {
    const auto s = stats();
    const auto* p = s.at("calls").as_object().if_contains("/open_api/v1.3" + path);
    std::uint64_t n = 0;
    if (p != nullptr) {
      for (const auto& [code, count] : p->as_object()) {
        n += count.to_number<std::uint64_t>();
      }
    }
    return n;
  }
  ad::tiktok_platform make_platform() {
    ad::platform_options o;
    o.min_free_bytes = 1;
    return {client_, root_, o};
  }

  sandbox_process sandbox_;
  http_client admin_http_;
  std::ostringstream lines_;
  std::shared_ptr<spdlog::logger> log_;
  boost::asio::io_context io_;
  ad::simple_rate_gate gate_;
  ad::http_api_client client_;
  config::credential_profile profile_;
  ad::call_context ctx_;
  fs::path root_;
};

struct mode_case {
  unlink_mode mode;
  const char* id;
};
constexpr mode_case every_mode[] = {{unlink_mode::partner_share, ops::shared_ad},
                                    {unlink_mode::member_access, ops::member_ad},
                                    {unlink_mode::bc_asset, ops::tt_asset},
                                    {unlink_mode::tiktok_binding, ops::tt_bound}};

TEST_F(over_the_process, every_mode_from_preflight_to_verify) {
  auto p = make_platform();
  for (const auto& c : every_mode) {
    SCOPED_TRACE(std::string(config::to_string(c.mode)));
    const auto job = ops::job_for(c.id, c.mode);
    auto pre = ops::run(io_, p.preflight(ctx_, job));
    ASSERT_TRUE(pre) << pre.error().message;
    EXPECT_EQ(pre->found, ad::relationship::present);
    auto backup = ops::run(io_, p.backup(ctx_, job, pre->active_campaign_ids));
    ASSERT_TRUE(backup) << backup.error().message;
    auto paused = ops::run(io_, p.pause_campaigns(ctx_, job, pre->active_campaign_ids));
    ASSERT_TRUE(paused) << paused.error().message;
    EXPECT_EQ(paused->paused_campaign_ids, pre->active_campaign_ids);
    auto unlinked = ops::run(io_, p.unlink(ctx_, job));
    ASSERT_TRUE(unlinked) << unlinked.error().message;
    auto verified = ops::run(io_, p.verify(ctx_, job));
    ASSERT_TRUE(verified) << verified.error().message;
    EXPECT_EQ(verified->found, ad::relationship::already_gone);
  }
  // One unlink per relationship at the API (two members: two calls).
  EXPECT_EQ(calls_to("/bc/partner/asset/delete/"), 1U);
  EXPECT_EQ(calls_to("/bc/asset/unassign/"), 2U);
  EXPECT_EQ(calls_to("/bc/asset/admin/delete/"), 1U);
  EXPECT_EQ(calls_to("/bc/asset/advertiser/unassign/"), 1U);
  EXPECT_EQ(calls_to("/user/info/"), 1U);  // shared by all four accounts
  const std::string check = "cd '" + (root_ / "ops-test-batch" / ops::shared_ad).string() +
                            "' && sha256sum --check --quiet SHA256SUMS";
  EXPECT_EQ(std::system(check.c_str()), 0);
}

TEST_F(over_the_process, concurrent_bc_asset_verifies_share_one_listing) {
  auto p = make_platform();
  std::vector<std::optional<ad::api_result<ad::verify_outcome>>> results(8);
  for (int i = 0; i < 8; ++i) {
    boost::asio::co_spawn(
        io_,
        [&, i]() -> boost::asio::awaitable<void> {
          results[i] =
              co_await p.verify(ctx_, ops::job_for(ops::tt_id(i + 1), unlink_mode::bc_asset));
        },
        boost::asio::detached);
  }
  io_.run_for(20s);
  std::uint32_t calls = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->found, ad::relationship::present);
    calls += (*r)->api_calls;
  }
  EXPECT_EQ(calls, 3U);
  EXPECT_EQ(calls_to("/bc/asset/admin/get/"), 3U);  // 120 assets, 3 pages, fetched once
}

TEST_F(over_the_process, a_reset_after_the_write_is_an_unknown_outcome) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::tt_asset, unlink_mode::bc_asset);
  ASSERT_EQ(
      admin_http_.put("/_sandbox/faults", "faults: {reset_after_apply: 1}\nmutating_only: true\n")
          .status,
      200U);
  auto u = ops::run(io_, p.unlink(ctx_, job));
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().kind, ad::error_class::unknown_outcome);
  EXPECT_EQ(calls_to("/bc/asset/admin/delete/"), 1U);  // the client did not resend it
  ASSERT_EQ(admin_http_.put("/_sandbox/faults", "").status, 200U);
  auto v = ops::run(io_, p.verify(ctx_, job));
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->found, ad::relationship::already_gone);
}

TEST_F(over_the_process, a_dry_run_sends_no_mutating_call) {
  auto p = make_platform();
  ctx_.dry_run = true;
  for (const auto& c : every_mode) {
    const auto job = ops::job_for(c.id, c.mode);
    auto pre = ops::run(io_, p.preflight(ctx_, job));
    ASSERT_TRUE(pre) << pre.error().message;
    EXPECT_FALSE(ops::run(io_, p.unlink(ctx_, job)));
    if (!pre->active_campaign_ids.empty()) {
      EXPECT_FALSE(ops::run(io_, p.pause_campaigns(ctx_, job, pre->active_campaign_ids)));
    }
  }
  EXPECT_TRUE(stats().at("accounts").as_object().empty());  // no mutation attempted
  EXPECT_GE(client_.counters().dry_run_refusals, 5U);
}

class over_a_lagging_process : public over_the_process {
 protected:
  over_a_lagging_process() : over_the_process({"--visibility-delay", "1s"}) {}
};

TEST_F(over_a_lagging_process, verify_polls_until_the_unlink_shows) {
  auto p = make_platform();
  const auto job = ops::job_for(ops::tt_bound, unlink_mode::tiktok_binding);
  ASSERT_TRUE(ops::run(io_, p.unlink(ctx_, job)));
  auto first = ops::run(io_, p.verify(ctx_, job));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->found, ad::relationship::present);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  auto found = ad::relationship::present;
  while (found == ad::relationship::present && std::chrono::steady_clock::now() < deadline) {
    found = ops::run(io_, [&]() -> boost::asio::awaitable<ad::relationship> {
      boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 50ms);
      co_await t.async_wait(boost::asio::use_awaitable);
      auto v = co_await p.verify(ctx_, job);
      co_return v ? v->found : ad::relationship::present;
    }());
  }
  EXPECT_EQ(found, ad::relationship::already_gone);
}

}  // namespace
}  // namespace unlinkd::test
