#pragma once
// The rate gate every API call awaits before it is sent (PRODUCT.md §5). The
// adapter only defines the seam and a simple gate for tests; the scheduler
// builds the real one (sliding windows, cooldowns, round-robin across batches).
#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>

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
  // True (and counted) when the call may be sent now without waiting; the
  // caller then skips acquire() and the deadline race around it, which cost
  // more than the rest of a call's bookkeeping.
  virtual bool try_acquire(const gate_key& /*key*/) { return false; }
  // What the API said to the call acquire() let through.
  virtual void report(const gate_key& key, gate_answer answer, std::int64_t code) = 0;
};

}  // namespace unlinkd::adapters
