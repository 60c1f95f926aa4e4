#pragma once
// `unlinkctl watch`'s progress: counts taken from successive polls of
// GET /v1/batches/{batch}, a rate from the accounts finished between the
// oldest and newest polls kept, and an ETA from that rate. Time is passed in,
// so tests drive it without waiting.
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

namespace unlinkd::ctl {

struct progress_counts {
  std::int64_t total = 0;
  std::int64_t done = 0;
  std::int64_t failed = 0;
  std::int64_t cancelled = 0;
  std::int64_t in_flight = 0;  // at a step: preflight, backup, pause, unlink, verify
  std::int64_t waiting = 0;    // pending
  std::int64_t attention = 0;  // needs_attention: waits for a person
  [[nodiscard]] std::int64_t finished() const { return done + failed + cancelled; }
};

// The counts in a batch answer ("accounts": {"total", "by_state"}).
progress_counts progress_of(const boost::json::value& batch);

// True when watching can stop: the batch is completed or cancelled.
bool batch_finished(const std::string& state);

class progress_meter {
 public:
  using clock = std::chrono::steady_clock;
  // Keeps polls from the last `window` for the rate.
  explicit progress_meter(std::chrono::seconds window = std::chrono::seconds(120));

  void add(clock::time_point at, const progress_counts& counts);
  // Accounts finished per minute over the window, once two polls apart exist.
  [[nodiscard]] std::optional<double> rate_per_minute() const;
  // Time left at that rate; none while the rate is unknown or zero.
  [[nodiscard]] std::optional<std::chrono::seconds> eta() const;

 private:
  struct sample {
    clock::time_point at;
    std::int64_t finished;
    std::int64_t remaining;
  };
  std::chrono::seconds window_;
  std::deque<sample> samples_;
};

// One line: a bar, done / failed / in flight / waiting, rate, ETA, state.
std::string progress_line(const progress_counts& c, std::optional<double> rate_per_minute,
                          std::optional<std::chrono::seconds> eta, const std::string& state);

}  // namespace unlinkd::ctl
