#pragma once
// The daemon's Prometheus metrics (PRODUCT.md §7, `GET /metrics`), pulled:
// every component keeps plain counts of its own, `collect` copies them into a
// metrics_snapshot when /metrics is asked, and `render` turns the snapshot
// into the text exposition format 0.0.4. The renderer is a pure function of
// the snapshot, so the format is tested without a daemon; docs/METRICS.md
// lists every metric.
//
// Threads: collect() runs on the daemon's io_context thread (the engine, the
// client and the gate live there); the store's counts and the intake's are
// safe from any thread. Labels never carry a token or a URL: endpoints are
// the client's own paths, app_ids are public identifiers.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace unlinkd::store {
class store;
}
namespace unlinkd::scheduler {
class engine;
class budget_gate;
}  // namespace unlinkd::scheduler
namespace unlinkd::adapters {
class http_api_client;
}

namespace unlinkd::daemon {

class manifest_intake;

// A histogram as its owner keeps it: counts per bucket (not cumulative).
struct histogram_values {
  std::vector<double> bounds;          // the buckets' upper bounds, ascending
  std::vector<std::uint64_t> buckets;  // bounds.size() + 1 counts; the last: above every bound
  double sum = 0;
  std::uint64_t count = 0;
};

struct app_budget_values {
  std::uint64_t calls = 0;         // calls the gate let through
  std::uint64_t waits = 0;         // calls that had to queue
  double wait_seconds = 0;         // their time in the queue, summed
  std::uint64_t waiting = 0;       // queued right now
  std::uint64_t cooldowns = 0;     // freezes after a rate-limited answer
  std::uint64_t rate_limited = 0;  // rate-limited answers reported to the gate
  double limit_qps = 0;
  double limit_qpm = 0;
  double limit_qpd = 0;
};

struct client_values {
  std::map<std::pair<std::string, std::string>, std::uint64_t> calls;  // (endpoint, code)
  std::uint64_t retries = 0;           // retryable failures sent again inside one call
  std::uint64_t rate_limited = 0;      // rate-limited answers sent back through the gate
  std::uint64_t unknown_outcomes = 0;  // writes whose reply was lost
  std::uint64_t dry_run_refusals = 0;
  std::uint64_t connections_opened = 0;
  std::uint64_t open_connections = 0;
};

struct manifest_values {
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t duplicate = 0;
};

// Numbers only; an absent part (no client yet, say) renders nothing.
struct metrics_snapshot {
  double start_time_seconds = 0;  // Unix time the daemon started
  std::map<std::pair<std::string, std::string>, std::int64_t> accounts;  // (state, step)
  bool has_engine = false;
  std::uint64_t in_flight = 0;
  std::uint64_t steps_run = 0;
  std::map<std::string, std::uint64_t> retries;            // by step
  std::map<std::string, histogram_values> step_durations;  // by step, seconds
  std::optional<client_values> client;                     // none: no client
  std::map<std::string, app_budget_values> apps;           // by app_id
  std::optional<manifest_values> manifests;                // none: no intake
};

// The text exposition format 0.0.4: `# HELP` and `# TYPE` per family,
// escaped label values, cumulative histogram buckets ending in +Inf.
std::string render(const metrics_snapshot& snapshot);

// What /metrics reads; any pointer may be null (that part is left out).
struct metrics_sources {
  const store::store* store = nullptr;
  const scheduler::engine* engine = nullptr;
  const adapters::http_api_client* client = nullptr;
  const scheduler::budget_gate* gate = nullptr;
  const manifest_intake* intake = nullptr;
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
};

// Copies the sources' counts. Accounts come summed over batches, one series
// per (state, step) pair, zeros included, so a state's series never vanishes.
metrics_snapshot collect(const metrics_sources& sources);

// collect, then render: what `GET /metrics` answers.
std::string render_metrics(const metrics_sources& sources);

}  // namespace unlinkd::daemon
