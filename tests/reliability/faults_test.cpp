// Faults: a batch over every unlink mode against a sandbox that answers 10%
// of calls with a retryable error, 2% with a rate-limit answer, resets 1% of
// connections (about half after an applied write) and has latency spikes.
// Every account must end done: none may fail for a retryable cause.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/reliability/reliability_run.hpp"
#include "tests/reliability/reliability_settings.hpp"
#include "tests/reliability/scenario_profiles.hpp"

namespace unlinkd::reliability {
namespace {

std::int64_t count_of(const boost::json::value& faults, const char* kind) {
  const auto* v = faults.as_object().if_contains(kind);
  return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

TEST(reliability, faults_every_account_ends_done_despite_retryable_errors) {
  const auto& s = settings();
  reliability_run run(run_options{.accounts = s.fault_accounts,
                                  .seed = s.seed + 1,
                                  .no_limits = s.no_limits,
                                  .faults = faults_profile(rate_limited_share(s.short_run)),
                                  .visibility_delay = {},
                                  .daemon_config = fast_retry_config()});
  ASSERT_TRUE(run.daemon().start()) << run.daemon().log_tail();
  run.drop_manifest();
  const auto waited = run.wait_batch_end(batch_deadline(s.fault_accounts, s.no_limits));
  ASSERT_TRUE(waited.empty()) << as_text(waited);
  auto found = run.common_checks();
  const auto report = run.report();
  const auto not_done = check_all_in_state(report, "done");
  found.insert(found.end(), not_done.begin(), not_done.end());
  EXPECT_TRUE(found.empty()) << as_text(found);
  // The faults happened: a run the sandbox never faulted proves nothing.
  const auto faults = run.sandbox_stats().at("faults");
  for (const auto* kind :
       {"api_50000", "api_50002", "http_502", "http_503", "reset_before", "reset_after_apply"}) {
    EXPECT_GT(count_of(faults, kind), 0) << kind << " was never injected: " << faults;
  }
  if (rate_limited_share(s.short_run) > 0) {
    EXPECT_GT(count_of(faults, "api_40100"), 0) << "no 40100 was injected: " << faults;
  }
  std::cout << "faults: final " << boost::json::serialize(report.at("summary").at("by_state"))
            << "; sandbox faults " << boost::json::serialize(faults) << "\n";
}

}  // namespace
}  // namespace unlinkd::reliability
