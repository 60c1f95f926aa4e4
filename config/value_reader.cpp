#include "config/value_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "config/scalars.hpp"

namespace unlinkd::config {

std::string join_path(std::string_view path, std::string_view key) {
  if (path.empty()) {
    return std::string(key);
  }
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view path, std::size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

std::string quote(std::string_view text) {
  constexpr std::size_t max_shown = 40;
  // Cut only before a character starts: the last one shown keeps all its
  // bytes, so the message stays UTF-8.
  std::size_t characters = 0;
  std::size_t cut = 0;
  for (; cut < text.size(); ++cut) {
    if ((static_cast<unsigned char>(text[cut]) & 0xC0U) != 0x80U && characters++ == max_shown) {
      break;
    }
  }
  // Appended rather than `"'" + ...`: g++ 12 at -O3 reports a false
  // -Wrestrict inside operator+ (GCC bug 105329).
  std::string quoted(1, '\'');
  quoted += escape_controls(text.substr(0, cut));
  quoted += cut < text.size() ? "...'" : "'";
  return quoted;
}

void value_reader::error(const yaml_node& at, std::string_view path, std::string_view message) {
  std::string text(path);
  text += ": ";
  text += message;
  diags_.error(at.mark, std::move(text));
}

bool value_reader::expect_mapping(const yaml_node& n, std::string_view path) {
  if (n.is_mapping()) {
    return true;
  }
  error(n, path, std::string("must be a mapping of keys to values, not ") + describe(n));
  return false;
}

bool value_reader::expect_sequence(const yaml_node& n, std::string_view path) {
  if (n.is_sequence()) {
    return true;
  }
  error(n, path, std::string("must be a list (lines starting with '- '), not ") + describe(n));
  return false;
}

bool value_reader::expect_scalar(const yaml_node& n, std::string_view path, std::string_view what) {
  if (n.is_scalar()) {
    return true;
  }
  if (n.is_null()) {
    error(n, path, std::string("has no value; write ") + std::string(what) + " or remove the key");
  } else {
    error(n, path, std::string("must be ") + std::string(what) + ", not " + describe(n));
  }
  return false;
}

std::optional<std::string> value_reader::id(const yaml_node& n, std::string_view path) {
  if (!expect_scalar(n, path, "an ID such as \"7123456789012345678\"")) {
    return std::nullopt;
  }
  if (!is_valid_id(n.text)) {
    // The first rule broken, in the order people fix them: "0x1F" is not
    // digits (the leading 0 is not its problem).
    const bool digits =
        std::all_of(n.text.begin(), n.text.end(), [](char c) { return c >= '0' && c <= '9'; });
    std::string why;
    if (n.text.empty()) {
      why = "is empty";
    } else if (!digits) {
      why = "is not made of digits only";
    } else if (n.text.size() > 20) {
      why = "has more than 20 digits";
    } else {
      why = "starts with 0";
    }
    error(n, path,
          shown(n.text) + " is not an ID: it " + why +
              "; IDs are 1 to 20 digits with no sign, exponent or leading zero, best written in "
              "quotes, e.g. \"7123456789012345678\"");
    return std::nullopt;
  }
  return n.text;
}

std::optional<bool> value_reader::boolean(const yaml_node& n, std::string_view path) {
  if (!expect_scalar(n, path, "true or false")) {
    return std::nullopt;
  }
  if (!n.quoted && n.text == "true") {
    return true;
  }
  if (!n.quoted && n.text == "false") {
    return false;
  }
  if (n.quoted) {
    error(n, path, shown(n.text) + " is quoted text; write true or false without quotes");
  } else {
    error(n, path, shown(n.text) + " is not a boolean; write true or false (lower case)");
  }
  return std::nullopt;
}

std::optional<std::uint64_t> value_reader::count(const yaml_node& n, std::string_view path,
                                                 std::uint64_t min, std::uint64_t max) {
  const auto range = std::to_string(min) + " to " + std::to_string(max);
  if (!expect_scalar(n, path, "a whole number from " + range)) {
    return std::nullopt;
  }
  const auto value = n.quoted ? std::nullopt : parse_unsigned(n.text);
  if (!value || *value < min || *value > max) {
    error(n, path, shown(n.text) + " is not a whole number from " + range + " (without quotes)");
    return std::nullopt;
  }
  return value;
}

namespace {

std::string describe_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms == 0) {
    return "0s";
  }
  if (ms % 3'600'000 == 0) {
    return std::to_string(ms / 3'600'000) + "h";
  }
  if (ms % 60'000 == 0) {
    return std::to_string(ms / 60'000) + "m";
  }
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

}  // namespace

std::optional<std::chrono::milliseconds> value_reader::duration(const yaml_node& n,
                                                                std::string_view path,
                                                                std::chrono::milliseconds min,
                                                                std::chrono::milliseconds max) {
  if (!expect_scalar(n, path, "a duration such as 30s or 10m")) {
    return std::nullopt;
  }
  const auto value = parse_duration(n.text);
  if (!value) {
    error(n, path,
          shown(n.text) +
              " is not a duration; write a whole number and one unit: ms, s, m or h (e.g. 500ms, "
              "2s, 10m, 1h)");
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    error(n, path,
          shown(n.text) + " is out of range; use " + describe_duration(min) + " to " +
              describe_duration(max));
    return std::nullopt;
  }
  return value;
}

std::optional<std::chrono::year_month_day> value_reader::date(const yaml_node& n,
                                                              std::string_view path) {
  if (!expect_scalar(n, path, "a date such as 2026-01-31")) {
    return std::nullopt;
  }
  const auto value = parse_date(n.text);
  if (!value) {
    error(n, path, shown(n.text) + " is not a calendar date written YYYY-MM-DD (e.g. 2026-01-31)");
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint64_t> value_reader::byte_size(const yaml_node& n, std::string_view path,
                                                     std::uint64_t min, std::uint64_t max) {
  if (!expect_scalar(n, path, "a size such as 16MiB")) {
    return std::nullopt;
  }
  const auto value = parse_byte_size(n.text);
  if (!value) {
    error(n, path,
          shown(n.text) +
              " is not a size; write a whole number of bytes or one with B, KiB, MiB "
              "or GiB (e.g. 16MiB)");
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    error(n, path,
          shown(n.text) + " is out of range; use " + std::to_string(min) + " to " +
              std::to_string(max) + " bytes");
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> value_reader::text(const yaml_node& n, std::string_view path,
                                              std::size_t max_chars) {
  if (!expect_scalar(n, path, "text")) {
    return std::nullopt;
  }
  if (n.text.empty()) {
    error(n, path, "is empty; write a value or remove the key");
    return std::nullopt;
  }
  const auto chars =
      static_cast<std::size_t>(std::count_if(n.text.begin(), n.text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
      }));
  if (chars > max_chars) {
    error(n, path,
          "is " + std::to_string(chars) + " characters long; the limit is " +
              std::to_string(max_chars));
    return std::nullopt;
  }
  return n.text;
}

std::optional<std::string> value_reader::secret(const yaml_node& n, std::string_view path) {
  // The value is never quoted back: a misplaced token is still a token.
  if (n.is_null()) {
    error(n, path, "has no value; write the secret or remove the key");
    return std::nullopt;
  }
  if (!n.is_scalar()) {
    error(n, path, std::string("must be text, not ") + describe(n));
    return std::nullopt;
  }
  if (n.text.empty()) {
    error(n, path, "is empty");
    return std::nullopt;
  }
  constexpr std::size_t max_secret = 4096;
  if (n.text.size() > max_secret) {
    error(n, path, "is longer than " + std::to_string(max_secret) + " bytes");
    return std::nullopt;
  }
  return n.text;
}

std::optional<std::string> value_reader::url(const yaml_node& n, std::string_view path) {
  if (!expect_scalar(n, path, "a URL such as https://hooks.example/unlinkd")) {
    return std::nullopt;
  }
  if (!is_acceptable_url(n.text)) {
    // Not quoted back: webhook URLs often carry a secret in their path.
    error(n, path,
          "is not a URL unlinkd can use; write https://HOST[:PORT]/PATH (http:// only to "
          "127.0.0.1, [::1] or localhost), without user:password@");
    return std::nullopt;
  }
  return n.text;
}

std::optional<std::string> value_reader::absolute_path(const yaml_node& n, std::string_view path) {
  if (!expect_scalar(n, path, "an absolute path such as /var/lib/unlinkd")) {
    return std::nullopt;
  }
  if (!n.text.starts_with('/') || n.text.size() > 4000) {
    error(n, path, shown(n.text) + " is not an absolute path; start it with /");
    return std::nullopt;
  }
  return n.text;
}

std::optional<std::string> value_reader::plain_word(const yaml_node& n, std::string_view path) {
  if (!expect_scalar(n, path, "a word")) {
    return std::nullopt;
  }
  return n.text;
}

void value_reader::unknown_key(const yaml_node& key, std::string_view path,
                               std::initializer_list<std::string_view> known) {
  std::string_view closest;
  std::size_t best = 3;
  for (const auto k : known) {
    if (const auto d = edit_distance_ci(key.text, k); d < best) {
      best = d;
      closest = k;
    }
  }
  std::string message = "unknown key";
  if (conceal_) {
    for (const auto k : known) {
      if (key.text.size() > k.size() && key.text.starts_with(k) && key.text[k.size()] == ':') {
        diags_.error(key.mark, (path.empty() ? std::string() : std::string(path) + ": ") +
                                   "unknown key; if it is " + std::string(k) +
                                   ", put a space after its colon: " + std::string(k) + ": VALUE");
        return;
      }
    }
  } else {
    // Two appends, not `" " + quote(...)`: at -O3 (Release), g++ 12 reports a
    // bogus -Wrestrict in the inlined prepend and -Werror stops the build.
    message += ' ';
    message += quote(key.text);
  }
  if (!closest.empty()) {
    message += "; did you mean " + std::string(closest) + "?";
  } else {
    message += "; expected one of ";
    bool first = true;
    for (const auto k : known) {
      message += first ? "" : ", ";
      message += k;
      first = false;
    }
  }
  diags_.error(key.mark, (path.empty() ? std::string() : std::string(path) + ": ") + message);
}

std::size_t value_reader::edit_distance_ci(std::string_view a, std::string_view b) {
  std::string la(a);
  std::string lb(b);
  const auto lower = [](std::string& s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
      return c == '-' ? '_' : static_cast<char>(std::tolower(c));
    });
  };
  lower(la);
  lower(lb);
  if (la.size() > 64) {
    return la.size();
  }
  return edit_distance(la, lb);
}

}  // namespace unlinkd::config
