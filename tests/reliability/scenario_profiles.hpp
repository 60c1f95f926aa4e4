#pragma once
// The sandbox fault profiles and daemon settings the scenarios use, in one
// place so that docs/RELIABILITY.md can point at them.

#include <chrono>
#include <string>

namespace unlinkd::reliability {

// Crash: every kind of fault on every API path, resets after applied writes
// included, and latency, at rates a batch survives with the client's retries.
std::string crash_faults_profile();

// Faults: 10% retryable errors, `rate_limited` rate-limit answers (the
// issue's 2% in the full run), 1% resets (half of them after an applied
// write), latency spikes.
std::string faults_profile(double rate_limited);

// The share of 40100 answers of the Faults scenario: 2% in the full run,
// none in the short one. The scheduler freezes an app for 60 s after two
// rate-limit answers within a minute (docs/SCHEDULER.md), so 2% of calls
// keeps it frozen nearly all the time: hours for a batch, not minutes.
double rate_limited_share(bool short_run);

// Retries short enough that a run fits its time: the daemon's defaults wait
// seconds to minutes between attempts of a step.
std::string fast_retry_config();

// Every scenario backs up 30 days of reports instead of the default 365
// (docs/RELIABILITY.md, "Decisions"): today − 30 days, UTC, as YYYY-MM-DD.
std::string thirty_days_ago();

// The daemon paces itself by the profile's tier: rewrites the generated
// credentials' `tier: basic` to the Ultimate tier, keeping the file's mode.
void use_ultimate_tier(const std::string& credentials_file);

// How long a batch of `accounts` may take after the last kill.
std::chrono::seconds batch_deadline(int accounts, bool no_limits);

}  // namespace unlinkd::reliability
