#pragma once
// unlinkctl's exit codes (PRODUCT.md §8); scripts depend on them.

namespace unlinkd::ctl {

enum exit_code : int {
  exit_ok = 0,
  exit_usage = 1,  // usage or other error
  exit_invalid_manifest = 2,
  exit_not_found = 3,
  exit_refused = 4,
  exit_unreachable = 5,
};

}  // namespace unlinkd::ctl
