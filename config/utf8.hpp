#pragma once
// UTF-8 checks shared by the YAML reader (which refuses text that is not
// UTF-8) and the control socket (which must not echo a request's stray bytes
// into a JSON answer).
#include <cstddef>
#include <string>
#include <string_view>

namespace unlinkd::config {

// Length of the valid UTF-8 sequence at `i`, or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF included).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

// `s` with its valid UTF-8 kept and every other byte written as \xNN, so it
// can be quoted in JSON or a log line.
std::string printable_utf8(std::string_view s);

}  // namespace unlinkd::config
