#pragma once
// Validates a manifest's bytes and turns them into a `manifest`, or reports
// every problem (up to the cap) with its position. A manifest is accepted
// whole or rejected whole: any problem means no manifest.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/manifest.hpp"

namespace unlinkd::config {

struct manifest_options {
  std::size_t max_bytes = std::size_t{16} << 20U;  // max_manifest_bytes
  std::size_t max_accounts = 100'000;              // max_accounts_per_manifest
  // The credential profiles that exist, when known: `credentials:` must name
  // one of them. Unset: the name is checked for its form only.
  std::optional<std::vector<std::string>> known_profiles;
};

struct manifest_result {
  std::optional<manifest> value;  // set exactly when `problems` is empty
  diagnostics problems;
};

// `today` is the day the manifest is accepted, in UTC: the default report
// range is the 365 days before it.
manifest_result parse_manifest(std::string_view bytes, std::string file_name,
                               const manifest_options& options, std::chrono::year_month_day today);

// Today's date in UTC, for callers that run for real.
std::chrono::year_month_day utc_today();

}  // namespace unlinkd::config
