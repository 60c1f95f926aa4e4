// The rate gate as the scheduler uses it, in virtual time: round-robin
// between batches on one app, no window ever over the budget while the
// budget is used to at least 97%, the cooldown and lone probe after a
// rate-limited answer, and a cancelled wait that takes no slot.
#include "scheduler/budget_gate.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

namespace unlinkd::scheduler {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using adapters::gate_answer;
using adapters::gate_key;

struct grant {
  std::string batch;
  clock::time_point at;
};

class gate_test : public ::testing::Test {
 protected:
  // `calls` acquisitions by one caller of `batch`, one after another.
  void caller(const std::string& batch, int calls, const std::string& endpoint = "/bc/get/") {
    spawn([this, batch, calls, endpoint]() -> asio::awaitable<void> {
      // A named key: g++ 12 destroys a braced temporary inside a
      // co_await expression twice (GCC bug 101367).
      const gate_key key{"app-1", endpoint, batch};
      for (int i = 0; i < calls; ++i) {
        co_await gate_.acquire(key);
        grants_.push_back({batch, clock::now()});
        gate_.report(key, gate_answer::ok, 0);
      }
      ++finished_;
    });
  }

  // Runs `coroutine` (a function returning an awaitable) on io_; an
  // exception out of it fails the test run.
  template <class Coroutine>
  void spawn(Coroutine coroutine) {
    asio::co_spawn(io_, std::move(coroutine), [](const std::exception_ptr& e) {
      if (e) {
        std::rethrow_exception(e);
      }
    });
  }

  // The most grants in any window of `width` (a window is (t - width, t]).
  std::size_t max_in_window(clock::duration width) const {
    std::size_t most = 0;
    std::size_t first = 0;
    for (std::size_t last = 0; last < grants_.size(); ++last) {
      while (grants_[last].at - grants_[first].at >= width) {
        ++first;
      }
      most = std::max(most, last - first + 1);
    }
    return most;
  }

  virtual_time time_;
  asio::io_context io_;
  budget_gate gate_{io_.get_executor()};
  std::vector<grant> grants_;
  int finished_ = 0;
};

TEST_F(gate_test, a_small_batch_is_served_between_the_calls_of_a_huge_one) {
  gate_.set_limits("app-1", {10, 600, 864'000});
  for (int i = 0; i < 500; ++i) {
    caller("huge", 1);
  }
  for (int i = 0; i < 5; ++i) {
    caller("tiny", 1);
  }
  ASSERT_TRUE(run_virtual(
      io_, [&] { return finished_ == 505; }, 10min));
  std::vector<std::size_t> tiny_positions;
  for (std::size_t i = 0; i < grants_.size(); ++i) {
    if (grants_[i].batch == "tiny") {
      tiny_positions.push_back(i);
    }
  }
  ASSERT_EQ(tiny_positions.size(), 5U);
  EXPECT_LT(tiny_positions.back(), 25U)
      << "the tiny batch waited behind the huge one (its last call was grant "
      << tiny_positions.back() << ")";
}

TEST_F(gate_test, no_window_is_ever_over_the_budget_and_the_budget_is_used) {
  gate_.set_limits("app-1", {10, 300, 864'000});
  for (const auto* batch : {"a", "b", "c"}) {
    for (int i = 0; i < 4; ++i) {
      caller(batch, 1000);  // far more than 3 minutes can take
    }
  }
  const auto start = clock::now();
  run_virtual(
      io_, [] { return false; }, 180s);
  ASSERT_FALSE(grants_.empty());
  EXPECT_LE(max_in_window(1s), 10U);
  EXPECT_LE(max_in_window(60s), 300U);
  // Steady state is the minute's budget: 300 a minute, 900 in 3 minutes.
  const double used = static_cast<double>(grants_.size()) / 900.0;
  EXPECT_GE(used, 0.97) << grants_.size() << " grants in 3 minutes";
  EXPECT_LE(grants_.size(), 900U);
  // Every batch got about a third (within 5%: a burst of free slots at a
  // minute's start can empty one batch's queue before its callers return).
  for (const auto* batch : {"a", "b", "c"}) {
    const auto n = std::count_if(grants_.begin(), grants_.end(),
                                 [&](const grant& g) { return g.batch == batch; });
    EXPECT_NEAR(static_cast<double>(n), grants_.size() / 3.0, grants_.size() / 3.0 * 0.05) << batch;
  }
  // 300 in the first 30 s, then nothing until the minute's first call leaves.
  EXPECT_GE(grants_[300].at - start, 60s);
}

TEST_F(gate_test, a_rate_limited_answer_holds_everyone_then_lets_one_probe_through) {
  gate_.set_limits("app-1", {10, 600, 864'000});
  spawn([this]() -> asio::awaitable<void> {
    const gate_key key{"app-1", "/bc/get/", "a"};
    co_await gate_.acquire(key);
    const auto limited_at = clock::now();
    gate_.report(key, gate_answer::rate_limited, 40100);
    co_await gate_.acquire(key);  // waits out the cooldown: this is the probe
    EXPECT_GE(clock::now() - limited_at, 1s);
    grants_.push_back({"probe", clock::now()});
    // While the probe is unanswered another caller may not go.
    const auto before = grants_.size();
    caller("b", 1);
    timer t(io_, clock::now() + 5s);
    co_await t.async_wait(asio::use_awaitable);
    EXPECT_EQ(grants_.size(), before) << "a call went beside the unanswered probe";
    gate_.report(key, gate_answer::ok, 0);
    ++finished_;
  });
  ASSERT_TRUE(run_virtual(
      io_, [&] { return finished_ == 2; }, 1min));
  ASSERT_EQ(grants_.size(), 2U);
  EXPECT_EQ(grants_[1].batch, "b");
  EXPECT_EQ(gate_.stats().at("app-1").bucket.probes, 1U);
}

TEST_F(gate_test, a_cancelled_wait_takes_no_slot) {
  using namespace asio::experimental::awaitable_operators;
  gate_.set_limits("app-1", {1, 60, 864'000});
  bool timed_out = false;
  spawn([&]() -> asio::awaitable<void> {
    const gate_key key{"app-1", "/bc/get/", "a"};
    co_await gate_.acquire(key);  // the second's one call
    timer deadline(io_, clock::now() + 100ms);
    auto first =
        co_await (gate_.acquire(key) || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
    timed_out = first.index() == 1;
    ++finished_;
  });
  ASSERT_TRUE(run_virtual(
      io_, [&] { return finished_ == 1; }, 10s));
  EXPECT_TRUE(timed_out);
  caller("b", 1);
  const auto asked = clock::now();
  ASSERT_TRUE(run_virtual(
      io_, [&] { return finished_ == 2; }, 10s));
  EXPECT_LE(grants_.back().at - asked, 1s) << "the abandoned wait held a slot";
  EXPECT_EQ(gate_.stats().at("app-1").bucket.taken, 2U);
}

TEST_F(gate_test, try_acquire_grants_only_a_free_slot_nobody_waits_for) {
  gate_.set_limits("app-1", {1, 60, 864'000});
  const gate_key key{"app-1", "/bc/get/", "a"};
  EXPECT_TRUE(gate_.try_acquire(key)) << "a free slot";
  EXPECT_FALSE(gate_.try_acquire(key)) << "at 1 QPS the next slot is a second away";
  EXPECT_EQ(gate_.stats().at("app-1").bucket.taken, 1U) << "a refused try takes nothing";
  // Someone queued: a try does not jump the queue, even once the slot frees.
  caller("b", 1);
  io_.poll();
  virtual_time::advance(1s);
  EXPECT_FALSE(gate_.try_acquire(key));
  ASSERT_TRUE(run_virtual(
      io_, [&] { return finished_ == 1; }, 10s));
  EXPECT_EQ(gate_.stats().at("app-1").bucket.taken, 2U);
}

TEST_F(gate_test, acquire_until_gives_up_at_the_deadline_and_takes_no_slot) {
  gate_.set_limits("app-1", {1, 60, 864'000});
  std::optional<bool> first;
  std::optional<bool> second;
  spawn([&]() -> asio::awaitable<void> {
    const gate_key key{"app-1", "/bc/get/", "a"};
    const auto soon = std::chrono::steady_clock::now() + 100ms;
    first = co_await gate_.acquire_until(key, soon);   // the free slot
    second = co_await gate_.acquire_until(key, soon);  // a second away: gives up
    ++finished_;
  });
  ASSERT_TRUE(run_virtual(
      io_, [&] { return finished_ == 1; }, 10s));
  EXPECT_EQ(first, true);
  EXPECT_EQ(second, false);
  caller("b", 1);
  const auto asked = clock::now();
  ASSERT_TRUE(run_virtual(
      io_, [&] { return finished_ == 2; }, 10s));
  EXPECT_LE(grants_.back().at - asked, 1s) << "the abandoned wait held a slot";
  EXPECT_EQ(gate_.stats().at("app-1").bucket.taken, 2U);
}

}  // namespace
}  // namespace unlinkd::scheduler
