#pragma once
// What running one pipeline step gave: the platform's outcome, reduced to
// what the next-step decision needs, or the classified error.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adapters/api_error.hpp"
#include "adapters/platform.hpp"
#include "store/account_state.hpp"

namespace unlinkd::scheduler {

struct step_report {
  store::pipeline_step step = store::pipeline_step::preflight;
  std::optional<adapters::api_error> error;  // set: the step failed
  // preflight and verify: is the relationship still there?
  adapters::relationship found = adapters::relationship::present;
  std::vector<std::string> active_campaigns;  // preflight
  std::string backup_folder;                  // backup
  std::string backup_digest;                  // backup
  std::vector<std::string> paused;            // pause
  std::vector<std::string> still_listed;      // verify: relationship keys still read
  std::uint32_t api_calls = 0;
};

}  // namespace unlinkd::scheduler
