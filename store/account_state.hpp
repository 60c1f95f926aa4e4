#pragma once
// The states of PRODUCT.md §3, as the store keeps them. Stored as their
// names (readable with the sqlite3 shell), so the text forms are stable.

#include <cstdint>
#include <optional>
#include <string_view>

namespace unlinkd::store {

enum class account_state : std::uint8_t {
  pending,
  preflight,
  backup,
  pause,
  unlink,
  verify,
  done,
  failed,
  cancelled,
  needs_attention,
};

// The pipeline step an account is at, failed at, or waits at.
enum class pipeline_step : std::uint8_t { preflight, backup, pause, unlink, verify };

enum class batch_state : std::uint8_t { queued, running, paused, cancelling, cancelled, completed };

std::string_view to_string(account_state s);
std::string_view to_string(pipeline_step s);
std::string_view to_string(batch_state s);

std::optional<account_state> account_state_from_string(std::string_view s);
std::optional<pipeline_step> pipeline_step_from_string(std::string_view s);
std::optional<batch_state> batch_state_from_string(std::string_view s);

// done, failed, cancelled: the account will never run again by itself.
bool is_terminal(account_state s);
// Claimable when its time comes: not terminal and not waiting for a person.
bool is_runnable(account_state s);
// cancelled, completed: the batch's accounts are free to appear in a new batch.
bool is_finished(batch_state s);

inline constexpr account_state all_account_states[] = {
    account_state::pending,        account_state::preflight, account_state::backup,
    account_state::pause,          account_state::unlink,    account_state::verify,
    account_state::done,           account_state::failed,    account_state::cancelled,
    account_state::needs_attention};
inline constexpr pipeline_step all_pipeline_steps[] = {
    pipeline_step::preflight, pipeline_step::backup, pipeline_step::pause, pipeline_step::unlink,
    pipeline_step::verify};
inline constexpr batch_state all_batch_states[] = {batch_state::queued,    batch_state::running,
                                                   batch_state::paused,    batch_state::cancelling,
                                                   batch_state::cancelled, batch_state::completed};

}  // namespace unlinkd::store
