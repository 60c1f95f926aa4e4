#pragma once
// How a store is opened. Every field documents its unit and default.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>

namespace unlinkd::store {

// The store's only source of time (event timestamps, "ready now"): injected
// so tests decide what "now" is.
using clock_fn = std::function<std::chrono::system_clock::time_point()>;

struct store_options {
  // Wall clock by default.
  clock_fn clock = [] { return std::chrono::system_clock::now(); };
  // How long a connection waits for another process's lock (sqlite3 shell,
  // a backup tool) before a statement fails.
  std::chrono::milliseconds busy_timeout{5000};
  // Most queued writes committed by one transaction (one fsync). Bounds the
  // latency of the first write in a group when producers are many.
  std::size_t max_group = 4096;
  // Group commit, gathered: when the last group held more than one write
  // (several accounts are committing), the writer waits this long for more
  // to join the next group, so one commit (its WAL write and fsync) serves
  // more of them. A lone writer never waits. 0: never (the tests); the
  // daemon uses 1 ms, which cut its CPU per API call by about 6% flat out
  // (docs/BENCHMARKS.md) and adds at most that to a transition's latency.
  std::chrono::microseconds gather{0};
  // Events of batches finished (completed/cancelled) longer ago than this are
  // removed by prune_events(). Unset: kept forever.
  std::optional<std::chrono::hours> event_retention;
};

}  // namespace unlinkd::store
