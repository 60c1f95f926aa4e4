// The budget contract (SANDBOX_API.md §1.9): the app_budget class on a fake
// clock, then the real process, checked on invariants that hold whatever the
// timing.
#include "sandbox/budget.hpp"

#include <chrono>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::test {
namespace {

using namespace std::chrono_literals;
using sandbox::app_budget;
using sandbox::budget_limits;
using sandbox::budget_verdict;

constexpr auto admitted = budget_verdict::admitted;
constexpr auto over_window = budget_verdict::over_window;
constexpr auto over_day = budget_verdict::over_day;

// A fake clock: monotonic time from an arbitrary origin, wall time from noon
// UTC on 2026-11-26 moving with it.
struct fake_clock {
  app_budget::mono_time mono{std::chrono::hours(1000)};
  app_budget::wall_time wall{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + 12h};
  void at(std::chrono::milliseconds since_start) {
    mono = app_budget::mono_time{std::chrono::hours(1000)} + since_start;
    wall = app_budget::wall_time{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + 12h} +
           since_start;
  }
};

budget_limits limits(std::uint64_t qps, std::uint64_t qpm, std::uint64_t qpd = 1'000'000) {
  budget_limits l;
  l.qps = qps;
  l.qpm = qpm;
  l.qpd = qpd;
  return l;
}

class budget : public ::testing::Test {
 protected:
  budget_verdict call_at(std::chrono::milliseconds t, const std::string& app = "app-1",
                         bool report_create = false) {
    clock_.at(t);
    return budget_.admit(app, report_create, clock_.mono, clock_.wall);
  }
  budget_verdict report_create_at(std::chrono::milliseconds t) { return call_at(t, "app-1", true); }
  sandbox::app_budget_stats stats(const std::string& app = "app-1") {
    return budget_.stats().at(app);
  }

  fake_clock clock_;
  app_budget budget_{limits(3, 100)};
};

TEST_F(budget, a_call_exactly_one_second_after_another_is_in_a_new_window) {
  EXPECT_EQ(call_at(0ms), admitted);
  EXPECT_EQ(call_at(100ms), admitted);
  EXPECT_EQ(call_at(200ms), admitted);
  EXPECT_EQ(call_at(300ms), over_window);
  EXPECT_EQ(call_at(999ms), over_window);
  EXPECT_EQ(call_at(1000ms), admitted) << "the call at 0 ms has left the window (0, 1000]";
  EXPECT_EQ(call_at(1099ms), over_window) << "100, 200 and 1000 are in (99, 1099]";
  EXPECT_EQ(call_at(1100ms), admitted);
  EXPECT_EQ(stats().accepted, 5U);
  EXPECT_EQ(stats().refused, 3U);
}

TEST_F(budget, windows_slide_rather_than_restart_on_the_second) {
  EXPECT_EQ(call_at(900ms), admitted);
  EXPECT_EQ(call_at(950ms), admitted);
  EXPECT_EQ(call_at(990ms), admitted);
  EXPECT_EQ(call_at(1100ms), over_window) << "a fixed window would have started afresh at 1 s";
  EXPECT_EQ(call_at(1899ms), over_window);
  EXPECT_EQ(call_at(1900ms), admitted);
  EXPECT_EQ(stats().max_1s, 3U);
}

TEST_F(budget, a_refused_call_counts_in_no_window) {
  budget_ = app_budget{limits(1, 100)};
  EXPECT_EQ(call_at(0ms), admitted);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(call_at(500ms), over_window);
  }
  EXPECT_EQ(call_at(1000ms), admitted) << "the refusals at 500 ms must not hold the window";
  EXPECT_EQ(stats().accepted, 2U);
  EXPECT_EQ(stats().refused, 50U);
  EXPECT_EQ(stats().max_1s, 1U);
}

TEST_F(budget, the_minute_window_slides_with_the_same_edge_convention) {
  budget_ = app_budget{limits(10, 5)};
  for (int s = 0; s < 5; ++s) {
    EXPECT_EQ(call_at(std::chrono::seconds(s)), admitted);
  }
  EXPECT_EQ(call_at(30s), over_window);
  EXPECT_EQ(call_at(59'999ms), over_window);
  EXPECT_EQ(call_at(60s), admitted) << "the call at 0 s has left the window (0, 60]";
  EXPECT_EQ(call_at(60'500ms), over_window);
  EXPECT_EQ(call_at(61s), admitted);
  EXPECT_EQ(stats().max_60s, 5U);
  EXPECT_EQ(stats().max_1s, 1U);
}

TEST_F(budget, report_task_create_is_limited_to_two_per_second_besides_the_app_windows) {
  budget_ = app_budget{limits(10, 100)};
  EXPECT_EQ(report_create_at(0ms), admitted);
  EXPECT_EQ(report_create_at(10ms), admitted);
  EXPECT_EQ(report_create_at(20ms), over_window);
  EXPECT_EQ(call_at(30ms), admitted) << "other endpoints still have the app's budget";
  EXPECT_EQ(report_create_at(999ms), over_window);
  EXPECT_EQ(report_create_at(1000ms), admitted);
  EXPECT_EQ(report_create_at(1009ms), over_window);
  EXPECT_EQ(report_create_at(1010ms), admitted);
  EXPECT_EQ(stats().accepted, 5U);
  EXPECT_EQ(stats().refused, 3U);
  EXPECT_EQ(stats().max_1s, 3U) << "report creates count in the app's windows too";
}

TEST_F(budget, report_task_create_is_limited_to_sixty_per_minute_and_4500_per_day) {
  budget_ = app_budget{limits(10, 1000)};
  // Two a second for 30 seconds fills the endpoint's minute.
  for (int i = 0; i < 60; ++i) {
    ASSERT_EQ(report_create_at(std::chrono::milliseconds(i * 500)), admitted) << i;
  }
  EXPECT_EQ(report_create_at(30'000ms), over_window) << "60 creates in (−30 s, 30 s]";
  EXPECT_EQ(call_at(30'001ms), admitted) << "other endpoints still have the app's budget";
  EXPECT_EQ(report_create_at(60'000ms), admitted) << "the create at 0 ms has left the minute";

  budget_ = app_budget{limits(100, 100'000)};
  auto t = std::chrono::milliseconds(0);
  for (int i = 0; i < 4'500; ++i, t += 1'001ms) {
    ASSERT_EQ(report_create_at(t), admitted) << i;  // 1 a second: under 2/s and 60/min
  }
  ASSERT_LT(t, std::chrono::hours(24)) << "the test stays within one UTC day";
  EXPECT_EQ(report_create_at(t), over_day);
  EXPECT_EQ(call_at(t + 1ms), admitted) << "the app's own quota is not spent";
}

TEST_F(budget, report_task_create_is_refused_when_the_app_window_is_full) {
  budget_ = app_budget{limits(2, 100)};
  EXPECT_EQ(call_at(0ms), admitted);
  EXPECT_EQ(call_at(1ms), admitted);
  EXPECT_EQ(report_create_at(2ms), over_window);
}

TEST_F(budget, the_daily_quota_starts_afresh_at_midnight_utc) {
  budget_ = app_budget{limits(10, 100, 3)};
  const auto midnight =
      app_budget::wall_time{std::chrono::sys_days{std::chrono::year{2026} / 11 / 27}};
  const auto at = [&](std::chrono::milliseconds mono, app_budget::wall_time wall) {
    return budget_.admit("app-1", false, clock_.mono + mono, wall);
  };
  EXPECT_EQ(at(0s, midnight - 10s), admitted);
  EXPECT_EQ(at(2s, midnight - 8s), admitted);
  EXPECT_EQ(at(4s, midnight - 6s), admitted);
  EXPECT_EQ(at(6s, midnight - 4s), over_day);
  EXPECT_EQ(at(9'999ms, midnight - 1ms), over_day);
  EXPECT_EQ(at(10s, midnight), admitted) << "00:00:00 UTC belongs to the new day";
  EXPECT_EQ(at(11s, midnight + 1s), admitted);
  EXPECT_EQ(at(12s, midnight + 2s), admitted);
  EXPECT_EQ(at(13s, midnight + 3s), over_day);
  EXPECT_EQ(stats().accepted, 6U);
  EXPECT_EQ(stats().refused, 3U);
}

TEST_F(budget, the_daily_quota_is_reported_before_a_full_window) {
  budget_ = app_budget{limits(1, 100, 1)};
  EXPECT_EQ(call_at(0ms), admitted);
  EXPECT_EQ(call_at(1ms), over_day);
}

TEST_F(budget, max_window_stats_are_the_highest_counts_ever_seen) {
  budget_ = app_budget{limits(4, 100)};
  EXPECT_EQ(call_at(0ms), admitted);
  EXPECT_EQ(call_at(100ms), admitted);
  EXPECT_EQ(stats().max_1s, 2U);
  EXPECT_EQ(call_at(700ms), admitted);
  EXPECT_EQ(call_at(1050ms), admitted) << "(50, 1050] holds 100, 700, 1050";
  EXPECT_EQ(stats().max_1s, 3U);
  EXPECT_EQ(call_at(1060ms), admitted);
  EXPECT_EQ(stats().max_1s, 4U);
  EXPECT_EQ(call_at(1070ms), over_window);
  EXPECT_EQ(call_at(5000ms), admitted);
  EXPECT_EQ(stats().max_1s, 4U) << "a quiet window does not lower the maximum";
  EXPECT_EQ(stats().max_60s, 6U);
  EXPECT_EQ(stats().accepted, 6U);
  EXPECT_EQ(stats().refused, 1U);
}

TEST_F(budget, each_app_has_its_own_windows) {
  budget_ = app_budget{limits(1, 100)};
  EXPECT_EQ(call_at(0ms, "app-1"), admitted);
  EXPECT_EQ(call_at(1ms, "app-1"), over_window);
  EXPECT_EQ(call_at(2ms, "app-2"), admitted);
  EXPECT_EQ(stats("app-1").refused, 1U);
  EXPECT_EQ(stats("app-2").refused, 0U);
  budget_.reset();
  EXPECT_TRUE(budget_.stats().empty());
  EXPECT_EQ(call_at(3ms, "app-1"), admitted) << "reset forgets the windows";
}

TEST_F(budget, an_app_override_applies_to_that_app_only) {
  budget_.set_app_limits("app-1", limits(1, 100));
  EXPECT_EQ(budget_.limits_for("app-1").qps, 1U);
  EXPECT_EQ(budget_.limits_for("app-2").qps, 3U) << "others keep the default";
  EXPECT_EQ(call_at(0ms, "app-1"), admitted);
  EXPECT_EQ(call_at(1ms, "app-1"), over_window);
  EXPECT_EQ(call_at(2ms, "app-2"), admitted);
  EXPECT_EQ(call_at(3ms, "app-2"), admitted);
  EXPECT_EQ(call_at(4ms, "app-2"), admitted);
  EXPECT_EQ(call_at(5ms, "app-2"), over_window);
}

TEST_F(budget, a_lower_limit_applies_from_the_next_call_and_keeps_the_windows) {
  EXPECT_EQ(call_at(0ms), admitted);
  EXPECT_EQ(call_at(1ms), admitted);
  budget_.set_app_limits("app-1", limits(2, 100));
  EXPECT_EQ(call_at(2ms), over_window) << "the two calls already admitted still count";
  budget_.set_app_limits("app-1", limits(5, 100));
  EXPECT_EQ(call_at(3ms), admitted);
  EXPECT_EQ(stats().max_1s, 3U);
}

TEST_F(budget, a_new_default_applies_to_apps_without_an_override) {
  budget_.set_app_limits("app-1", limits(5, 100));
  budget_.set_default_limits(limits(1, 100));
  EXPECT_EQ(budget_.limits().qps, 1U);
  EXPECT_EQ(budget_.limits_for("app-1").qps, 5U) << "an override wins over the default";
  EXPECT_EQ(call_at(0ms, "app-2"), admitted);
  EXPECT_EQ(call_at(1ms, "app-2"), over_window);
}

TEST_F(budget, the_daily_quota_of_an_override_is_enforced) {
  budget_.set_app_limits("app-1", limits(3, 100, 2));
  EXPECT_EQ(call_at(0ms), admitted);
  EXPECT_EQ(call_at(2000ms), admitted);
  EXPECT_EQ(call_at(4000ms), over_day);
}

TEST_F(budget, reset_limits_restores_the_start_limits_and_drops_overrides) {
  budget_.set_app_limits("app-1", limits(1, 100));
  budget_.set_default_limits(limits(7, 700));
  budget_.reset_limits();
  EXPECT_TRUE(budget_.app_limits().empty());
  EXPECT_EQ(budget_.limits().qps, 3U);
  EXPECT_EQ(budget_.limits_for("app-1").qps, 3U);
  EXPECT_EQ(budget_.limits_for("app-1").qpm, 100U);
}

// --- The real process ---------------------------------------------------

const std::string api = "/open_api/v1.3";
const std::string admin_token = "sbx-admin-1";

std::string restricted(const std::string& app_id, bool for_today = false) {
  return "Due to too many requests, requests from App " + app_id + " are temporarily restricted" +
         (for_today ? " for today." : ".");
}

// The only app the calls used: the one key of the stats' "apps".
std::string only_app(const boost::json::value& stats) {
  const auto& apps = stats.at("apps").as_object();
  EXPECT_EQ(apps.size(), 1U) << stats;
  return apps.empty() ? std::string() : std::string(apps.begin()->key());
}

TEST(budget_process, a_client_pushing_over_qps_is_refused_40100_and_no_window_overflows) {
  sandbox_process sandbox({"--accounts", "10", "--seed", "1", "--qps", "5", "--qpm", "1000"});
  http_client client(sandbox.port());
  // As fast as one keep-alive connection goes: 20 calls at least, then on
  // until the first refusal (capped), so a stalled machine cannot fail it.
  std::uint64_t calls = 0;
  std::vector<boost::json::value> refusals;
  while (calls < 1000 && (calls < 20 || refusals.empty())) {
    const auto reply = client.get(api + "/user/info/", admin_token);
    ++calls;
    ASSERT_EQ(reply.status, 200U);
    auto body = reply.json();
    if (body.at("code").as_int64() != 0) {
      refusals.push_back(std::move(body));
    }
  }
  ASSERT_FALSE(refusals.empty()) << calls << " calls and not one refused";
  const auto stats = client.get("/_sandbox/stats").json();
  const std::string app_id = only_app(stats);
  const auto& app = stats.at("apps").at(app_id).as_object();
  EXPECT_EQ(
      app.at("accepted").to_number<std::uint64_t>() + app.at("refused").to_number<std::uint64_t>(),
      calls);
  EXPECT_EQ(app.at("refused").to_number<std::uint64_t>(), refusals.size());
  EXPECT_LE(app.at("max_1s").to_number<std::uint64_t>(), 5U);
  EXPECT_GE(app.at("max_1s").to_number<std::uint64_t>(), 1U);
  EXPECT_LE(app.at("max_60s").to_number<std::uint64_t>(), 1000U);
  for (const auto& r : refusals) {
    EXPECT_EQ(r.at("code").as_int64(), 40100) << r;
    EXPECT_EQ(r.at("message").as_string(), restricted(app_id)) << r;
    EXPECT_TRUE(r.at("data").as_object().empty()) << r;
  }
  EXPECT_EQ(stats.at("calls").at(api + "/user/info/").at("40100").to_number<std::uint64_t>(),
            refusals.size());
}

// Several seconds of a client pushing far above the limit: the sandbox's own
// window counts show no 1-s or 60-s window ever over the limit, and both limits
// reached exactly (20 in the first second; 50 in the minute, by the third).
TEST(budget_process, several_seconds_over_the_limit_fill_every_window_and_none_overflows) {
  sandbox_process sandbox({"--accounts", "10", "--seed", "1", "--qps", "20", "--qpm", "50"});
  http_client client(sandbox.port());
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::seconds(30);
  std::uint64_t calls = 0;
  std::uint64_t admitted = 0;
  // Until the minute's 50 are spent and 3 s have passed (a slow machine only
  // takes longer; the deadline stops a broken sandbox).
  while (admitted < 50 || std::chrono::steady_clock::now() - start < std::chrono::seconds(3)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << admitted << " admitted";
    const auto body = client.get(api + "/user/info/", admin_token).json();
    ++calls;
    const auto code = body.at("code").as_int64();
    ASSERT_TRUE(code == 0 || code == 40100) << body;
    admitted += code == 0 ? 1 : 0;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const auto stats = client.get("/_sandbox/stats").json();
  const auto& app = stats.at("apps").at(only_app(stats)).as_object();
  EXPECT_EQ(app.at("max_1s").to_number<std::uint64_t>(), 20U)
      << "the 1-s limit reached, never passed";
  EXPECT_EQ(app.at("max_60s").to_number<std::uint64_t>(), 50U)
      << "the 60-s limit reached, never passed";
  if (elapsed < std::chrono::seconds(60)) {  // all within one minute: exactly the minute's limit
    EXPECT_EQ(app.at("accepted").to_number<std::uint64_t>(), 50U);
    EXPECT_EQ(admitted, 50U);
  }
  EXPECT_EQ(app.at("refused").to_number<std::uint64_t>(), calls - admitted);
  EXPECT_GT(calls - admitted, 0U);
}

TEST(budget_process, the_daily_quota_refuses_for_today_and_a_refused_call_is_not_processed) {
  // Four calls are far below --qps 10, so only the daily quota can refuse.
  sandbox_process sandbox({"--accounts", "10", "--seed", "1", "--qpd", "3"});
  http_client client(sandbox.port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(client.get(api + "/user/info/", admin_token).json().at("code").as_int64(), 0);
  }
  // A mutation over the quota is not processed: its parameters (missing
  // asset_id here, 40002 if checked) are never read, nothing is attempted.
  const auto refused = client.post(api + "/bc/asset/unassign/",
                                   R"({"bc_id":"1","asset_type":"ADVERTISER"})", admin_token);
  ASSERT_EQ(refused.status, 200U);
  const auto body = refused.json();
  const auto stats = client.get("/_sandbox/stats").json();
  const std::string app_id = only_app(stats);
  EXPECT_EQ(body.at("code").as_int64(), 40100) << body;
  EXPECT_EQ(body.at("message").as_string(), restricted(app_id, true)) << body;
  EXPECT_TRUE(stats.at("accounts").as_object().empty()) << stats;
  EXPECT_EQ(stats.at("apps").at(app_id).at("accepted").to_number<std::uint64_t>(), 3U);
  EXPECT_EQ(stats.at("apps").at(app_id).at("refused").to_number<std::uint64_t>(), 1U);
}

TEST(budget_process, no_limits_never_answers_40100) {
  sandbox_process sandbox({"--accounts", "10", "--seed", "1", "--qps", "1", "--no-limits"});
  http_client client(sandbox.port());
  for (int i = 0; i < 200; ++i) {
    const auto body = client.get(api + "/user/info/", admin_token).json();
    ASSERT_EQ(body.at("code").as_int64(), 0) << "call " << i << ": " << body;
  }
  const auto stats = client.get("/_sandbox/stats").json();
  EXPECT_TRUE(stats.at("apps").as_object().empty()) << "no budget, nothing counted: " << stats;
}

TEST(budget_process, rejects_a_zero_or_malformed_limit) {
  for (const std::string bad : {"0", "x", "-1"}) {
    EXPECT_ANY_THROW(sandbox_process({"--qps", bad})) << bad;
  }
}

}  // namespace
}  // namespace unlinkd::test
