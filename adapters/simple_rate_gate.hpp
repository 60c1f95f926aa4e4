#pragma once
// A plain rate gate for tests and tools: a fixed minimum spacing between the
// calls of one app, and a cooldown of the whole app after a rate-limited
// answer. The scheduler's real gate (sliding windows, repeated cooldowns,
// round-robin across batches) replaces it in the daemon.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "adapters/rate_gate.hpp"

namespace unlinkd::adapters {

struct simple_rate_gate_options {
  std::chrono::microseconds min_spacing{0};   // between two calls of one app; 0: none
  std::chrono::milliseconds cooldown{1'000};  // the app waits this long after a 40100
};

struct simple_rate_gate_counters {
  std::uint64_t acquired = 0;
  std::uint64_t ok = 0;
  std::uint64_t rate_limited = 0;
  std::uint64_t daily_quota = 0;
  std::uint64_t not_sent = 0;
};

class simple_rate_gate final : public rate_gate {
 public:
  explicit simple_rate_gate(boost::asio::any_io_executor ex, simple_rate_gate_options options = {});

  boost::asio::awaitable<void> acquire(const gate_key& key) override;
  void report(const gate_key& key, gate_answer answer, std::int64_t code) override;

  [[nodiscard]] const simple_rate_gate_counters& counters() const { return counters_; }

 private:
  using clock = std::chrono::steady_clock;
  struct app_state {
    clock::time_point next_free{};     // the earliest time the next call may go
    clock::time_point frozen_until{};  // cooldown after a rate-limited answer
  };
  boost::asio::any_io_executor ex_;
  simple_rate_gate_options options_;
  std::map<std::string, app_state, std::less<>> apps_;
  simple_rate_gate_counters counters_;
};

}  // namespace unlinkd::adapters
