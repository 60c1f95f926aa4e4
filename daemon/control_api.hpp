#pragma once
// The control socket's requests (PRODUCT.md §7) as one function from
// (request, caller) to response: no sockets, so it is unit-tested (and can
// be fuzzed) directly; control_server only carries bytes. Status answers
// come from the store's in-memory counts and its reader thread, never from
// the scheduler's loop; changes go through the engine and are written to
// the event log with the caller's uid.
//
// Errors are {"error": "<stable_code>", "message": "<sentence>"} with 400,
// 403, 404, 405, 409, 422, 500 or 503.
//
// GET /v1/events follows the log by default: the answer carries a
// chunk_source the server calls until the client leaves, so the handler
// stays a function (tests call the source directly) and control_server owns
// the waiting, the stream cap and the end at shutdown.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "config/manifest_parser.hpp"
#include "daemon/caller.hpp"
#include "scheduler/engine.hpp"
#include "store/store.hpp"

namespace unlinkd::daemon {

struct control_request {
  std::string method;  // "GET", "POST"
  std::string target;  // path and query
  std::string body;
  std::string manifest_name;  // X-Manifest-Name, for error positions
};

// The rest of a streamed answer, one piece per call: text to send, "" when
// nothing is new yet (the server waits a moment and asks again), nothing
// when the stream is over (or its source failed).
using chunk_source = std::function<boost::asio::awaitable<std::optional<std::string>>()>;

struct control_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Set for a stream (GET /v1/events): `body` goes first, then what `next`
  // gives, chunked, until it gives nothing, the client leaves or the server
  // stops. The response owns it: keep the response alive while calling it.
  chunk_source next;
};

struct control_settings {
  access_groups groups;
  std::size_t max_manifest_bytes = std::size_t{16} << 20U;
  std::size_t max_accounts = 100'000;
  // The credentials file's profile names, when it could be read.
  std::function<std::optional<std::vector<std::string>>()> profiles;
  // GET /metrics: the Prometheus text exposition; unset, the route is 503.
  std::function<std::string()> metrics;
};

class control_api {
 public:
  control_api(store::store& store, scheduler::engine& engine, control_settings settings);

  boost::asio::awaitable<control_response> handle(control_request request, caller who);

 private:
  boost::asio::awaitable<control_response> batches();
  boost::asio::awaitable<control_response> batch(const std::string& name);
  boost::asio::awaitable<control_response> accounts(const std::string& name,
                                                    const std::string& query);
  boost::asio::awaitable<control_response> account(const std::string& name, const std::string& id);
  boost::asio::awaitable<control_response> report(const std::string& name,
                                                  const std::string& format);
  boost::asio::awaitable<control_response> events(const std::string& query);
  // One call of an event stream's chunk_source: the events after *last.
  boost::asio::awaitable<std::optional<std::string>> next_events(
      std::shared_ptr<std::int64_t> last);
  control_response metrics() const;
  boost::asio::awaitable<control_response> submit(const control_request& r, const caller& who,
                                                  bool dry_run);
  control_response validate(const control_request& r) const;
  // The body as a manifest, checked with the daemon's limits and profiles.
  [[nodiscard]] config::manifest_result parse(const control_request& r) const;
  static std::string manifest_name(const control_request& r);
  static control_response invalid_manifest(const control_request& r,
                                           const config::diagnostics& problems);
  boost::asio::awaitable<control_response> control(const std::string& name,
                                                   const std::string& action, const caller& who);
  boost::asio::awaitable<std::optional<store::batch_record>> find_batch(const std::string& name);

  store::store& store_;
  scheduler::engine& engine_;
  control_settings settings_;
};

// The JSON error body.
control_response error_response(unsigned status, const std::string& code,
                                const std::string& message);

}  // namespace unlinkd::daemon
