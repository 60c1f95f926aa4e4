#include "tests/reliability/scenario_profiles.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace unlinkd::reliability {

std::string crash_faults_profile() {
  return "faults:\n"
         "  api_50002: 0.02\n"
         "  api_51xxx: 0.01\n"
         "  http_503: 0.02\n"
         "  reset_before: 0.01\n"
         "  reset_after_apply: 0.05\n"
         "code_51xxx: 51000\n"
         "latency:\n"
         "  fixed: 1ms\n"
         "  jitter: 10ms\n";
}

std::string faults_profile(double rate_limited) {
  // reset_after_apply only acts on mutating calls (a read drawn for it gets
  // no fault), about one call in ten here: 5% of those is about 0.5% of all
  // calls, half of the resets. (At 0.005 a short run drew none in some runs,
  // and the check that every kind was injected failed.)
  return "faults:\n"
         "  api_50000: 0.03\n"
         "  api_50002: 0.03\n"
         "  api_51xxx: 0.01\n"
         "  http_502: 0.01\n"
         "  http_503: 0.02\n"
         "  api_40100: " +
         std::to_string(rate_limited) +
         "\n"
         "  reset_before: 0.005\n"
         "  reset_after_apply: 0.05\n"
         "code_51xxx: 51000\n"
         "latency:\n"
         "  fixed: 1ms\n"
         "  jitter: 10ms\n"
         "  tail_probability: 0.01\n"
         "  tail: 1500ms\n";
}

double rate_limited_share(bool short_run) { return short_run ? 0.0 : 0.02; }

std::string fast_retry_config() {
  return "retry:\n"
         "  max_attempts: 8\n"
         "  initial_backoff: 200ms\n"
         "  max_backoff: 3s\n"
         "drain_timeout: 5s\n";
}

std::chrono::seconds batch_deadline(int accounts, bool no_limits) {
  // Measured: about 1 s per account with the Basic budget is far too slow
  // for 2,000; the full run uses the Ultimate tier (50 calls/s).
  return std::chrono::seconds(no_limits ? 240 + accounts : 600 + 2 * accounts);
}

std::string thirty_days_ago() {
  const auto since = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) -
                     std::chrono::days(30);
  const std::chrono::year_month_day day{since};
  char date[16];
  std::snprintf(date, sizeof date, "%04d-%02u-%02u", static_cast<int>(day.year()),
                static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
  return date;
}

void use_ultimate_tier(const std::string& credentials_file) {
  std::string text;
  {
    std::ifstream in(credentials_file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  for (auto at = text.find("tier: basic"); at != std::string::npos;
       at = text.find("tier: basic", at)) {
    text.replace(at, 11, "tier: ultimate");
  }
  std::ofstream(credentials_file, std::ios::trunc) << text;
}

}  // namespace unlinkd::reliability
