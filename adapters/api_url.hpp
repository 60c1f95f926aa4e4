#pragma once
// Where a call goes: the base URL split into scheme, host and port, and the
// request target with its percent-encoded query. Pure, no I/O.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace unlinkd::adapters {

inline constexpr std::string_view api_prefix = "/open_api/v1.3";

struct endpoint_address {
  bool tls = true;
  std::string host;  // without brackets for IPv6 literals
  std::uint16_t port = 443;
  std::string path_prefix;  // a base URL's own path ("" or "/proxy"), without trailing slash
  // The pool's key: one pool of connections per scheme, host and port.
  [[nodiscard]] std::string key() const;
  friend bool operator==(const endpoint_address&, const endpoint_address&) = default;
};

// Why a base URL was refused, as a sentence.
struct url_error {
  std::string message;
};
[[noreturn]] inline void throw_exception_from_error(const url_error& e,
                                                    const boost::source_location& /*where*/) {
  throw std::invalid_argument(e.message);
}

// "https://business-api.tiktok.com", "http://127.0.0.1:8080". Plain HTTP is
// refused unless the host is loopback (127.0.0.0/8, ::1, localhost): a token
// must never cross a network in the clear. The error is a sentence.
boost::system::result<endpoint_address, url_error> parse_base_url(std::string_view base_url);

bool is_loopback_host(std::string_view host);

// RFC 3986 unreserved characters stay; every other byte becomes %XX.
std::string percent_encode(std::string_view value);

// path_prefix + "/open_api/v1.3" + path + "?k=v&..." (values percent-encoded).
std::string build_target(const endpoint_address& address, std::string_view path,
                         const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace unlinkd::adapters
