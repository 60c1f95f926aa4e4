#pragma once
// The one place that races an awaitable against a deadline (Boost 1.81 has
// no cancel_after). The loser is cancelled through Asio's per-operation
// cancellation. Used for what has no deadline of its own: the rate gate,
// DNS resolution. Socket reads and writes use tcp_stream::expires_at instead.
#include <chrono>
#include <optional>
#include <utility>
#include <variant>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace unlinkd::adapters {

namespace detail {
inline boost::asio::awaitable<void> wait_until(std::chrono::steady_clock::time_point deadline) {
  boost::asio::steady_timer timer{co_await boost::asio::this_coro::executor};
  timer.expires_at(deadline);
  co_await timer.async_wait(boost::asio::use_awaitable);
}
}  // namespace detail

// True when `op` finished first; false when the deadline came first.
inline boost::asio::awaitable<bool> finish_before(boost::asio::awaitable<void> op,
                                                  std::chrono::steady_clock::time_point deadline) {
  using namespace boost::asio::experimental::awaitable_operators;
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    co_await std::move(op);
    co_return true;
  }
  const auto winner = co_await (std::move(op) || detail::wait_until(deadline));
  co_return winner.index() == 0;
}

// The value of `op`, or nullopt when the deadline came first.
template <class T>
boost::asio::awaitable<std::optional<T>> value_before(
    boost::asio::awaitable<T> op, std::chrono::steady_clock::time_point deadline) {
  using namespace boost::asio::experimental::awaitable_operators;
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    co_return co_await std::move(op);
  }
  auto winner = co_await (std::move(op) || detail::wait_until(deadline));
  if (winner.index() != 0) {
    co_return std::nullopt;
  }
  co_return std::move(std::get<0>(winner));
}

}  // namespace unlinkd::adapters
