#include "adapters/call_estimate.hpp"

#include <algorithm>

#include "adapters/report_windows.hpp"
#include "adapters/unlink_request.hpp"

namespace unlinkd::adapters {
namespace {

std::uint32_t pages(std::size_t items, std::size_t page_size) {
  return static_cast<std::uint32_t>(std::max<std::size_t>(1, (items + page_size - 1) / page_size));
}

// backup.cpp: an ad account's info, then campaigns, ad groups and ads (one
// walk each; campaigns at least as many pages as the active ones fill), then
// one report walk per 30-day window. A TikTok account: its asset and its
// bindings.
std::uint32_t backup_calls(const account_job& job, std::size_t active_campaigns) {
  if (job.account.type == config::account_type::tiktok_account) {
    return 2;
  }
  const auto windows =
      report_windows(job.account.backup.reports_since, job.account.backup.reports_until).size();
  return 1 + pages(active_campaigns, campaign_page_size) + 1 + 1 +
         static_cast<std::uint32_t>(windows);
}

}  // namespace

call_estimate estimate_calls(const account_job& job, config::batch_action action,
                             const preflight_seen& seen) {
  call_estimate e;
  e.preflight = std::max<std::uint32_t>(seen.calls, 1);
  const bool unlinking = action == config::batch_action::unlink;
  // next_step: a relationship already gone goes straight to verify.
  if (unlinking && seen.found == relationship::already_gone) {
    e.verify = 1;
    return e;
  }
  e.backup = backup_calls(job, seen.active_campaigns);
  const bool pausing = action == config::batch_action::pause ||
                       job.account.active_campaigns == config::campaign_policy::pause;
  if (pausing && seen.active_campaigns > 0) {
    e.pause = pages(seen.active_campaigns, campaigns_per_status_update);
  }
  if (unlinking) {
    e.unlink = static_cast<std::uint32_t>(unlink_requests(job).size());
    e.verify = 1;  // the first poll; more while the API's reads lag its writes
  }
  return e;
}

double seconds_at_budget(std::uint64_t calls, std::uint32_t qps, std::uint32_t qpm) {
  const double per_second = std::min(static_cast<double>(qps), static_cast<double>(qpm) / 60.0);
  return per_second <= 0 ? 0.0 : static_cast<double>(calls) / per_second;
}

}  // namespace unlinkd::adapters
