#pragma once
// unlinkd's durable state: one SQLite file (PRODUCT.md §7), behind the narrow
// interface the scheduler and the control socket use (ingest, claim a page of
// ready accounts, commit fenced transitions, read counts and events), so a
// later version can put PostgreSQL behind the same calls.
//
// Threads: a writer thread owns the write connection and commits queued
// writes in groups (one fsync per group); a reader thread owns the read
// connection. The awaitable calls only queue work and suspend: the caller's
// io_context thread never waits on fsync or on a query. Results come back
// on the awaiting coroutine's executor.
//
// Error policy: expected failures (a file that cannot be opened, a schema
// newer than this binary, a disk error during a commit) are store_error
// values with a sentence an operator can act on; refusals (a stale
// transition, a duplicate manifest) are outcomes, not errors. Exceptions are
// left for broken invariants.
//
// Lifetime: destroy the store before the io_context its callers run on. The
// destructor finishes every queued write (durably) before it returns.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "store/account_record.hpp"
#include "store/account_state.hpp"
#include "store/batch_record.hpp"
#include "store/count_table.hpp"
#include "store/event_record.hpp"
#include "store/ingest.hpp"
#include "store/store_error.hpp"
#include "store/store_options.hpp"
#include "store/transition.hpp"

namespace spdlog {
class logger;
}

namespace unlinkd::store {

class group_writer;
class reader_thread;

template <class T>
using awaitable = boost::asio::awaitable<T>;

class store {
 public:
  // Opens (creating if needed) the database at `path`, upgrades an older
  // schema, refuses a newer one, loads the counts and starts both threads.
  static store_result<std::unique_ptr<store>> open(const std::string& path, store_options options,
                                                   spdlog::logger& log);

  store(const store&) = delete;
  store& operator=(const store&) = delete;
  store(store&&) = delete;
  store& operator=(store&&) = delete;
  ~store();

  // --- writes (writer thread; each resolves once its group commit is durable)

  awaitable<store_result<ingest_outcome>> ingest(ingest_request request);
  // Blocks the calling thread: for tests, benchmarks and tools, never for a
  // coroutine.
  store_result<ingest_outcome> ingest_blocking(ingest_request request);

  awaitable<store_result<commit_outcome>> commit(transition t);
  awaitable<store_result<commit_outcome>> commit(batch_transition t);
  awaitable<store_result<void>> hold_credential(credential_hold hold);
  // false when the profile was not held.
  awaitable<store_result<bool>> lift_credential_hold(std::string profile,
                                                     std::optional<std::uint32_t> uid);
  // The appended event's sequence number.
  awaitable<store_result<std::int64_t>> append(audit_event event);
  awaitable<store_result<void>> record_reads(read_tally tally);
  // Removes the events and read tallies of batches finished longer ago than
  // store_options::event_retention; 0 when no retention is set.
  awaitable<store_result<std::int64_t>> prune_events();

  // --- claims (writer thread, after the commits queued before them)

  // Up to `limit` accounts that are runnable, due (next attempt <= now), of a
  // queued or running batch, and not handed out already; oldest due first.
  // An account stays handed out until a transition for it (with
  // release_claim) commits or release() is called. With `batch_id`, of that
  // batch only (the scheduler serves batches in turn).
  awaitable<store_result<std::vector<account_record>>> claim_ready(
      std::size_t limit, time_point now, std::optional<std::int64_t> batch_id = std::nullopt);
  awaitable<store_result<void>> release(std::int64_t batch_id, std::string account_id);

  // --- counts (memory; any thread; no query)

  [[nodiscard]] count_map counts() const;
  [[nodiscard]] count_map counts(std::int64_t batch_id) const;

  // --- reads (reader thread)

  // Events with seq > `after`, oldest first (GET /v1/events?since=SEQ).
  awaitable<store_result<std::vector<event_record>>> events_after(std::int64_t after,
                                                                  std::size_t limit);
  awaitable<store_result<std::vector<event_record>>> account_events(std::int64_t batch_id,
                                                                    std::string account_id);
  awaitable<store_result<std::optional<account_record>>> find_account(std::int64_t batch_id,
                                                                      std::string account_id);
  // One batch's accounts by ID, optionally of one state, after `after`.
  awaitable<store_result<std::vector<account_record>>> accounts(std::int64_t batch_id,
                                                                std::optional<account_state> state,
                                                                std::string after,
                                                                std::size_t limit);
  awaitable<store_result<std::vector<batch_record>>> batches();
  awaitable<store_result<std::vector<credential_hold>>> credential_holds();

  [[nodiscard]] time_point now() const { return options_.clock(); }
  // Write groups committed since open (each one transaction, one fsync).
  [[nodiscard]] std::size_t groups_committed() const;
  // Awaitable calls queued or running on a store thread whose result is not
  // yet posted back. Virtual-time tests hold the clock while it is non-zero.
  [[nodiscard]] std::size_t jobs_in_flight() const { return in_flight_.load(); }

 private:
  store(store_options options, spdlog::logger& log);

  store_options options_;
  spdlog::logger* log_;
  count_table counts_;
  std::atomic<std::size_t> in_flight_{0};
  std::unique_ptr<group_writer> writer_;
  std::unique_ptr<reader_thread> reader_;
};

// `PRAGMA integrity_check` of the file at `path` (unlinkd --check-db): "ok"
// when the file is sound, else SQLite's list of problems, one per line.
store_result<std::string> check_integrity(const std::string& path);

}  // namespace unlinkd::store
