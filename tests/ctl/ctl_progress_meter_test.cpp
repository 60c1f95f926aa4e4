// watch's progress: counts read from a batch answer, rate and ETA from
// polls at driven times, and the line drawn from them.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "ctl/progress_meter.hpp"

namespace unlinkd::ctl {
namespace {

using namespace std::chrono_literals;

TEST(ctl_progress_meter, counts_come_from_by_state) {
  const auto batch = boost::json::parse(R"({"state":"running","accounts":{"total":10,
      "by_state":{"done":3,"failed":1,"pending":2,"unlink":2,"verify":1,"needs_attention":1}}})");
  const auto c = progress_of(batch);
  EXPECT_EQ(c.total, 10);
  EXPECT_EQ(c.done, 3);
  EXPECT_EQ(c.failed, 1);
  EXPECT_EQ(c.in_flight, 3);
  EXPECT_EQ(c.waiting, 2);
  EXPECT_EQ(c.attention, 1);
  EXPECT_EQ(c.finished(), 4);
}

TEST(ctl_progress_meter, a_missing_or_odd_answer_counts_nothing) {
  const auto c = progress_of(boost::json::parse(R"({"accounts":"many"})"));
  EXPECT_EQ(c.total, 0);
  EXPECT_EQ(c.finished(), 0);
}

TEST(ctl_progress_meter, rate_and_eta_from_successive_polls) {
  progress_meter meter;
  const progress_meter::clock::time_point t0{};
  meter.add(t0, {.total = 100, .done = 10});
  EXPECT_FALSE(meter.rate_per_minute()) << "one poll gives no rate";
  EXPECT_FALSE(meter.eta());
  meter.add(t0 + 30s, {.total = 100, .done = 20, .failed = 5});
  ASSERT_TRUE(meter.rate_per_minute());
  EXPECT_DOUBLE_EQ(*meter.rate_per_minute(), 30.0);  // 15 finished in 30 s
  ASSERT_TRUE(meter.eta());
  EXPECT_EQ(*meter.eta(), 150s);  // 75 left at 30/min
}

TEST(ctl_progress_meter, old_polls_leave_the_window) {
  progress_meter meter(60s);
  const progress_meter::clock::time_point t0{};
  meter.add(t0, {.total = 100, .done = 0});
  meter.add(t0 + 50s, {.total = 100, .done = 50});  // a fast start
  meter.add(t0 + 100s, {.total = 100, .done = 55});
  meter.add(t0 + 110s, {.total = 100, .done = 56});
  // Only the polls at 50, 100 and 110 s are kept: 6 in 60 s.
  EXPECT_DOUBLE_EQ(*meter.rate_per_minute(), 6.0);
}

TEST(ctl_progress_meter, no_progress_means_no_eta) {
  progress_meter meter;
  const progress_meter::clock::time_point t0{};
  meter.add(t0, {.total = 5, .done = 1});
  meter.add(t0 + 10s, {.total = 5, .done = 1});
  EXPECT_DOUBLE_EQ(*meter.rate_per_minute(), 0.0);
  EXPECT_FALSE(meter.eta());
}

TEST(ctl_progress_meter, the_line) {
  EXPECT_EQ(progress_line({.total = 10, .done = 4, .failed = 1, .in_flight = 2, .waiting = 3}, 2.5,
                          72s, "running"),
            "[##########..........] 4/10 done, 1 failed, 2 in flight, 3 waiting, 2.5/min, "
            "ETA 1m12s (running)");
  EXPECT_EQ(progress_line({.total = 3, .waiting = 3}, std::nullopt, std::nullopt, "queued"),
            "[....................] 0/3 done, 0 failed, 0 in flight, 3 waiting, -/min, ETA - "
            "(queued)");
  EXPECT_EQ(progress_line({.total = 2, .done = 1, .cancelled = 1, .attention = 0}, 1.0,
                          std::nullopt, "cancelled"),
            "[####################] 1/2 done, 0 failed, 0 in flight, 0 waiting, 1 cancelled, "
            "1.0/min, ETA 0s (cancelled)");
  EXPECT_EQ(
      progress_line({.total = 4, .in_flight = 1, .attention = 3}, 0.0, std::nullopt, "running"),
      "[....................] 0/4 done, 0 failed, 1 in flight, 0 waiting, 3 need attention, "
      "0.0/min, ETA - (running)");
  EXPECT_EQ(progress_line({.total = 4000, .done = 1}, 0.5, std::chrono::seconds(7990), "running")
                .substr(0, 22),
            "[....................]");
  EXPECT_NE(progress_line({.total = 4000, .done = 1}, 0.5, 7990s, "running").find("ETA 2h13m"),
            std::string::npos);
}

TEST(ctl_progress_meter, finished_states) {
  EXPECT_TRUE(batch_finished("completed"));
  EXPECT_TRUE(batch_finished("cancelled"));
  EXPECT_FALSE(batch_finished("cancelling"));
  EXPECT_FALSE(batch_finished("paused"));
}

}  // namespace
}  // namespace unlinkd::ctl
