#pragma once
// A batch as stored: the manifest's batch-level settings and its state.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/manifest.hpp"
#include "store/account_state.hpp"

namespace unlinkd::store {

struct batch_record {
  std::int64_t id = 0;
  std::string name;
  std::string manifest_sha256;
  std::string source_file;
  std::uint32_t submitter_uid = 0;
  std::string requested_by;
  std::string credentials;
  std::string business_center_id;
  config::batch_action action = config::batch_action::unlink;
  bool dry_run = false;
  std::vector<std::string> notify;
  std::optional<std::uint32_t> concurrency;
  config::retry_settings retry;
  batch_state state = batch_state::queued;
  std::string state_reason;  // why it paused itself, who cancelled it, ...
  std::chrono::system_clock::time_point created_at;
  std::optional<std::chrono::system_clock::time_point> finished_at;
};

}  // namespace unlinkd::store
