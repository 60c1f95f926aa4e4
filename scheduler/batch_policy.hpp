#pragma once
// What the scheduler needs of a batch to decide an account's next step: the
// manifest's batch-level settings with the daemon's defaults filled in.
#include <chrono>
#include <cstdint>
#include <string>

#include "config/manifest.hpp"

namespace unlinkd::scheduler {

struct batch_policy {
  std::int64_t batch_id = 0;
  std::string name;
  std::string credentials;  // the profile
  std::string business_center_id;
  config::batch_action action = config::batch_action::unlink;
  bool dry_run = false;
  std::uint32_t concurrency = 64;  // accounts of this batch in flight
  std::uint32_t max_attempts = 8;
  std::chrono::milliseconds initial_backoff{2'000};
  std::chrono::milliseconds max_backoff{600'000};
  // The credential's budget, for a dry run's time estimate (0: unknown).
  std::uint32_t budget_qps = 0;
  std::uint32_t budget_qpm = 0;
};

}  // namespace unlinkd::scheduler
