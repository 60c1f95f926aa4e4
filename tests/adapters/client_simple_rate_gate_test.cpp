// The test gate: spacing per app, cooldown after a rate-limited answer.
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "adapters/simple_rate_gate.hpp"
#include "tests/adapters/client_test_support.hpp"

namespace unlinkd::adapters {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

asio::awaitable<clock::duration> acquire_n(simple_rate_gate& gate, gate_key key, int n) {
  const auto start = clock::now();
  for (int i = 0; i < n; ++i) {
    co_await gate.acquire(key);
  }
  co_return clock::now() - start;
}

TEST(client_simple_rate_gate, calls_of_one_app_are_spaced) {
  asio::io_context io;
  simple_rate_gate gate{io.get_executor(), {std::chrono::microseconds{20'000}, 1s}};
  const auto took = test::run_bounded(io, acquire_n(gate, {"app", "/bc/get/", "b"}, 4));
  EXPECT_GE(took, 60ms);
  EXPECT_EQ(gate.counters().acquired, 4U);
}

TEST(client_simple_rate_gate, apps_do_not_wait_for_each_other) {
  asio::io_context io;
  simple_rate_gate gate{io.get_executor(), {std::chrono::microseconds{200'000}, 1s}};
  (void)test::run_bounded(io, acquire_n(gate, {"a", "/x/", "b"}, 1));
  const auto other = test::run_bounded(io, acquire_n(gate, {"b", "/x/", "b"}, 1));
  EXPECT_LT(other, 100ms);
}

TEST(client_simple_rate_gate, a_rate_limited_answer_freezes_the_app_for_the_cooldown) {
  asio::io_context io;
  simple_rate_gate gate{io.get_executor(), {std::chrono::microseconds{0}, 150ms}};
  const gate_key key{"app", "/bc/get/", "b"};
  (void)test::run_bounded(io, acquire_n(gate, key, 1));
  gate.report(key, gate_answer::rate_limited, 40100);
  const auto frozen = test::run_bounded(io, acquire_n(gate, key, 1));
  EXPECT_GE(frozen, 140ms);
  gate.report(key, gate_answer::ok, 0);
  gate.report(key, gate_answer::not_sent, 0);
  gate.report(key, gate_answer::daily_quota, 40100);
  EXPECT_EQ(gate.counters().rate_limited, 1U);
  EXPECT_EQ(gate.counters().ok, 1U);
  EXPECT_EQ(gate.counters().not_sent, 1U);
  EXPECT_EQ(gate.counters().daily_quota, 1U);
  // Other apps are not frozen.
  EXPECT_LT(test::run_bounded(io, acquire_n(gate, {"other", "/bc/get/", "b"}, 1)), 100ms);
}

}  // namespace
}  // namespace unlinkd::adapters
