#pragma once
// An api_client for the operations' tests that needs no socket: each request
// goes straight to the sandbox's own API logic (sandbox::api_service), the
// envelope is read and errors classified as the real client does. It also
// records every request, refuses mutating ones in a dry run, and can fail a
// chosen call, so a test sees exactly what an operation sent.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adapters/api_client.hpp"
#include "sandbox/api_service.hpp"

namespace unlinkd::test {

struct recorded_request {
  adapters::http_method method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  std::string body;      // JSON text of a POST body
  bool refused = false;  // dry run
};

class ops_sandbox_client final : public adapters::api_client {
 public:
  explicit ops_sandbox_client(sandbox::api_service& service) : service_(service) {}

  boost::asio::awaitable<adapters::api_result<adapters::api_reply>> call(
      const adapters::call_context& ctx, adapters::api_request request) override;

  // The sandbox's admin paths (/_sandbox/...), for tests to steer it.
  sandbox::api_response admin(sandbox::http_method method, const std::string& target,
                              const std::string& body = {});

  [[nodiscard]] const std::vector<recorded_request>& requests() const { return requests_; }
  [[nodiscard]] std::size_t count(const std::string& path) const;
  void clear() { requests_.clear(); }

  // The N-th call from now (1-based) fails with `error` before it is sent.
  void fail_call(std::uint32_t n, adapters::api_error error);

 private:
  sandbox::api_service& service_;
  std::vector<recorded_request> requests_;
  std::uint32_t fail_in_ = 0;
  adapters::api_error fail_with_;
};

// Percent-encodes a query value (RFC 3986 unreserved characters kept).
std::string percent_encode(const std::string& text);

}  // namespace unlinkd::test
