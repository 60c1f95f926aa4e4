#pragma once
// Splits a request target into its path and its decoded query parameters.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace unlinkd::sandbox {

struct split_target {
  std::string path;
  std::map<std::string, std::string> query;  // a repeated name keeps its last value
};

// Nothing when the target is malformed (a bad %-escape).
std::optional<split_target> parse_target(std::string_view target);

}  // namespace unlinkd::sandbox
