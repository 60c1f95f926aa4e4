#include "config/scalars.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace unlinkd::config {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

bool is_name(std::string_view text, bool (*first_ok)(char), bool (*rest_ok)(char)) {
  if (text.empty() || text.size() > 64 || !first_ok(text.front())) {
    return false;
  }
  return std::all_of(text.begin() + 1, text.end(), rest_ok);
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "[::1]") {
    return true;
  }
  if (!host.starts_with("127.")) {
    return false;
  }
  int parts = 0;
  std::size_t start = 0;
  while (start <= host.size()) {
    const std::size_t dot = std::min(host.find('.', start), host.size());
    const auto part = host.substr(start, dot - start);
    const auto value = parse_unsigned(part);
    if (!value || *value > 255 || part.size() > 3) {
      return false;
    }
    ++parts;
    start = dot + 1;
  }
  return parts == 4;
}

bool is_valid_port(std::string_view text) {
  const auto port = parse_unsigned(text);
  return port && *port >= 1 && *port <= 65535;
}

}  // namespace

bool is_valid_id(std::string_view text) {
  return all_digits(text) && text.size() <= 20 && text.front() != '0';
}

bool is_valid_batch_name(std::string_view text) {
  return is_name(text, is_lower_alnum,
                 [](char c) { return is_lower_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool is_valid_profile_name(std::string_view text) {
  return is_name(text, is_alnum,
                 [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  if (!all_digits(text) || (text.size() > 1 && text.front() == '0')) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;  // out of range
  }
  return value;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && is_digit(text[digits])) {
    ++digits;
  }
  const auto amount = parse_unsigned(text.substr(0, digits));
  if (!amount) {
    return std::nullopt;
  }
  const auto unit = text.substr(digits);
  std::uint64_t scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else {
    return std::nullopt;
  }
  constexpr auto max_ms = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (*amount > max_ms / scale) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(*amount * scale));
}

std::optional<std::chrono::year_month_day> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !all_digits(text.substr(0, 4)) ||
      !all_digits(text.substr(5, 2)) || !all_digits(text.substr(8, 2))) {
    return std::nullopt;
  }
  const auto number = [&](std::size_t pos, std::size_t n) {
    int v = 0;
    std::from_chars(text.data() + pos, text.data() + pos + n, v);
    return v;
  };
  const std::chrono::year_month_day day{std::chrono::year{number(0, 4)},
                                        std::chrono::month{static_cast<unsigned>(number(5, 2))},
                                        std::chrono::day{static_cast<unsigned>(number(8, 2))}};
  if (!day.ok()) {
    return std::nullopt;
  }
  return day;
}

std::string format_date(std::chrono::year_month_day day) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(day.year()),
                static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
  return buffer;
}

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && is_digit(text[digits])) {
    ++digits;
  }
  const auto amount = parse_unsigned(text.substr(0, digits));
  if (!amount) {
    return std::nullopt;
  }
  const auto unit = text.substr(digits);
  std::uint64_t scale = 0;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "KiB") {
    scale = 1ULL << 10U;
  } else if (unit == "MiB") {
    scale = 1ULL << 20U;
  } else if (unit == "GiB") {
    scale = 1ULL << 30U;
  } else {
    return std::nullopt;
  }
  if (*amount > std::numeric_limits<std::uint64_t>::max() / scale) {
    return std::nullopt;
  }
  return *amount * scale;
}

bool is_acceptable_url(std::string_view text) {
  bool https = false;
  if (text.starts_with("https://")) {
    https = true;
    text.remove_prefix(8);
  } else if (text.starts_with("http://")) {
    text.remove_prefix(7);
  } else {
    return false;
  }
  if (text.size() > 2048 || std::any_of(text.begin(), text.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F;
      })) {
    return false;
  }
  const auto authority = text.substr(0, text.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return false;  // user:password@ would put a secret where logs can see it
  }
  std::string_view host = authority;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    const auto rest = host.substr(close + 1);
    if (!rest.empty() && !(rest.starts_with(':') && is_valid_port(rest.substr(1)))) {
      return false;
    }
    host = host.substr(0, close + 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    if (!is_valid_port(host.substr(colon + 1))) {
      return false;
    }
    host = host.substr(0, colon);
  }
  if (host.empty() || host == "[]") {
    return false;
  }
  if (!host.starts_with('[') && !std::all_of(host.begin(), host.end(), [](char c) {
        return is_alnum(c) || c == '.' || c == '-';
      })) {
    return false;
  }
  return https || is_loopback_host(host);
}

bool is_loopback_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  return is_loopback_host(text.substr(0, colon)) && is_valid_port(text.substr(colon + 1));
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace unlinkd::config
