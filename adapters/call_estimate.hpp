#pragma once
// A dry run's plan (issue 7): how many API calls the real run of an account
// will send, from what its preflight saw. Kept next to the code that makes
// the calls (unlink_request, backup) so the two change together. Pure.
//
// Pages past the first are unknown until read (ad groups, ads, report rows),
// so this is the least the run will send when every answer succeeds at once:
// an estimate for planning, never a limit.
#include <cstdint>

#include "adapters/platform.hpp"
#include "config/manifest.hpp"

namespace unlinkd::adapters {

struct call_estimate {
  std::uint32_t preflight = 0;
  std::uint32_t backup = 0;
  std::uint32_t pause = 0;
  std::uint32_t unlink = 0;
  std::uint32_t verify = 0;
  [[nodiscard]] std::uint32_t total() const { return preflight + backup + pause + unlink + verify; }
};

struct preflight_seen {
  std::uint32_t calls = 0;           // what the dry run's preflight sent
  std::size_t active_campaigns = 0;  // listed by preflight (advertisers)
  relationship found = relationship::present;
};

call_estimate estimate_calls(const account_job& job, config::batch_action action,
                             const preflight_seen& seen);

// Seconds the calls take at a credential's sustained budget (the smaller of
// qps and qpm / 60), when the batch has the budget to itself.
double seconds_at_budget(std::uint64_t calls, std::uint32_t qps, std::uint32_t qpm);

}  // namespace unlinkd::adapters
