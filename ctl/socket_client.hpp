#pragma once
// A small blocking HTTP/1.1 client for unlinkd's control socket (a Unix
// stream socket): one request per connection, a deadline over the whole
// exchange and a cap on the response size. unlinkctl makes a handful of
// requests per run, so a fresh connection each time keeps it simple and
// leaves nothing half-open between `watch` polls.
//
// Error policy: every expected failure (no daemon, a timeout, a garbled or
// oversized answer) is a value; nothing throws to the caller. Beast stays in
// the .cpp file.
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace unlinkd::ctl {

struct http_answer {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

struct socket_failure {
  enum class kind {
    unreachable,  // connecting failed: no daemon at this path (exit 5)
    refused,      // connecting was not permitted by the socket's mode (exit 4)
    failed,       // connected, but the exchange failed (exit 1)
  };
  kind what = kind::failed;
  std::string message;
};

// Lets boost::system::result<T, socket_failure>::value() throw a readable
// exception should anyone call it on an error.
[[noreturn]] void throw_exception_from_error(const socket_failure& f,
                                             const boost::source_location& where);

using socket_result = boost::system::result<http_answer, socket_failure>;

struct socket_request {
  std::string method = "GET";
  std::string target;  // path and query, e.g. "/v1/batches"
  std::string body;
  std::string content_type;   // sent when not empty
  std::string manifest_name;  // X-Manifest-Name, sent when not empty
};

class socket_client {
 public:
  explicit socket_client(std::string path,
                         std::chrono::milliseconds deadline = std::chrono::seconds(30),
                         std::size_t max_response_bytes = std::size_t{64} << 20U);

  [[nodiscard]] socket_result send(const socket_request& request) const;
  [[nodiscard]] socket_result get(const std::string& target) const;
  // A streamed answer (GET /v1/events): connecting, sending and the answer's
  // header within the deadline, then a 2xx body handed to `on_data` piece by
  // piece as it arrives, with no deadline, until the daemon ends it (the
  // result then has an empty body) or the connection breaks (a `failed`
  // failure). Other answers are read whole, as send() does.
  [[nodiscard]] socket_result stream(const socket_request& request,
                                     const std::function<void(std::string_view)>& on_data) const;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::chrono::milliseconds deadline_;
  std::size_t max_response_bytes_;
};

}  // namespace unlinkd::ctl
