#pragma once
// The rate gate every API call awaits before it is sent (PRODUCT.md §5). The
// adapter only defines the seam and a simple gate for tests; the scheduler
// builds the real one (sliding windows, cooldowns, round-robin across batches).
#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "adapters/deadline_race.hpp"

namespace unlinkd::adapters {

struct gate_key {
  std::string app_id;    // budgets are per app (profiles may share one)
  std::string endpoint;  // "/report/task/create/" has its own limit
  std::string batch;     // for fairness between batches
};

enum class gate_answer : std::uint8_t {
  ok,            // the API answered (success or an error that is not rate limiting)
  rate_limited,  // 40100 / 40016 / 40133 / 40132: freeze the app's bucket
  daily_quota,   // the daily quota is spent: frozen until 00:00 UTC
  not_sent,      // the call never reached the API (connection failed before sending)
};

class rate_gate {
 public:
  virtual ~rate_gate() = default;
  // Resumes when the call may be sent now; the call then counts against the budget.
  virtual boost::asio::awaitable<void> acquire(const gate_key& key) = 0;
  // True (and counted) when the call may be sent now without waiting.
  virtual bool try_acquire(const gate_key& /*key*/) { return false; }
  // acquire() unless `deadline` comes first: true when granted (and
  // counted), false when the deadline passed and nothing was taken. A gate
  // may do this without a race of two coroutines and a second timer, which
  // cost more than the rest of a call's bookkeeping.
  virtual boost::asio::awaitable<bool> acquire_until(
      const gate_key& key, std::chrono::steady_clock::time_point deadline) {
    if (try_acquire(key)) {
      co_return true;
    }
    co_return co_await finish_before(acquire(key), deadline);
  }
  // What the API said to the call acquire() let through.
  virtual void report(const gate_key& key, gate_answer answer, std::int64_t code) = 0;
};

}  // namespace unlinkd::adapters
