#pragma once
// Delivers one webhook (docs/WEBHOOKS.md): a JSON POST to one URL, over
// http or https (TLS 1.2+, the peer verified against the system CA store,
// SNI and the host name checked), each attempt with a deadline, retried with
// exponential backoff and full jitter. 2xx is delivered; 4xx other than 408
// and 429 is given up at once (the receiver refuses it; resending changes
// nothing); 408, 429, 5xx, timeouts and connection errors are retried.
//
// The sender never fails a batch: every outcome is a value the notifier logs.
// Logs name the URL's host only: webhook URLs often carry a token in their
// path or query. The signing key is never logged.
//
// The schedule and the classification are pure functions (below), tested
// directly; the sender only runs them.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/result.hpp>

#include "config/credentials.hpp"

namespace boost::asio::ssl {
class context;
}
namespace spdlog {
class logger;
}

namespace unlinkd::daemon {

// --- pure parts

struct webhook_url {
  bool tls = true;
  std::string host;  // without brackets for IPv6 literals
  std::uint16_t port = 443;
  std::string target;  // path and query, "/" at least; never logged
};

// http:// or https:// URLs as the manifest parser accepts them (no user
// info); the fragment is dropped. The error is a sentence without the URL.
boost::system::result<webhook_url, std::string> parse_webhook_url(std::string_view url);

// The host of a URL for logs ("hooks.agency.example"), or "(invalid URL)".
std::string webhook_log_host(std::string_view url);

struct webhook_retry_options {
  std::uint32_t max_attempts = 6;
  std::chrono::milliseconds attempt_timeout{10'000};  // connect, TLS, send and answer
  // Before attempt n+1 the sender waits a uniformly random time in
  // [0, min(max_backoff, initial_backoff * 2^(n-1))]: 20 s, 40 s, 80 s, 160 s,
  // 300 s caps by default, so six attempts span ten minutes at most.
  std::chrono::milliseconds initial_backoff{20'000};
  std::chrono::milliseconds max_backoff{300'000};
};

// The wait after failed attempt `attempt` (1-based); `jitter` in [0, 1].
std::chrono::milliseconds webhook_retry_delay(std::uint32_t attempt,
                                              const webhook_retry_options& options, double jitter);

enum class attempt_verdict : std::uint8_t { delivered, retry, give_up };

// What an HTTP status means for the delivery.
attempt_verdict classify_webhook_status(unsigned status);

// The signing key: the file's bytes with one trailing newline removed.
// Refused (a sentence, never the content) when the file is missing, not a
// regular file, larger than 4 KiB, empty, or readable by group or others.
boost::system::result<config::secret, std::string> load_webhook_secret(const std::string& path);

// --- I/O

struct webhook_delivery {
  std::string url;
  std::string event;        // "batch.started", ... (X-Unlinkd-Event)
  std::string delivery_id;  // X-Unlinkd-Delivery
  std::string batch;        // for logs
  std::string body;         // the same bytes on every attempt
};

struct attempt_result {
  attempt_verdict verdict = attempt_verdict::retry;
  unsigned status = 0;  // the HTTP status; 0 when none came back
  std::string error;    // a sentence when no status came back
};

enum class delivery_outcome : std::uint8_t {
  delivered,
  gave_up,    // a 4xx that resending cannot fix, or an unusable URL
  exhausted,  // every attempt failed
  stopped,    // dropped or the daemon is stopping; nothing more is sent
};
std::string_view to_string(delivery_outcome o);

struct delivery_result {
  delivery_outcome outcome = delivery_outcome::delivered;
  std::uint32_t attempts = 0;
  unsigned status = 0;  // of the last attempt; 0 when none came back
  std::string message;  // why, for the log
};

// Lets the owner stop a delivery between attempts (a dropped delivery, a
// daemon stopping); an attempt under way ends by its own deadline.
class delivery_stop {
 public:
  void request() {
    requested_ = true;
    if (backoff_ != nullptr) {
      backoff_->cancel();
    }
  }
  [[nodiscard]] bool requested() const { return requested_; }

 private:
  friend class webhook_sender;
  bool requested_ = false;
  boost::asio::steady_timer* backoff_ = nullptr;  // set while waiting to retry
};

struct webhook_sender_options {
  webhook_retry_options retry;
  std::string extra_ca_file;  // PEM trusted besides the system store ("" = none)
  std::size_t max_response_header_bytes = std::size_t{16} * 1024;
  // The X-Unlinkd-Timestamp of an attempt; injected for tests.
  std::function<std::chrono::system_clock::time_point()> clock = [] {
    return std::chrono::system_clock::now();
  };
  std::uint64_t seed = 0;  // of the jitter; 0: random
};

class webhook_sender {
 public:
  // Throws std::runtime_error when the CA store cannot be loaded (a startup failure).
  webhook_sender(boost::asio::any_io_executor executor, webhook_sender_options options,
                 spdlog::logger& log);
  webhook_sender(const webhook_sender&) = delete;
  webhook_sender& operator=(const webhook_sender&) = delete;
  ~webhook_sender();

  // Signs every later attempt with `key`; nullopt: unsigned (no signature
  // headers). Attempts under way keep the key they started with.
  void set_secret(std::optional<config::secret> key);
  [[nodiscard]] bool signs() const { return secret_ != nullptr; }

  // Attempts until delivered, given up, out of attempts or stopped.
  boost::asio::awaitable<delivery_result> deliver(webhook_delivery d, delivery_stop& stop);

  // One attempt within options.retry.attempt_timeout.
  boost::asio::awaitable<attempt_result> attempt(const webhook_delivery& d);

 private:
  boost::asio::awaitable<attempt_result> exchange(const webhook_url& url, const webhook_delivery& d,
                                                  std::shared_ptr<const config::secret> key,
                                                  std::chrono::steady_clock::time_point deadline);

  boost::asio::any_io_executor executor_;
  webhook_sender_options options_;
  spdlog::logger& log_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::shared_ptr<const config::secret> secret_;
  std::mt19937_64 random_;
};

}  // namespace unlinkd::daemon
