#pragma once
// Pure parsers for the value syntaxes of unlinkd's files (PRODUCT.md §2, §6).
// Each answers with the value, or with nothing and leaves the wording of the
// error to the caller, who knows the key and the file.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace unlinkd::config {

// IDs: 1–20 decimal digits, no sign, exponent, hex or leading zero.
bool is_valid_id(std::string_view text);

// Batch names: [a-z0-9][a-z0-9._-]{0,63}.
bool is_valid_batch_name(std::string_view text);

// Credential profile names: [A-Za-z0-9][A-Za-z0-9._-]{0,63}.
bool is_valid_profile_name(std::string_view text);

// A non-negative decimal integer without sign or leading zero (0 itself is
// allowed), as YAML 1.2 core schema reads a plain integer.
std::optional<std::uint64_t> parse_unsigned(std::string_view text);

// `500ms`, `2s`, `10m`, `1h`: an integer and one unit.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// `YYYY-MM-DD`, a real calendar day.
std::optional<std::chrono::year_month_day> parse_date(std::string_view text);
std::string format_date(std::chrono::year_month_day day);

// A byte count: `1048576`, `512B`, `64KiB`, `16MiB`, `1GiB`.
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

// A URL unlinkd may call: https://host[:port][/path], or http:// to a
// loopback host only (the sandbox, a local relay).
bool is_acceptable_url(std::string_view text);

// `HOST:PORT` with a loopback host (127.0.0.0/8, ::1 in brackets, localhost).
bool is_loopback_endpoint(std::string_view text);

// Levenshtein distance, for "did you mean" suggestions on short words.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace unlinkd::config
