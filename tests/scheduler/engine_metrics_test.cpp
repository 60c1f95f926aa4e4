// The counts behind GET /metrics that the scheduler keeps, in virtual time:
// the engine's retries per step and step-duration histogram (over a real
// SQLite store and the scripted fake platform), and the rate gate's waits,
// wait time, cooldowns and limits per app.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <numeric>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "scheduler/budget_gate.hpp"
#include "scheduler/engine.hpp"
#include "store/store.hpp"
#include "tests/scheduler/fake_platform.hpp"

namespace unlinkd::scheduler {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using adapters::error_class;
using store::account_state;
using store::pipeline_step;
using test::api_error;

void rethrow(const std::exception_ptr& e) {
  if (e) {
    std::rethrow_exception(e);
  }
}

std::size_t at(pipeline_step s) { return static_cast<std::size_t>(s); }

// The bucket index a duration of `seconds` falls in.
std::size_t bucket_of(double seconds) {
  std::size_t i = 0;
  while (i < step_duration_bounds.size() && step_duration_bounds.at(i) < seconds) {
    ++i;
  }
  return i;
}

TEST(duration_histogram, a_duration_on_a_bound_counts_in_that_bucket) {
  duration_histogram h;
  h.observe(1s);      // le="1" holds 1 itself
  h.observe(1001ms);  // the next one
  h.observe(2ms);     // the first
  h.observe(3600s);   // above every bound
  EXPECT_EQ(h.buckets.at(bucket_of(1.0)), 1U);
  EXPECT_EQ(h.buckets.at(bucket_of(1.001)), 1U);
  EXPECT_EQ(bucket_of(1.001), bucket_of(1.0) + 1);
  EXPECT_EQ(h.buckets.at(0), 1U);
  EXPECT_EQ(h.buckets.back(), 1U);
  EXPECT_EQ(h.count, 4U);
  EXPECT_DOUBLE_EQ(h.sum_seconds, 1 + 1.001 + 0.002 + 3600);
}

class engine_metrics_test : public ::testing::Test {
 protected:
  engine_metrics_test() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "unlinkd-engine-metrics-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    dir_ = pattern;
    profile_.name = "acme";
    profile_.app_id = "7000000000000000001";
    store::store_options so;
    so.clock = [] { return clock::utc_now(); };
    auto s = store::store::open(dir_ + "/unlinkd.db", so, log_);
    if (!s) {
      throw std::runtime_error(s.error().message);
    }
    store_ = std::move(*s);
    platform_.set_executor(io_.get_executor());
    engine_options options;
    options.seed = 7;
    options.idle_poll = 500ms;
    options.initial_backoff = 2s;
    engine_ = std::make_unique<engine>(
        io_.get_executor(), *store_, platform_,
        [this](const store::batch_record&) -> std::optional<adapters::call_context> {
          adapters::call_context ctx;
          ctx.credential = &profile_;
          ctx.base_url = "http://127.0.0.1:1";
          return ctx;
        },
        options, log_);
    asio::co_spawn(io_, engine_->run(), [this](const std::exception_ptr& e) {
      running_ = false;
      rethrow(e);
    });
  }

  ~engine_metrics_test() override {
    if (running_) {
      engine_->stop();
      run_until([this] { return !running_; }, 1h);
    }
    store_.reset();
    engine_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

 public:
  engine_metrics_test(const engine_metrics_test&) = delete;
  engine_metrics_test& operator=(const engine_metrics_test&) = delete;

 protected:
  bool run_until(const std::function<bool()>& done, clock::duration limit) {
    return run_virtual(io_, done, limit, [this] { return store_ && store_->jobs_in_flight() > 0; });
  }

  // `n` partner_share advertisers without campaigns: preflight, backup,
  // unlink, verify each (no pause: nothing to pause).
  std::int64_t ingest(std::size_t n) {
    config::manifest m;
    m.batch = "metrics";
    m.credentials = "acme";
    m.business_center_id = "7012345678901234567";
    for (std::size_t i = 0; i < n; ++i) {
      config::account a;
      a.id = std::to_string(7100000000000000001ULL + i);
      a.mode = config::unlink_mode::partner_share;
      a.type = config::account_type_of(config::unlink_mode::partner_share);
      a.partner_id = "7099999999999999999";
      a.advertiser_id = "7123456789012345678";
      a.backup.required = true;
      platform_.world[a.id];
      m.accounts.push_back(std::move(a));
    }
    store::ingest_request r;
    r.sha256 = "sha-metrics";
    r.source_file = "metrics.yaml";
    r.manifest = std::move(m);
    auto outcome = store_->ingest_blocking(std::move(r));
    EXPECT_TRUE(outcome.has_value());
    const auto* accepted = std::get_if<store::ingest_accepted>(&*outcome);
    EXPECT_NE(accepted, nullptr);
    engine_->poke();
    return accepted == nullptr ? 0 : accepted->batch_id;
  }

  bool all_ended(std::int64_t batch) const {
    return std::ranges::all_of(store_->counts(batch),
                               [](const auto& kv) { return store::is_terminal(kv.first.state); });
  }

  std::int64_t count(std::int64_t batch, account_state s) const {
    std::int64_t n = 0;
    for (const auto& [key, c] : store_->counts(batch)) {
      n += key.state == s ? c : 0;
    }
    return n;
  }

  virtual_time time_;
  std::string dir_;
  spdlog::logger log_{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  asio::io_context io_;
  std::unique_ptr<store::store> store_;
  test::fake_platform platform_{asio::any_io_executor{}};
  config::credential_profile profile_;
  std::unique_ptr<engine> engine_;
  bool running_ = true;
};

TEST_F(engine_metrics_test, retries_are_counted_per_step_and_final_failures_are_not) {
  const auto batch = ingest(3);
  // Account 1: two retryable backup failures, then success.
  platform_.script(
      "7100000000000000001", pipeline_step::backup,
      {{api_error(error_class::retryable, 50002)}, {api_error(error_class::retryable, 50002)}});
  // Account 2: one retryable verify failure, then success.
  platform_.script("7100000000000000002", pipeline_step::verify,
                   {{api_error(error_class::retryable, 51001)}});
  // Account 3: a permanent preflight failure: failed, never retried.
  platform_.script("7100000000000000003", pipeline_step::preflight,
                   {{api_error(error_class::permanent, 40002)}});
  ASSERT_TRUE(run_until([&] { return all_ended(batch); }, 10h));
  EXPECT_EQ(count(batch, account_state::done), 2);
  EXPECT_EQ(count(batch, account_state::failed), 1);
  const auto& s = engine_->stats();
  EXPECT_EQ(s.retries.at(at(pipeline_step::backup)), 2U);
  EXPECT_EQ(s.retries.at(at(pipeline_step::verify)), 1U);
  EXPECT_EQ(s.retries.at(at(pipeline_step::preflight)), 0U);
  EXPECT_EQ(s.retries.at(at(pipeline_step::unlink)), 0U);
  EXPECT_EQ(s.retries.at(at(pipeline_step::pause)), 0U);
}

TEST_F(engine_metrics_test, every_step_run_is_in_the_histogram_with_its_duration) {
  platform_.latency = 2s;  // in virtual time: every step takes exactly this, or a hair more
  const auto batch = ingest(4);
  ASSERT_TRUE(run_until([&] { return all_ended(batch); }, 10h));
  EXPECT_EQ(count(batch, account_state::done), 4);
  const auto& s = engine_->stats();
  std::uint64_t observed = 0;
  for (const auto step : store::all_pipeline_steps) {
    const auto& h = s.step_durations.at(at(step));
    EXPECT_EQ(std::accumulate(h.buckets.begin(), h.buckets.end(), std::uint64_t{0}), h.count);
    EXPECT_EQ(h.buckets.at(bucket_of(2.0)) + h.buckets.at(bucket_of(2.0) + 1), h.count)
        << "every " << store::to_string(step) << " took about 2 s";
    EXPECT_NEAR(h.sum_seconds, 2.0 * static_cast<double>(h.count),
                0.1 * static_cast<double>(h.count));
    observed += h.count;
  }
  EXPECT_EQ(observed, s.steps_run);
  EXPECT_EQ(s.step_durations.at(at(pipeline_step::preflight)).count, 4U);
  EXPECT_EQ(s.step_durations.at(at(pipeline_step::unlink)).count, 4U);
  EXPECT_EQ(s.step_durations.at(at(pipeline_step::pause)).count, 0U) << "nothing to pause";
}

// The gate's counts, one app with a budget of 1 call per second.
TEST(budget_gate_metrics, waits_wait_time_cooldowns_and_limits_per_app) {
  virtual_time time;
  asio::io_context io;
  budget_gate gate(io.get_executor());
  gate.set_limits("app-1", config::rate_limits{1, 60, 1000});
  const adapters::gate_key key{"app-1", "/bc/get/", "b"};
  int granted = 0;
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(io, gate.acquire(key), [&](const std::exception_ptr& e) {
      rethrow(e);
      ++granted;
    });
  }
  ASSERT_TRUE(run_virtual(
      io, [&] { return granted == 3; }, 1min));
  auto stats = gate.stats().at("app-1");
  EXPECT_EQ(stats.bucket.taken, 3U);
  EXPECT_EQ(stats.waited, 2U) << "the first went at once";
  EXPECT_EQ(stats.waiting, 0U);
  const double waited = std::chrono::duration<double>(stats.wait_time).count();
  EXPECT_GE(waited, 3.0) << "one waited 1 s, the other 2 s";
  EXPECT_LT(waited, 3.2);
  EXPECT_EQ(stats.limits.qps, 1U);
  EXPECT_EQ(stats.limits.qpm, 60U);
  EXPECT_EQ(stats.limits.qpd, 1000U);
  EXPECT_EQ(stats.bucket.cooldowns, 0U);

  gate.report(key, adapters::gate_answer::rate_limited, 40100);
  stats = gate.stats().at("app-1");
  EXPECT_EQ(stats.bucket.cooldowns, 1U);
  EXPECT_EQ(stats.bucket.rate_limited, 1U);
}

}  // namespace
}  // namespace unlinkd::scheduler
