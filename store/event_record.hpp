#pragma once
// One line of the append-only event log: a transition, a mutating call's
// outcome, a refused stale transition, or an operator's action (with uid).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace unlinkd::store {

struct event_record {
  std::int64_t seq = 0;  // increasing, never reused
  std::chrono::system_clock::time_point at;
  std::optional<std::int64_t> batch_id;
  std::string account_id;            // empty for batch-level events
  std::optional<std::uint32_t> uid;  // set for an operator's action
  std::string kind;                  // e.g. "transition", "unlink_call", "pause_requested"
  std::string from_state;            // empty when not a transition
  std::string to_state;
  std::string step;
  std::string detail;  // free text / JSON for people and the report
};

}  // namespace unlinkd::store
