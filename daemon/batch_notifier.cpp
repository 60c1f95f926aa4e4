#include "daemon/batch_notifier.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "config/file_reader.hpp"

namespace unlinkd::daemon {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr int state_file_version = 1;
constexpr std::size_t max_state_file_bytes = std::size_t{64} << 20U;

// The kinds the notifier acts on (every other event is an account's step).
bool is_batch_level(const std::string& kind) {
  return kind == "batch_started" || kind == "batch_paused" || kind == "credential_held" ||
         kind == "needs_attention" || kind == "resumed" || kind == "batch_running" ||
         kind == "credential_hold_lifted" || kind == "batch_completed" || kind == "batch_cancelled";
}

// Why an account waits for a person, from the engine's sentences
// (scheduler/engine.cpp run_account, scheduler/next_step.cpp).
attention_cause cause_of_account(const std::string& detail) {
  if (detail.starts_with("credential refused") || detail.starts_with("the credential of profile")) {
    return attention_cause::credential_hold;
  }
  if (detail.starts_with("the credentials file has no profile")) {
    return attention_cause::unknown_profile;
  }
  return attention_cause::accounts;
}

std::optional<attention_cause> cause_from_string(std::string_view s) {
  for (const auto c : {attention_cause::credential_hold, attention_cause::unknown_profile,
                       attention_cause::circuit_breaker, attention_cause::accounts}) {
    if (to_string(c) == s) {
      return c;
    }
  }
  return std::nullopt;
}

// Written whole to a temporary file, fsynced, renamed over the old one and
// the folder fsynced: a crash leaves the old state or the new, never half.
std::optional<std::string> write_file_durably(const fs::path& path, const std::string& bytes) {
  const fs::path temporary = path.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return "cannot create " + temporary.string() + ": " + std::strerror(errno);
  }
  std::size_t written = 0;
  while (written < bytes.size()) {
    const auto n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      return "cannot write " + temporary.string() + ": " + why;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return "cannot fsync " + temporary.string() + ": " + why;
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return "cannot rename " + temporary.string() + " into place: " + std::strerror(errno);
  }
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  return std::nullopt;
}

}  // namespace

// --- pure

notified_batch notified_batch_of(const store::batch_record& b) {
  return notified_batch{b.id, b.name, b.credentials, b.notify, b.dry_run, b.state, b.state_reason};
}

bool needs_fresh_batches(const store::event_record& e, const notified_batches& batches) {
  if (!is_batch_level(e.kind)) {
    return false;
  }
  if (e.kind == "credential_held" || e.kind == "credential_hold_lifted") {
    return true;  // it names a profile: which batches use it, and are they still running?
  }
  return e.batch_id && !batches.contains(*e.batch_id);
}

std::vector<planned_notification> plan_notifications(const store::event_record& e,
                                                     const notified_batches& batches,
                                                     told_causes& told) {
  std::vector<planned_notification> out;
  const notified_batch* batch = nullptr;
  if (e.batch_id) {
    const auto it = batches.find(*e.batch_id);
    batch = it == batches.end() ? nullptr : &it->second;
  }
  const auto tell = [&](const notified_batch& b, attention_cause cause, const std::string& reason,
                        std::string state) {
    if (!told[b.id].insert(cause).second || b.notify.empty()) {
      return;  // told already, or nobody to tell
    }
    out.push_back({b.id, webhook_event::needs_attention, cause, std::move(state), reason});
  };

  if (e.kind == "batch_started") {
    if (batch != nullptr && !batch->notify.empty()) {
      out.push_back({batch->id, webhook_event::started, std::nullopt, e.to_state, e.detail});
    }
  } else if (e.kind == "batch_paused") {
    // An operator's pause carries the operator's uid; the circuit breaker's none.
    if (batch != nullptr && !e.uid && e.detail.starts_with("circuit breaker")) {
      tell(*batch, attention_cause::circuit_breaker, e.detail, e.to_state);
    }
  } else if (e.kind == "credential_held") {
    // "PROFILE: REASON" (store/write_session.cpp); no batch of its own.
    const auto colon = e.detail.find(": ");
    const std::string profile = e.detail.substr(0, colon);
    const std::string reason = colon == std::string::npos ? e.detail : e.detail.substr(colon + 2);
    for (const auto& [id, b] : batches) {
      if (b.credentials == profile && !store::is_finished(b.state)) {
        tell(b, attention_cause::credential_hold, reason, std::string(to_string(b.state)));
      }
    }
  } else if (e.kind == "needs_attention") {
    if (batch != nullptr && !e.account_id.empty()) {
      tell(*batch, cause_of_account(e.detail), e.detail, std::string(to_string(batch->state)));
    }
  } else if (e.kind == "resumed" || e.kind == "batch_running") {
    if (e.batch_id) {
      told.erase(*e.batch_id);  // a person acted: the next cause is news again
    }
  } else if (e.kind == "credential_hold_lifted") {
    for (const auto& [id, b] : batches) {
      if (b.credentials == e.detail) {
        if (auto it = told.find(id); it != told.end()) {
          it->second.erase(attention_cause::credential_hold);
        }
      }
    }
  } else if (e.kind == "batch_completed" || e.kind == "batch_cancelled") {
    if (e.batch_id) {
      told.erase(*e.batch_id);
    }
    if (batch != nullptr && !batch->notify.empty()) {
      out.push_back({batch->id, webhook_event::ended, std::nullopt, e.to_state, e.detail});
    }
  }
  // Nothing left to remember for a batch told nothing.
  for (auto it = told.begin(); it != told.end();) {
    it = it->second.empty() ? told.erase(it) : std::next(it);
  }
  return out;
}

std::map<std::string, std::int64_t> counts_by_state(const store::count_map& counts) {
  std::map<std::string, std::int64_t> out;
  for (const auto s : store::all_account_states) {
    out[std::string(to_string(s))] = 0;
  }
  for (const auto& [key, n] : counts) {
    out[std::string(to_string(key.state))] += n;
  }
  return out;
}

std::string encode_notifier_state(const notifier_state& s) {
  json::array told;
  for (const auto& [batch_id, causes] : s.told) {
    json::array names;
    for (const auto c : causes) {
      names.emplace_back(to_string(c));
    }
    told.emplace_back(json::object{{"batch_id", batch_id}, {"causes", std::move(names)}});
  }
  json::array pending;
  for (const auto& d : s.pending) {
    pending.emplace_back(json::object{{"url", d.url},
                                      {"event", d.event},
                                      {"delivery_id", d.delivery_id},
                                      {"batch", d.batch},
                                      {"body", d.body}});
  }
  const json::object root{{"version", state_file_version},
                          {"cursor", s.cursor},
                          {"told", std::move(told)},
                          {"pending", std::move(pending)}};
  return json::serialize(root) + "\n";
}

boost::system::result<notifier_state, std::string> decode_notifier_state(std::string_view text) {
  boost::system::error_code ec;
  const json::value root = json::parse(text, ec);
  if (ec || !root.is_object()) {
    return std::string{"is not a JSON object"};
  }
  const auto& o = root.as_object();
  const auto* version = o.if_contains("version");
  if (version == nullptr || !version->is_int64() || version->as_int64() != state_file_version) {
    return std::string{"has no version or one this unlinkd does not know"};
  }
  notifier_state s;
  const auto* cursor = o.if_contains("cursor");
  if (cursor == nullptr || !cursor->is_int64() || cursor->as_int64() < 0) {
    return std::string{"has no valid cursor"};
  }
  s.cursor = cursor->as_int64();
  const auto* told = o.if_contains("told");
  if (told == nullptr || !told->is_array()) {
    return std::string{"has no list of told causes"};
  }
  for (const auto& entry : told->as_array()) {
    const auto* id = entry.is_object() ? entry.as_object().if_contains("batch_id") : nullptr;
    const auto* causes = entry.is_object() ? entry.as_object().if_contains("causes") : nullptr;
    if (id == nullptr || !id->is_int64() || causes == nullptr || !causes->is_array()) {
      return std::string{"has a malformed entry in its told causes"};
    }
    for (const auto& name : causes->as_array()) {
      const auto cause = name.is_string() ? cause_from_string(name.as_string()) : std::nullopt;
      if (!cause) {
        return std::string{"names an unknown cause"};
      }
      s.told[id->as_int64()].insert(*cause);
    }
  }
  const auto* pending = o.if_contains("pending");
  if (pending == nullptr || !pending->is_array()) {
    return std::string{"has no list of pending deliveries"};
  }
  for (const auto& entry : pending->as_array()) {
    if (!entry.is_object()) {
      return std::string{"has a malformed pending delivery"};
    }
    const auto& p = entry.as_object();
    webhook_delivery d;
    for (auto [key, field] : {std::pair{"url", &d.url}, std::pair{"event", &d.event},
                              std::pair{"delivery_id", &d.delivery_id},
                              std::pair{"batch", &d.batch}, std::pair{"body", &d.body}}) {
      const auto* v = p.if_contains(key);
      if (v == nullptr || !v->is_string()) {
        return std::string{"has a pending delivery without "} + key;
      }
      *field = std::string(v->as_string());
    }
    s.pending.push_back(std::move(d));
  }
  return s;
}

// --- the loop

struct batch_notifier::in_flight {
  explicit in_flight(webhook_delivery d) : delivery(std::move(d)) {}
  webhook_delivery delivery;
  delivery_stop stop;
};

batch_notifier::batch_notifier(asio::any_io_executor executor, store::store& store,
                               webhook_sender& sender, batch_notifier_options options,
                               spdlog::logger& log)
    : executor_(std::move(executor)),
      store_(store),
      sender_(sender),
      options_(std::move(options)),
      log_(log),
      wake_(executor_) {}

batch_notifier::~batch_notifier() {
  *alive_ = false;
  files_.join();
}

boost::system::result<void, std::string> batch_notifier::load() {
  std::error_code ec;
  const auto status = fs::symlink_status(options_.state_file, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return "webhooks: cannot look at " + options_.state_file.string() + ": " + ec.message();
  }
  if (!fs::exists(status)) {
    // First start: what is already in the log happened before notifications.
    // The log keeps milliseconds: an event of this very millisecond is news.
    history_before_ = std::chrono::floor<std::chrono::milliseconds>(store_.now());
    log_.info("webhooks: no {} yet; notifying about events from now on",
              options_.state_file.string());
    return {};
  }
  auto file = config::read_regular_file(options_.state_file.string(), max_state_file_bytes);
  if (!file.value) {
    return "webhooks: " + options_.state_file.string() + ": " + file.error;
  }
  auto state = decode_notifier_state(file.value->bytes);
  if (!state) {
    return "webhooks: " + options_.state_file.string() + " " + state.error() +
           "; move it aside to start over (events already in the log are then not notified)";
  }
  cursor_ = state->cursor;
  saved_cursor_ = cursor_;
  told_ = std::move(state->told);
  for (auto& d : state->pending) {
    enqueue(std::move(d));  // spawned now, run once the io_context runs
  }
  dirty_ = false;
  log_.info("webhooks: resuming after event {} with {} unfinished deliveries", cursor_,
            pending_.size());
  return {};
}

void batch_notifier::stop() {
  stopping_ = true;
  wake_.cancel();
  for (auto& f : pending_) {
    f->stop.request();
  }
}

asio::awaitable<void> batch_notifier::refresh_batches() {
  auto records = co_await store_.batches();
  if (!records) {
    log_.warn("webhooks: cannot list batches: {}", records.error().message);
    co_return;
  }
  batches_.clear();
  for (const auto& b : *records) {
    batches_[b.id] = notified_batch_of(b);
  }
}

asio::awaitable<void> batch_notifier::handle(const store::event_record& e) {
  if (needs_fresh_batches(e, batches_)) {
    co_await refresh_batches();
  }
  const auto told_before = told_;
  const auto plans = plan_notifications(e, batches_, told_);
  dirty_ = dirty_ || told_ != told_before;
  if (history_before_ && e.at < *history_before_) {
    co_return;  // history: learnt from, not sent
  }
  for (const auto& p : plans) {
    const notified_batch& b = batches_.at(p.batch_id);
    if (p.event == webhook_event::ended) {
      // The batch's final state for the next hold or resume to look at.
      batches_[p.batch_id].state =
          store::batch_state_from_string(p.state).value_or(batches_[p.batch_id].state);
    }
    webhook_notification n;
    n.event = p.event;
    n.event_seq = e.seq;
    n.at = e.at;
    n.batch = b.name;
    n.state = p.state;
    n.reason = p.reason;
    n.cause = p.cause;
    n.counts = counts_by_state(store_.counts(b.id));
    n.dry_run = b.dry_run;
    if (p.event == webhook_event::ended) {
      n.reports = webhook_reports{(options_.reports_dir / (b.name + ".json")).string(),
                                  (options_.reports_dir / (b.name + ".csv")).string()};
    }
    for (const auto& url : b.notify) {
      webhook_delivery d;
      d.url = url;
      d.event = std::string(to_string(p.event));
      d.delivery_id = delivery_id_for(b.name, e.seq, url);
      d.batch = b.name;
      d.body = webhook_body(n, d.delivery_id);
      enqueue(std::move(d));
    }
  }
}

void batch_notifier::enqueue(webhook_delivery d) {
  auto f = std::make_shared<in_flight>(std::move(d));
  pending_.push_back(f);
  dirty_ = true;
  while (pending_.size() > options_.max_pending) {
    auto oldest = std::move(pending_.front());
    pending_.pop_front();
    oldest->stop.request();
    const std::string host = webhook_log_host(oldest->delivery.url);
    log_.warn(
        "batch {}: webhook {} to {} dropped: more than {} deliveries are waiting (receivers "
        "are down or slow)",
        oldest->delivery.batch, oldest->delivery.event, host, options_.max_pending);
    if (options_.on_finished) {
      delivery_result r;
      r.outcome = delivery_outcome::stopped;
      r.message = "dropped: too many deliveries waiting";
      options_.on_finished(delivery_report{oldest->delivery.batch, oldest->delivery.event,
                                           oldest->delivery.delivery_id, host, r});
    }
  }
  ++active_;
  asio::co_spawn(executor_, deliver(std::move(f)),
                 [this, alive = alive_](const std::exception_ptr& e) {
                   if (!*alive) {
                     return;
                   }
                   --active_;
                   wake_.cancel();  // a stopping run() waits for the last one
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& x) {
                       log_.error("webhooks: a delivery failed unexpectedly: {}", x.what());
                     }
                   }
                 });
}

asio::awaitable<void> batch_notifier::deliver(std::shared_ptr<in_flight> f) {
  const auto alive = alive_;
  const delivery_result r = co_await sender_.deliver(f->delivery, f->stop);
  if (!*alive || r.outcome == delivery_outcome::stopped) {
    co_return;  // dropped (already reported) or stopping (kept for the next start)
  }
  const auto it = std::find(pending_.begin(), pending_.end(), f);
  if (it == pending_.end()) {
    co_return;  // dropped while its last attempt was under way: reported then
  }
  pending_.erase(it);
  dirty_ = true;
  wake_.cancel();  // save soon
  if (options_.on_finished) {
    options_.on_finished(delivery_report{f->delivery.batch, f->delivery.event,
                                         f->delivery.delivery_id, webhook_log_host(f->delivery.url),
                                         r});
  }
}

asio::awaitable<void> batch_notifier::save() {
  notifier_state s;
  s.cursor = cursor_;
  s.told = told_;
  for (const auto& f : pending_) {
    s.pending.push_back(f->delivery);
  }
  std::string bytes = encode_notifier_state(s);
  dirty_ = false;
  const auto cursor = cursor_;
  last_save_ = std::chrono::steady_clock::now();
  // The write and its fsyncs run on the files_ thread; only bytes cross.
  auto error = co_await asio::co_spawn(
      files_.get_executor(),
      [](fs::path path, std::string data) -> asio::awaitable<std::optional<std::string>> {
        co_return write_file_durably(path, data);
      }(options_.state_file, std::move(bytes)),
      asio::use_awaitable);
  if (error) {
    dirty_ = true;  // try again at the next turn
    log_.error("webhooks: cannot save the notifier's state: {}", *error);
    co_return;
  }
  saved_cursor_ = cursor;
}

asio::awaitable<void> batch_notifier::run() {
  running_ = true;
  while (!stopping_) {
    auto page = co_await store_.events_after(cursor_, options_.page_size);
    std::size_t read = 0;
    if (!page) {
      log_.warn("webhooks: cannot read the event log: {}", page.error().message);
      if (page.error().code == store::store_errc::closed) {
        break;
      }
    } else {
      read = page->size();
      for (const auto& e : *page) {
        if (is_batch_level(e.kind)) {  // most events are accounts' steps
          co_await handle(e);
        }
        cursor_ = e.seq;
      }
    }
    const bool cursor_due =
        cursor_ != saved_cursor_ &&
        std::chrono::steady_clock::now() - last_save_ >= options_.cursor_save_interval;
    if (dirty_ || cursor_due) {
      co_await save();
    }
    if (read < options_.page_size && !stopping_) {
      wake_.expires_after(options_.poll_interval);
      co_await wake_.async_wait(use_tuple);
    }
  }
  // Deliveries waiting to retry stop at once; an attempt under way ends by
  // its deadline. What is unfinished then stays in the state file.
  while (active_ > 0) {
    wake_.expires_after(options_.poll_interval);
    co_await wake_.async_wait(use_tuple);
  }
  if (dirty_ || cursor_ != saved_cursor_) {
    co_await save();
  }
  running_ = false;
}

// --- wiring

notifications::notifications(std::unique_ptr<webhook_sender> sender,
                             std::unique_ptr<batch_notifier> notifier, std::string secret_file,
                             spdlog::logger& log)
    : sender_(std::move(sender)),
      notifier_(std::move(notifier)),
      secret_file_(std::move(secret_file)),
      log_(log) {}

notifications::~notifications() {
  notifier_.reset();  // before the sender it uses
}

void notifications::reload_secret(const std::string& secret_file) {
  if (secret_file.empty()) {
    if (sender_->signs()) {
      log_.warn("webhooks: webhook_secret_file is no longer set; webhooks go out unsigned");
    }
    sender_->set_secret(std::nullopt);
    secret_file_.clear();
    return;
  }
  auto key = load_webhook_secret(secret_file);
  if (!key) {
    log_.error("reload: {}; webhooks keep the previous key", key.error());
    return;
  }
  sender_->set_secret(std::move(*key));
  secret_file_ = secret_file;
  log_.info("webhooks: signing key read from {}", secret_file);
}

void notifications::stop() { notifier_->stop(); }

boost::system::result<std::unique_ptr<notifications>, std::string> start_notifications(
    const asio::any_io_executor& executor, store::store& store, const config::daemon_config& config,
    spdlog::logger& log) {
  std::unique_ptr<webhook_sender> sender;
  try {
    sender = std::make_unique<webhook_sender>(executor, webhook_sender_options{}, log);
  } catch (const std::runtime_error& e) {
    return std::string{"webhooks: "} + e.what();
  }
  if (!config.webhook_secret_file.empty()) {
    auto key = load_webhook_secret(config.webhook_secret_file);
    if (!key) {
      return key.error();
    }
    sender->set_secret(std::move(*key));
    log.info("webhooks: signed with the key in {}", config.webhook_secret_file);
  }
  batch_notifier_options options;
  options.state_file = fs::path(config.state_dir) / "webhooks.json";
  options.reports_dir = fs::path(config.state_dir) / "reports";
  auto notifier = std::make_unique<batch_notifier>(executor, store, *sender, options, log);
  if (auto loaded = notifier->load(); !loaded) {
    return loaded.error();
  }
  asio::co_spawn(executor, notifier->run(), [&log](const std::exception_ptr& e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        log.error("webhooks: the notifier stopped: {}; batches go on, without notifications",
                  x.what());
      }
    }
  });
  return std::make_unique<notifications>(std::move(sender), std::move(notifier),
                                         config.webhook_secret_file, log);
}

}  // namespace unlinkd::daemon
