#pragma once
// One HTTP/1.1 request over a Unix socket (the daemon's control socket), with
// a deadline for the whole exchange. Connection: close; the body is read to
// the end (Content-Length or chunked).

#include <chrono>
#include <optional>
#include <string>

namespace unlinkd::reliability {

struct unix_reply {
  unsigned status = 0;
  std::string body;
};

// nullopt when the socket does not answer within `deadline` (not up, reset,
// malformed answer).
std::optional<unix_reply> unix_get(const std::string& socket_path, const std::string& target,
                                   std::chrono::milliseconds deadline = std::chrono::seconds(10));
// POST with an empty body (the control routes that change something).
std::optional<unix_reply> unix_post(const std::string& socket_path, const std::string& target,
                                    std::chrono::milliseconds deadline = std::chrono::seconds(10));

}  // namespace unlinkd::reliability
