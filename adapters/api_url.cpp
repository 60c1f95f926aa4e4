#include "adapters/api_url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace unlinkd::adapters {

namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

std::string endpoint_address::key() const {
  return (tls ? "https://" : "http://") + host + ":" + std::to_string(port);
}

bool is_loopback_host(std::string_view host) {
  const std::string h = lower(host);
  if (h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1") {
    return true;
  }
  // 127.0.0.0/8 as a dotted quad of four decimal parts.
  if (!h.starts_with("127.")) {
    return false;
  }
  int parts = 0;
  std::string_view rest = h;
  while (true) {
    const auto dot = rest.find('.');
    const auto part = rest.substr(0, dot);
    unsigned value = 0;
    if (!all_digits(part) || part.size() > 3 ||
        std::from_chars(part.data(), part.data() + part.size(), value).ec != std::errc{} ||
        value > 255) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) {
      break;
    }
    rest = rest.substr(dot + 1);
  }
  return parts == 4;
}

boost::system::result<endpoint_address, url_error> parse_base_url(std::string_view base_url) {
  endpoint_address a;
  std::string_view rest = base_url;
  if (rest.starts_with("https://")) {
    a.tls = true;
    a.port = 443;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    a.tls = false;
    a.port = 80;
    rest.remove_prefix(7);
  } else {
    return url_error{"the API base URL must start with https:// (or http:// to a loopback host)"};
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return url_error{"the API base URL must not carry user information"};
  }
  if (path.find_first_of("?#") != std::string_view::npos) {
    return url_error{"the API base URL must not carry a query or fragment"};
  }
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return url_error{"the API base URL has an unterminated IPv6 address"};
    }
    a.host = std::string{authority.substr(1, close - 1)};
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) {
        return url_error{"the API base URL has text after its IPv6 address"};
      }
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    a.host = std::string{authority.substr(0, colon)};
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
    }
  }
  if (a.host.empty()) {
    return url_error{"the API base URL has no host"};
  }
  if (!port.empty() || authority.ends_with(':')) {
    unsigned value = 0;
    if (!all_digits(port) || port.size() > 5 ||
        std::from_chars(port.data(), port.data() + port.size(), value).ec != std::errc{} ||
        value == 0 || value > 65535) {
      return url_error{"the API base URL has an invalid port"};
    }
    a.port = static_cast<std::uint16_t>(value);
  }
  while (path.ends_with('/')) {
    path.remove_suffix(1);
  }
  a.path_prefix = std::string{path};
  if (!a.tls && !is_loopback_host(a.host)) {
    return url_error{"plain http:// is allowed only to a loopback host; use https:// for " +
                     a.host};
  }
  return a;
}

std::string percent_encode(std::string_view value) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4U];
      out += hex[c & 0x0FU];
    }
  }
  return out;
}

std::string build_target(const endpoint_address& address, std::string_view path,
                         const std::vector<std::pair<std::string, std::string>>& query) {
  std::string target = address.path_prefix;
  target += api_prefix;
  target += path;
  char separator = '?';
  for (const auto& [name, value] : query) {
    target += separator;
    target += percent_encode(name);
    target += '=';
    target += percent_encode(value);
    separator = '&';
  }
  return target;
}

}  // namespace unlinkd::adapters
