#include "adapters/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace unlinkd::adapters {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool is_secret_parameter(std::string_view name) {
  static constexpr std::array<std::string_view, 7> names{
      "secret",    "app_secret",    "access_token", "access-token",
      "auth_code", "refresh_token", "token"};
  return std::any_of(names.begin(), names.end(),
                     [&](std::string_view n) { return iequals(n, name); });
}

std::string redact_url(std::string_view url) {
  const auto question = url.find('?');
  if (question == std::string_view::npos) {
    return std::string{url};
  }
  std::string out{url.substr(0, question + 1)};
  std::string_view rest = url.substr(question + 1);
  // A fragment is not sent, but a logged URL may carry one; keep it aside.
  std::string_view fragment;
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
    fragment = rest.substr(hash);
    rest = rest.substr(0, hash);
  }
  bool first = true;
  while (true) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (!first) {
      out += '&';
    }
    first = false;
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && is_secret_parameter(pair.substr(0, eq))) {
      out.append(pair.substr(0, eq + 1));
      out.append(redacted_mark);
    } else {
      out.append(pair);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    rest = rest.substr(amp + 1);
  }
  out.append(fragment);
  return out;
}

std::string redact_values(std::string_view text, const std::vector<std::string_view>& secrets) {
  std::string out{text};
  for (const auto s : secrets) {
    if (s.size() < 4) {
      continue;
    }
    for (auto at = out.find(s); at != std::string::npos;
         at = out.find(s, at + redacted_mark.size())) {
      out.replace(at, s.size(), redacted_mark);
    }
  }
  return out;
}

}  // namespace unlinkd::adapters
