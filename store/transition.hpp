#pragma once
// The writes the scheduler and the control socket make, as values. Every
// state change is fenced: it names the state it expects, and a store that
// holds another state refuses it (commit_outcome::stale), logs it and
// applies nothing.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/account_record.hpp"
#include "store/account_state.hpp"

namespace unlinkd::store {

enum class commit_outcome : std::uint8_t { applied, stale };

// What the event log records with a transition.
struct event_note {
  std::string kind = "transition";
  std::string detail;
  std::optional<std::uint32_t> uid;  // an operator's action (retry, resume)
};

struct transition {
  std::int64_t batch_id = 0;
  std::string account_id;
  account_state expected = account_state::pending;  // the fence
  account_state to = account_state::pending;
  pipeline_step step = pipeline_step::preflight;

  // Fields left unset keep their stored value.
  std::optional<std::uint32_t> attempts;
  std::optional<time_point> next_attempt_at;
  std::optional<account_error> last_error;
  bool clear_last_error = false;
  std::optional<backup_record> backup;
  std::optional<std::vector<std::string>> campaigns_to_pause;
  std::optional<std::vector<std::string>> campaigns_paused;
  std::optional<time_point> unlink_intent_at;
  // The API answered the unlink with a refusal (nothing applied): the
  // intent is no longer an outcome to find out, so it is cleared.
  bool clear_unlink_intent = false;
  std::optional<time_point> unlink_sent_at;
  std::optional<std::uint32_t> unlink_sends;
  // API calls the step made, failed attempts included; added to the account's count.
  std::uint32_t api_calls = 0;
  std::optional<account_plan> plan;

  // Whether this commit hands the account back, so claim_ready may give it
  // out again. False when the caller goes on with the account itself (it
  // commits preflight -> backup and starts the backup at once).
  bool release_claim = true;

  event_note event;
};

struct batch_transition {
  std::int64_t batch_id = 0;
  batch_state expected = batch_state::queued;  // the fence
  batch_state to = batch_state::running;
  std::string reason;  // stored as the batch's state_reason
  event_note event;
};

// Credential holds (PRODUCT.md §5): a profile whose credential failed is
// held until an operator lifts the hold.
struct credential_hold {
  std::string profile;
  std::string reason;
  std::optional<std::uint32_t> uid;
};

struct audit_event {
  std::optional<std::int64_t> batch_id;
  std::string account_id;
  std::optional<std::uint32_t> uid;
  std::string kind;
  std::string detail;
};

// Successful reads are not logged one by one: they are tallied per account
// and step, so the log stays proportionate.
struct read_tally {
  std::int64_t batch_id = 0;
  std::string account_id;
  pipeline_step step = pipeline_step::preflight;
  std::uint32_t calls = 1;
};

}  // namespace unlinkd::store
