#pragma once
// An HTTP request and response as the sandbox's API logic sees them: no
// Beast, no sockets, so every endpoint is unit-testable as a function.

#include <chrono>
#include <optional>
#include <string>

namespace unlinkd::sandbox {

enum class http_method : unsigned char { get, post, put, other };

struct api_request {
  http_method method = http_method::get;
  std::string target;  // path and query, as sent
  std::optional<std::string> access_token;
  std::string body;
};

// What http_server does with a response besides sending it (fault injection).
enum class response_fault : unsigned char {
  none,
  close_without_reply,  // a connection reset: close the socket, send nothing
};

struct api_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  response_fault fault = response_fault::none;
  std::chrono::milliseconds delay{0};  // wait this long before answering (or closing)
};

}  // namespace unlinkd::sandbox
