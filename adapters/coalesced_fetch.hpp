#pragma once
// One fetch serves many callers: a value younger than a freshness window is
// answered from memory; while a fetch is in flight, later callers await it
// instead of sending their own. All on one io_context, so no mutex: the map
// is only touched between suspension points of coroutines on that context.
// Used for per-credential facts (user/info, bc/get, the shared-to-us list)
// and for the bc_asset listing that one verify poll round shares.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "adapters/api_client.hpp"

namespace unlinkd::adapters {

template <class Value>
class coalesced_fetch {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using fetcher = std::function<boost::asio::awaitable<api_result<Value>>()>;

  // `clock` gives "now"; failures are never kept, so the next caller retries.
  explicit coalesced_fetch(std::function<time_point()> clock) : clock_(std::move(clock)) {}

  boost::asio::awaitable<api_result<Value>> get(const std::string& key,
                                                std::chrono::steady_clock::duration fresh_for,
                                                const fetcher& fetch) {
    {
      auto& e = entries_[key];
      if (e.value && clock_() - e.fetched_at < fresh_for) {
        ++served_from_memory_;
        co_return *e.value;
      }
      if (auto f = e.in_flight) {
        ++served_from_memory_;
        co_await f->done.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (f->result) {
          co_return *f->result;
        }
        co_return api_error{
            error_class::retryable, 0, 0, "A shared read this call waited for did not finish.", {}};
      }
    }
    auto f = std::make_shared<flight>(co_await boost::asio::this_coro::executor);
    entries_[key].in_flight = f;
    // Whatever ends this fetch (a value, an error, an exception, the frame
    // destroyed by a cancelled parent), the callers waiting for it wake up.
    flight_guard guard{*this, key, f};
    api_result<Value> result = co_await fetch();
    auto& e = entries_[key];
    if (result) {
      e.value = *result;
      e.fetched_at = clock_();
    }
    f->result = result;
    guard.release();
    co_return result;
  }

  // Forgets a key, so the next caller fetches (e.g. after a write changed it).
  void forget(const std::string& key) { entries_.erase(key); }
  [[nodiscard]] std::uint64_t served_from_memory() const { return served_from_memory_; }

 private:
  struct flight {
    explicit flight(const boost::asio::any_io_executor& ex)
        : done(ex, std::chrono::steady_clock::time_point::max()) {}
    boost::asio::steady_timer done;
    std::optional<api_result<Value>> result;
  };
  // Ends a flight: forgets it and wakes its waiters.
  class flight_guard {
   public:
    flight_guard(coalesced_fetch& owner, std::string key, std::shared_ptr<flight> f)
        : owner_(owner), key_(std::move(key)), flight_(std::move(f)) {}
    flight_guard(const flight_guard&) = delete;
    flight_guard& operator=(const flight_guard&) = delete;
    ~flight_guard() { release(); }
    void release() {
      if (!flight_) {
        return;
      }
      const auto it = owner_.entries_.find(key_);
      if (it != owner_.entries_.end() && it->second.in_flight == flight_) {
        it->second.in_flight.reset();
      }
      flight_->done.cancel();
      flight_.reset();
    }

   private:
    coalesced_fetch& owner_;
    std::string key_;
    std::shared_ptr<flight> flight_;
  };
  struct entry {
    std::optional<Value> value;
    time_point fetched_at{};
    std::shared_ptr<flight> in_flight;
  };
  std::function<time_point()> clock_;
  std::map<std::string, entry> entries_;
  std::uint64_t served_from_memory_ = 0;
};

}  // namespace unlinkd::adapters
