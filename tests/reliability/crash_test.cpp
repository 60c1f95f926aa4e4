// Crash: the daemon SIGKILLed at seeded random moments while a batch over
// every unlink mode runs against a faulty, lagging sandbox, restarted each
// time on the same state folder. At the end every account is in exactly one
// terminal state, nothing was removed twice, nothing disabled, nothing
// unlinked without a verified backup, the database is intact, every backup
// verifies and the manifest is filed.
#include <chrono>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/reliability/reliability_run.hpp"
#include "tests/reliability/reliability_settings.hpp"
#include "tests/reliability/scenario_profiles.hpp"

namespace unlinkd::reliability {
namespace {

using namespace std::chrono_literals;

TEST(reliability, crash_sigkill_at_random_moments_loses_nothing_and_repeats_nothing) {
  const auto& s = settings();
  reliability_run run(run_options{.accounts = s.crash_accounts,
                                  .seed = s.seed,
                                  .no_limits = s.no_limits,
                                  .faults = crash_faults_profile(),
                                  .visibility_delay = "100ms..800ms",
                                  .daemon_config = fast_retry_config()});
  ASSERT_TRUE(run.daemon().start()) << run.daemon().log_tail();
  run.drop_manifest();
  seeded_random random(s.seed);
  for (int kill = 1; kill <= s.crash_kills; ++kill) {
    // The deliberate pause between kills: the seeded random moment.
    const auto pause = std::chrono::milliseconds(random.between(300, 3000));
    std::this_thread::sleep_for(pause);
    run.daemon().kill_hard();
    ASSERT_TRUE(run.daemon().start()) << "restart " << kill << " after a SIGKILL failed:\n"
                                      << run.daemon().log_tail();
  }
  const auto open_at_last_kill = run.batch_status();
  const auto waited = run.wait_batch_end(batch_deadline(s.crash_accounts, s.no_limits));
  ASSERT_TRUE(waited.empty()) << as_text(waited);
  const auto found = run.common_checks();
  EXPECT_TRUE(found.empty()) << as_text(found);
  // The kills must have hit a running batch, or the scenario proved little.
  ASSERT_FALSE(open_at_last_kill.is_null());
  // Not a failure by itself (a terminal state is the requirement), but the
  // first thing to read when an account did not end done.
  for (const auto& line : check_all_in_state(run.report(), "done")) {
    std::cout << "crash: not done: " << line << "\n";
  }
  std::cout << "crash: " << s.crash_kills << " SIGKILLs, " << run.daemon().starts()
            << " starts; at the last kill the batch was "
            << boost::json::serialize(open_at_last_kill.at("accounts")) << "\n"
            << "crash: final " << boost::json::serialize(run.report().at("summary").at("by_state"))
            << "; sandbox faults " << boost::json::serialize(run.sandbox_stats().at("faults"))
            << "\n";
}

}  // namespace
}  // namespace unlinkd::reliability
