#pragma once
// One TikTok API call as the operations see it: a request in, the envelope's
// `data` or a classified error out. Everything about HTTP, TLS, connection
// pools, the rate gate, per-call retries, redaction and dry-run refusal lives
// behind this seam (http_api_client); the operations never see a socket.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include "adapters/api_error.hpp"
#include "config/credentials.hpp"

namespace unlinkd::adapters {

// Who is calling, for what, until when. Built by the scheduler per step.
struct call_context {
  std::string batch;
  const config::credential_profile* credential = nullptr;  // never null when calling
  std::string base_url;  // the profile's base_url, else the daemon's api_base_url
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool dry_run = false;  // the client refuses every mutating request
  // When set, every call of the operation adds to it, failed ones included
  // (an operation's outcome counts only its successes): the report's API
  // calls per account. Owned by the caller, alive until the operation ends.
  std::uint32_t* calls_sent = nullptr;
};

enum class http_method : std::uint8_t { get, post };

struct api_request {
  http_method method = http_method::get;
  std::string path;  // below /open_api/v1.3, with its trailing slash: "/bc/get/"
  // GET query parameters; arrays and objects already JSON-encoded as the API
  // expects (`advertiser_ids=["1","2"]`); the client percent-encodes them.
  std::vector<std::pair<std::string, std::string>> query;
  boost::json::object body;  // POST only, sent as application/json
  call_scope scope = call_scope::account_level;
  // The answer's data.list comes as JSON lines in api_reply::list_lines, not
  // as values in data (see answer_parser.hpp): for the backup's pages.
  bool list_as_lines = false;
  [[nodiscard]] bool mutating() const { return method == http_method::post; }
};

struct api_reply {
  boost::json::value data;  // the envelope's `data`
  std::string list_lines;   // with api_request::list_as_lines: data.list's items, a line each
  std::size_t list_items = 0;
  std::string request_id;
  std::uint32_t attempts = 1;  // calls sent, retries included
};

template <class T>
using api_result = boost::system::result<T, api_error>;

class api_client {
 public:
  virtual ~api_client() = default;
  virtual boost::asio::awaitable<api_result<api_reply>> call(const call_context& ctx,
                                                             api_request request) = 0;
};

}  // namespace unlinkd::adapters
