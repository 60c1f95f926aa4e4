#pragma once
// The scheduler (issue 7): drives every stored account through
// preflight -> backup -> pause -> unlink -> verify (PRODUCT.md §3) over the
// store and the platform interface, within the global and per-batch
// concurrency caps.
//
// Shape: one coroutine (run) claims pages of ready accounts from the store,
// batch by batch in round-robin order, as slots free up; each claimed account
// runs in its own coroutine until it waits (a retry, a verify poll), ends, or
// its batch stops. Every step's result is committed, fenced on the state it
// expects, before the next step starts, so a crash at any point resumes from
// the store: an account found mid-step runs that step again (each step reads
// remote state first), and an unlink recorded as sent but never answered is
// verified, never resent blindly. The decisions themselves are next_step.hpp's
// pure functions; this file only runs them.
//
// Everything runs on one io_context thread; the store's own threads do the
// blocking work. Errors: a store that cannot commit is an exception (the
// process stops and systemd restarts it on a durable state); API failures are
// values handled by next_step.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "adapters/platform.hpp"
#include "scheduler/batch_policy.hpp"
#include "scheduler/clock.hpp"
#include "scheduler/next_step.hpp"
#include "store/store.hpp"

namespace spdlog {
class logger;
}

namespace unlinkd::scheduler {

struct engine_options {
  std::uint32_t concurrency = 64;  // accounts in flight over all batches (config `concurrency`)
  std::size_t page_size = 256;     // most accounts claimed at once
  // How often an idle engine looks for accounts whose retry time has come.
  clock::duration idle_poll = std::chrono::seconds(1);
  // The daemon's retry policy (config `retry`), for batches that set none.
  std::uint32_t max_attempts = 8;
  std::chrono::milliseconds initial_backoff{2'000};
  std::chrono::milliseconds max_backoff{600'000};
  // The time one step may take (a backup of a large account is the longest).
  std::chrono::milliseconds step_timeout{3'600'000};
  // The circuit breaker (PRODUCT.md §3): of the first `breaker_sample`
  // finished accounts, more than `breaker_ratio` failed: the batch pauses.
  std::uint32_t breaker_sample = 50;
  double breaker_ratio = 0.2;
  std::uint64_t seed = 0;  // of the jitter; 0: random
  // Told when a batch ends (completed or cancelled): the daemon writes its report.
  std::function<void(std::int64_t batch_id)> on_batch_ended;
};

// The call context for a batch's accounts, or nothing when its credential
// profile is unknown (the batch's accounts then wait for a person).
using context_source =
    std::function<std::optional<adapters::call_context>(const store::batch_record&)>;

// The upper bounds, in seconds, of the step-duration histogram's buckets:
// from a quick read (5 ms) to a large account's backup (5 min; longer ones
// fall in the last, unbounded bucket).
inline constexpr std::array<double, 15> step_duration_bounds{
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

// How long steps took, for the daemon's metrics. Plain counts: the engine
// lives on one thread.
struct duration_histogram {
  // Per bucket, not cumulative: buckets[i] counts durations in
  // (bounds[i-1], bounds[i]]; the last one those above every bound.
  std::array<std::uint64_t, step_duration_bounds.size() + 1> buckets{};
  double sum_seconds = 0;
  std::uint64_t count = 0;
  void observe(clock::duration d);
};

inline constexpr std::size_t pipeline_step_count = std::size(store::all_pipeline_steps);

enum class control_status : std::uint8_t { done, not_found, conflict };
struct control_result {
  control_status status = control_status::done;
  std::string message;  // a sentence for the operator
};

class engine {
 public:
  engine(boost::asio::any_io_executor executor, store::store& store, adapters::platform& platform,
         context_source contexts, engine_options options, spdlog::logger& log);
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;
  ~engine();

  // Runs until stop(), then waits for the steps in flight to finish.
  boost::asio::awaitable<void> run();
  // Takes no new work; run() returns once the steps in flight are done.
  void stop();
  // Something may be ready now (a batch was ingested, a hold lifted).
  void poke();
  // The credentials were reloaded: every batch asks `contexts` again (steps
  // in flight finish with the context they started with).
  void reload_contexts();

  // Operator controls (PRODUCT.md §7), audited with the caller's uid.
  boost::asio::awaitable<control_result> pause(std::string batch, std::optional<std::uint32_t> uid);
  boost::asio::awaitable<control_result> resume(std::string batch,
                                                std::optional<std::uint32_t> uid);
  boost::asio::awaitable<control_result> cancel(std::string batch,
                                                std::optional<std::uint32_t> uid);
  boost::asio::awaitable<control_result> retry_failed(std::string batch,
                                                      std::optional<std::uint32_t> uid);

  struct counters {
    std::uint64_t in_flight = 0;
    std::uint64_t steps_run = 0;
    std::uint64_t commits = 0;
    std::uint64_t stale_commits = 0;
    std::uint64_t loop_turns = 0;  // the liveness check: the loop turns
    // Indexed by store::pipeline_step: steps that failed retryably and were
    // scheduled again (next_step's "retry"), and how long each step took.
    std::array<std::uint64_t, pipeline_step_count> retries{};
    std::array<duration_histogram, pipeline_step_count> step_durations{};
  };
  [[nodiscard]] const counters& stats() const { return stats_; }

 private:
  struct batch_slot;

  boost::asio::awaitable<void> refresh_batches();
  boost::asio::awaitable<std::size_t> claim_for(batch_slot& b, std::size_t limit);
  boost::asio::awaitable<void> finish_batches();
  boost::asio::awaitable<void> run_account(store::account_record a);
  // `resend_only`: set for a resend of an unlink (see account_job).
  boost::asio::awaitable<step_report> run_step(
      batch_slot& b, const store::account_record& a, store::pipeline_step step,
      std::optional<std::vector<std::string>> resend_only = std::nullopt);
  // Commits `t` and applies it to `a`; false when it was stale (the account
  // changed under us: a cancel, say).
  boost::asio::awaitable<bool> commit(store::account_record& a, store::transition t);
  boost::asio::awaitable<void> hold(batch_slot& b, const std::string& reason);
  boost::asio::awaitable<void> to_needs_attention(store::account_record a, std::string why);
  boost::asio::awaitable<void> cancel_accounts(batch_slot& b);
  boost::asio::awaitable<control_result> batch_change(const std::string& batch,
                                                      store::batch_state to,
                                                      std::optional<std::uint32_t> uid,
                                                      std::string what);
  void count_finished(batch_slot& b, store::account_state s) const;
  batch_slot* find(std::int64_t batch_id);
  batch_slot* find(const std::string& name);
  [[nodiscard]] bool runs(const batch_slot& b) const;
  double jitter();

  boost::asio::any_io_executor executor_;
  store::store& store_;
  adapters::platform& platform_;
  context_source contexts_;
  engine_options options_;
  spdlog::logger& log_;
  timer wake_;
  bool stopping_ = false;
  bool batches_dirty_ = true;
  std::map<std::int64_t, std::unique_ptr<batch_slot>> batches_;
  std::int64_t last_served_ = 0;         // round-robin cursor over batch ids
  std::set<std::string> held_profiles_;  // credential holds in force
  std::mt19937_64 random_;
  counters stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace unlinkd::scheduler
