#pragma once
// Invariants shared by the fuzz targets. A broken one stops the run with
// __builtin_trap, which libFuzzer reports as a crash and saves the input.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/diagnostics.hpp"

#define UNLINKD_FUZZ_CHECK(condition)                                                         \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "invariant broken: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
      __builtin_trap();                                                                       \
    }                                                                                         \
  } while (false)

// The same, also printing the diagnostic at fault (escaped) to help triage.
#define UNLINKD_FUZZ_CHECK_DIAGNOSTIC(condition, d)                                     \
  do {                                                                                  \
    if (!(condition)) {                                                                 \
      std::fprintf(stderr, "in diagnostic: %s\n", ::unlinkd::fuzz::escaped(d).c_str()); \
      UNLINKD_FUZZ_CHECK(condition);                                                    \
    }                                                                                   \
  } while (false)

// An invariant an open finding breaks (docs/FUZZING.md, "Open findings"):
// checked only under UNLINKD_FUZZ_STRICT=1, so that fuzzing goes on past a
// reported bug instead of finding it again on every run. Once the fix lands,
// the check becomes UNLINKD_FUZZ_CHECK and its inputs move out of open/.
#define UNLINKD_FUZZ_CHECK_OPEN(condition) \
  do {                                     \
    if (::unlinkd::fuzz::strict()) {       \
      UNLINKD_FUZZ_CHECK(condition);       \
    }                                      \
  } while (false)

namespace unlinkd::fuzz {

// UNLINKD_FUZZ_STRICT=1 in the environment: open findings (reported, not yet
// fixed in code the fuzz targets do not own) are fatal too.
inline bool strict() {
  static const bool on = [] {
    const char* v = std::getenv("UNLINKD_FUZZ_STRICT");
    return v != nullptr && std::string_view(v) == "1";
  }();
  return on;
}

// `FILE:LINE:COL: error: MESSAGE` with control characters shown as \xNN.
inline std::string escaped(const config::diagnostic& d) {
  std::string out;
  for (const char c : config::format(d)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      char code[8];
      std::snprintf(code, sizeof code, "\\x%02X", u);
      out += code;
    } else {
      out += c;
    }
  }
  return out;
}

inline std::size_t count_lines(std::string_view input) {
  return static_cast<std::size_t>(std::count(input.begin(), input.end(), '\n')) + 1;
}

// A message goes on one line of `FILE:LINE:COL: error: MESSAGE`: no line
// breaks, no control characters (tabs aside) that would garble a terminal.
inline bool is_one_clean_line(std::string_view message) {
  return std::none_of(message.begin(), message.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7F;
  });
}

// What every report must look like, whatever the input: capped, each
// problem positioned inside the file (or on the whole file) with a
// non-empty one-line message.
inline void check_diagnostics(const config::diagnostics& problems, std::string_view file_name,
                              std::string_view input) {
  UNLINKD_FUZZ_CHECK(problems.file() == file_name);
  UNLINKD_FUZZ_CHECK(problems.items().size() <= config::diagnostics::default_cap);
  UNLINKD_FUZZ_CHECK(problems.dropped() == 0 || problems.full());
  const std::size_t lines = count_lines(input);
  for (const auto& d : problems.items()) {
    UNLINKD_FUZZ_CHECK_DIAGNOSTIC(d.file == file_name, d);
    UNLINKD_FUZZ_CHECK_DIAGNOSTIC(!d.message.empty(), d);
    UNLINKD_FUZZ_CHECK_DIAGNOSTIC(is_one_clean_line(d.message), d);
    if (d.line == 0) {
      UNLINKD_FUZZ_CHECK_DIAGNOSTIC(d.column == 0, d);
    } else {
      UNLINKD_FUZZ_CHECK_DIAGNOSTIC(d.column >= 1, d);
      UNLINKD_FUZZ_CHECK_DIAGNOSTIC(d.line <= lines, d);
      UNLINKD_FUZZ_CHECK_DIAGNOSTIC(d.column <= input.size() + 1, d);
    }
    const std::string line = config::format(d);
    UNLINKD_FUZZ_CHECK_DIAGNOSTIC(line.starts_with(file_name), d);
    UNLINKD_FUZZ_CHECK_DIAGNOSTIC(line.find(": error: ") != std::string::npos, d);
  }
  const std::string text = problems.to_text();
  UNLINKD_FUZZ_CHECK(text.empty() == problems.empty());
}

}  // namespace unlinkd::fuzz
