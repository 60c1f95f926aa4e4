#pragma once
// Webhook notifications (PRODUCT.md §7, docs/WEBHOOKS.md): follows the
// store's append-only event log and turns batch-level events into
// batch.started, batch.needs_attention and batch.ended, delivered by
// webhook_sender to every URL of the batch's `notify`. Decoupled from the
// scheduler: it only reads the log, so a slow or dead receiver can never
// block or fail a batch.
//
// Durability: a small state file (default <state_dir>/webhooks.json, mode
// 0600, written whole to a temporary file, fsynced and renamed, on a thread
// of its own) holds the cursor (the last event handled), which causes of
// needs_attention each batch was already told about, and the deliveries not
// finished yet. A restart resumes from the cursor and sends the unfinished
// deliveries again, with the same delivery ID and a fresh set of attempts:
// delivery is at least once, never lost, and a receiver de-duplicates by
// X-Unlinkd-Delivery. Without a state file (first start) the events already
// in the log are history: they are read to learn which causes were told,
// but nothing is sent for events older than the notifier's start.
//
// The mapping from events to notifications is the pure function
// plan_notifications(); the loop here only reads, sends and saves.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/system/result.hpp>

#include "config/daemon_config.hpp"
#include "daemon/webhook_payload.hpp"
#include "daemon/webhook_sender.hpp"
#include "store/store.hpp"

namespace spdlog {
class logger;
}

namespace unlinkd::daemon {

// --- pure: which events become which notifications

// What the notifier knows of a batch (from store::batch_record).
struct notified_batch {
  std::int64_t id = 0;
  std::string name;
  std::string credentials;
  std::vector<std::string> notify;
  bool dry_run = false;
  store::batch_state state = store::batch_state::queued;
  std::string state_reason;
};
using notified_batches = std::map<std::int64_t, notified_batch>;
notified_batch notified_batch_of(const store::batch_record& b);

// The causes each batch was told about since it last resumed: a cause is
// told once, not once per account (500 accounts held by one credential make
// one notification). Resuming the batch or lifting the hold clears them.
using told_causes = std::map<std::int64_t, std::set<attention_cause>>;

struct planned_notification {
  std::int64_t batch_id = 0;
  webhook_event event = webhook_event::started;
  std::optional<attention_cause> cause;
  std::string state;  // the batch's state it reports
  std::string reason;
};

// The notifications `e` calls for, updating `told`. Batches whose `notify`
// is empty get none (their causes are still remembered). The event kinds
// are the scheduler's and the store's (scheduler/engine.cpp,
// store/write_session.cpp): batch_started, batch_paused (the circuit
// breaker's, without uid), credential_held, needs_attention (an account),
// batch_completed, batch_cancelled; resumed, batch_running and
// credential_hold_lifted clear causes.
std::vector<planned_notification> plan_notifications(const store::event_record& e,
                                                     const notified_batches& batches,
                                                     told_causes& told);

// Whether plan_notifications needs a fresh view of the batches for `e`: a
// batch it does not know, a hold that names a profile, or an end (its
// final reason).
bool needs_fresh_batches(const store::event_record& e, const notified_batches& batches);

// Accounts by state name, every state present (zeros too).
std::map<std::string, std::int64_t> counts_by_state(const store::count_map& counts);

// --- the state file

struct notifier_state {
  std::int64_t cursor = 0;
  told_causes told;
  std::vector<webhook_delivery> pending;
};

std::string encode_notifier_state(const notifier_state& s);
// The error is a sentence.
boost::system::result<notifier_state, std::string> decode_notifier_state(std::string_view text);

// --- the loop

struct delivery_report {
  std::string batch;
  std::string event;
  std::string delivery_id;
  std::string host;
  delivery_result result;
};

struct batch_notifier_options {
  std::filesystem::path state_file;   // required; <state_dir>/webhooks.json in the daemon
  std::filesystem::path reports_dir;  // where batch.ended says the reports are
  std::chrono::milliseconds poll_interval{1'000};  // how often an idle log is read again
  std::size_t page_size = 500;                     // events read at once
  // Deliveries queued or waiting to retry. Over it, the oldest is dropped
  // (with a warning): a flood of batches must not grow memory without end.
  std::size_t max_pending = 1'000;
  // A save that only moves the cursor waits this long for company; new
  // or finished deliveries are saved at once.
  std::chrono::milliseconds cursor_save_interval{5'000};
  // Told when a delivery ends (delivered, given up, exhausted, dropped).
  std::function<void(const delivery_report&)> on_finished;
};

class batch_notifier {
 public:
  batch_notifier(boost::asio::any_io_executor executor, store::store& store, webhook_sender& sender,
                 batch_notifier_options options, spdlog::logger& log);
  batch_notifier(const batch_notifier&) = delete;
  batch_notifier& operator=(const batch_notifier&) = delete;
  ~batch_notifier();

  // Reads the state file (a missing one is a first start). The error is a
  // sentence: an unreadable or corrupt file stops the daemon rather than
  // repeat or lose notifications silently.
  boost::system::result<void, std::string> load();

  // Follows the log until stop(), then waits for the deliveries under way
  // (an attempt ends by its deadline) and saves the state.
  boost::asio::awaitable<void> run();
  void stop();

  [[nodiscard]] std::int64_t cursor() const { return cursor_; }
  [[nodiscard]] std::size_t pending() const { return pending_.size(); }
  [[nodiscard]] bool running() const { return running_; }

 private:
  struct in_flight;
  boost::asio::awaitable<void> handle(const store::event_record& e);
  void enqueue(webhook_delivery d);
  boost::asio::awaitable<void> deliver(std::shared_ptr<in_flight> f);
  boost::asio::awaitable<void> save();
  boost::asio::awaitable<void> refresh_batches();

  boost::asio::any_io_executor executor_;
  store::store& store_;
  webhook_sender& sender_;
  batch_notifier_options options_;
  spdlog::logger& log_;
  boost::asio::steady_timer wake_;
  boost::asio::thread_pool files_{1};  // fsync off the io_context thread
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  std::int64_t cursor_ = 0;
  std::int64_t saved_cursor_ = -1;
  std::optional<store::time_point> history_before_;  // first start: older events send nothing
  told_causes told_;
  notified_batches batches_;
  std::list<std::shared_ptr<in_flight>> pending_;  // oldest first
  std::size_t active_ = 0;                         // delivery coroutines not yet ended
  bool dirty_ = false;                             // deliveries changed since the last save
  std::chrono::steady_clock::time_point last_save_{};
  bool stopping_ = false;
  bool running_ = false;
};

// --- the daemon's wiring

// Everything the daemon holds for notifications.
class notifications {
 public:
  notifications(std::unique_ptr<webhook_sender> sender, std::unique_ptr<batch_notifier> notifier,
                std::string secret_file, spdlog::logger& log);
  notifications(const notifications&) = delete;
  notifications& operator=(const notifications&) = delete;
  ~notifications();

  // SIGHUP: reads webhook_secret_file again (a bad file keeps the old key
  // and says why; an empty setting stops signing).
  void reload_secret(const std::string& secret_file);
  // SIGTERM: stops following the log; unfinished deliveries stay in the
  // state file for the next start.
  void stop();
  [[nodiscard]] batch_notifier& notifier() { return *notifier_; }

 private:
  std::unique_ptr<webhook_sender> sender_;
  std::unique_ptr<batch_notifier> notifier_;
  std::string secret_file_;
  spdlog::logger& log_;
};

// Reads the secret (when configured) and the state file under state_dir and
// starts the notifier on `executor` (co_spawn; a failure of the loop itself
// is logged, never stops a batch). The error is a sentence: the daemon
// should refuse to start rather than send unsigned webhooks or repeat them.
// Destroy the result before the store.
boost::system::result<std::unique_ptr<notifications>, std::string> start_notifications(
    const boost::asio::any_io_executor& executor, store::store& store,
    const config::daemon_config& config, spdlog::logger& log);

}  // namespace unlinkd::daemon
