#pragma once
// The real api_client: TikTok API calls over HTTPS (plain HTTP to loopback
// only, for the sandbox), one rate gate and one retry loop per call
// (PRODUCT.md §5). Expected failures (transport, HTTP, API codes, dry-run
// refusals) come back as api_error values; exceptions only for broken setup
// (an unreadable CA file at construction).
//
// All state is touched from coroutines on the executor's one thread: no
// strands, no locks. Beast and OpenSSL stay out of this header.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include <boost/asio/any_io_executor.hpp>

#include "adapters/api_client.hpp"
#include "adapters/rate_gate.hpp"
#include "adapters/retry_policy.hpp"

namespace spdlog {
class logger;
}
namespace boost::asio::ssl {
class context;
}

namespace unlinkd::adapters {

class connection_pool;
struct endpoint_address;

struct client_options {
  // Per-call retries of retryable failures (backoff with full jitter).
  retry_policy retry;
  // Rate-limited answers go back through the gate without spending tries;
  // this bounds how often one call may be sent back (the deadline bounds it too).
  std::uint32_t max_rate_limited_rounds = 64;
  // Each connect, TLS handshake, write and read; the call's deadline caps it.
  std::chrono::milliseconds io_timeout{30'000};
  // Bytes of one response body; a larger one fails the call.
  std::size_t max_response_bytes = std::size_t{32} * 1024 * 1024;
  // Open connections per host (scheme, host, port), idle or busy.
  std::size_t max_connections_per_host = 16;
  // An idle connection older than this is closed instead of reused (below
  // the servers' keep-alive timeouts, so a reused one is rarely stale).
  std::chrono::milliseconds idle_timeout{20'000};
  // Extra PEM CA file trusted besides the system store (tests, proxies).
  std::string extra_ca_file;
  // Uniform in [0, 1): the jitter source; empty means a seeded std::mt19937_64.
  std::function<double()> random;
};

// What the client did, for tests, the benchmark and the daemon's metrics.
struct client_counters {
  std::uint64_t calls = 0;               // call() invocations
  std::uint64_t requests_sent = 0;       // HTTP requests written
  std::uint64_t retries = 0;             // retryable failures sent again
  std::uint64_t rate_limited = 0;        // rate-limited answers sent back through the gate
  std::uint64_t unknown_outcomes = 0;    // mutating calls whose reply was lost
  std::uint64_t dry_run_refusals = 0;    // mutating calls refused in dry-run mode
  std::uint64_t connections_opened = 0;  // TCP (and TLS) connections made
  std::uint64_t connections_reused = 0;  // requests sent on a kept-alive connection
};

// One row of the client's tally of requests sent, by endpoint and answer.
struct api_call_key {
  std::string endpoint;  // the path below /open_api/v1.3: "/bc/advertiser/unlink/"
  // The API's code ("0": success) when an envelope came back, else the HTTP
  // status ("503"), else "transport" (no answer: connect, write or read failed).
  std::string code;
  friend bool operator<(const api_call_key& a, const api_call_key& b) {
    return std::tie(a.endpoint, a.code) < std::tie(b.endpoint, b.code);
  }
  friend bool operator==(const api_call_key&, const api_call_key&) = default;
};
using api_call_counts = std::map<api_call_key, std::uint64_t>;

// The label `code` of api_call_key for one attempt's outcome.
std::string api_call_code(bool ok, const api_error& error);

class http_api_client final : public api_client {
 public:
  http_api_client(boost::asio::any_io_executor ex, rate_gate& gate, spdlog::logger& log,
                  client_options options = {});
  http_api_client(const http_api_client&) = delete;
  http_api_client& operator=(const http_api_client&) = delete;
  ~http_api_client() override;

  boost::asio::awaitable<api_result<api_reply>> call(const call_context& ctx,
                                                     api_request request) override;

  [[nodiscard]] const client_counters& counters() const { return counters_; }
  // Every attempt that went for the API (retries included, dry-run refusals
  // not), by endpoint and answer. Bounded: endpoints are the client's own paths.
  [[nodiscard]] const api_call_counts& calls_by_outcome() const { return calls_by_outcome_; }
  // Connections currently open (idle and busy) across all hosts.
  [[nodiscard]] std::size_t open_connections() const;

 private:
  struct attempt_outcome;
  // One send on one connection, classified; the retry loop is call()'s.
  boost::asio::awaitable<attempt_outcome> attempt(const call_context& ctx,
                                                  const api_request& request,
                                                  const endpoint_address& address,
                                                  const std::string& target);

  boost::asio::any_io_executor ex_;
  rate_gate& gate_;
  spdlog::logger& log_;
  client_options options_;
  std::function<double()> random_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::unique_ptr<connection_pool> pool_;
  client_counters counters_;
  api_call_counts calls_by_outcome_;
};

}  // namespace unlinkd::adapters
