#pragma once
// An account as stored: its resolved manifest settings and its progress.
// What claim_ready hands the scheduler, and what status shows of one account.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/manifest.hpp"
#include "store/account_state.hpp"

namespace unlinkd::store {

using time_point = std::chrono::system_clock::time_point;

// Kept so an operator can quote it to TikTok support (PRODUCT.md §5).
struct account_error {
  std::int64_t code = 0;
  std::string message;
  std::string request_id;
};

struct backup_record {
  std::string folder;
  std::string digest;  // SHA-256 of SHA256SUMS
};

// A dry run's plan for the account: what the real run would do, and its cost.
struct account_plan {
  std::string action;  // "unlink", "pause_campaigns" or "already_unlinked"
  std::uint32_t estimated_api_calls = 0;
  // The calls' time at the credential's sustained budget, with the budget to itself.
  std::chrono::milliseconds estimated_time{0};
};

struct account_record {
  std::int64_t batch_id = 0;
  // The account's settings with the manifest's defaults resolved.
  config::account settings;
  account_state state = account_state::pending;
  pipeline_step step = pipeline_step::preflight;
  std::uint32_t attempts = 0;
  time_point next_attempt_at;
  std::optional<account_error> last_error;
  std::optional<backup_record> backup;
  std::vector<std::string> campaigns_to_pause;
  std::vector<std::string> campaigns_paused;
  std::optional<time_point> unlink_intent_at;  // recorded before the call is sent
  std::optional<time_point> unlink_sent_at;    // the API answered
  std::uint32_t unlink_sends = 0;              // unrefused sends: at most max_unlink_sends
  std::uint64_t api_calls = 0;                 // every step's, failed attempts included
  std::optional<time_point> started_at;        // its first transition
  std::optional<time_point> ended_at;          // set in done, failed or cancelled
  std::optional<account_plan> plan;            // dry runs
};

}  // namespace unlinkd::store
