#pragma once
// A manifest's identity is the SHA-256 of its exact bytes: the same file
// submitted twice is recognised, whatever it is called.

#include <string>
#include <string_view>

namespace unlinkd::config {

// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

}  // namespace unlinkd::config
