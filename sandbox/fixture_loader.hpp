#pragma once
// A hand-written sandbox world, read from YAML (`unlinkd-sandbox --fixture
// FILE`) instead of generated. The format mirrors `sandbox_state` in the
// API's own words (docs/SANDBOX.md, "Fixtures"); every reference is checked
// and every problem reported with FILE:LINE:COL.

#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.hpp"
#include "sandbox/sandbox_state.hpp"

namespace unlinkd::sandbox {

struct fixture_result {
  sandbox_state state;  // meaningful only when `problems` is empty
  config::diagnostics problems;
  // The credentials profile of each token, in the order of `state.tokens`,
  // for --credentials-out.
  std::vector<std::string> profiles;
};

// Decodes the bytes of a fixture; `file_name` is what messages call it.
fixture_result load_fixture(std::string_view bytes, std::string file_name);

// Reads the file (a regular file of at most 16 MiB) and decodes it.
fixture_result load_fixture_file(const std::string& path);

}  // namespace unlinkd::sandbox
