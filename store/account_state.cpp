#include "store/account_state.hpp"

namespace unlinkd::store {

std::string_view to_string(account_state s) {
  switch (s) {
    case account_state::pending:
      return "pending";
    case account_state::preflight:
      return "preflight";
    case account_state::backup:
      return "backup";
    case account_state::pause:
      return "pause";
    case account_state::unlink:
      return "unlink";
    case account_state::verify:
      return "verify";
    case account_state::done:
      return "done";
    case account_state::failed:
      return "failed";
    case account_state::cancelled:
      return "cancelled";
    case account_state::needs_attention:
      return "needs_attention";
  }
  return "unknown";
}

std::string_view to_string(pipeline_step s) {
  switch (s) {
    case pipeline_step::preflight:
      return "preflight";
    case pipeline_step::backup:
      return "backup";
    case pipeline_step::pause:
      return "pause";
    case pipeline_step::unlink:
      return "unlink";
    case pipeline_step::verify:
      return "verify";
  }
  return "unknown";
}

std::string_view to_string(batch_state s) {
  switch (s) {
    case batch_state::queued:
      return "queued";
    case batch_state::running:
      return "running";
    case batch_state::paused:
      return "paused";
    case batch_state::cancelling:
      return "cancelling";
    case batch_state::cancelled:
      return "cancelled";
    case batch_state::completed:
      return "completed";
  }
  return "unknown";
}

std::optional<account_state> account_state_from_string(std::string_view s) {
  for (auto v : all_account_states) {
    if (to_string(v) == s) {
      return v;
    }
  }
  return std::nullopt;
}

std::optional<pipeline_step> pipeline_step_from_string(std::string_view s) {
  for (auto v : all_pipeline_steps) {
    if (to_string(v) == s) {
      return v;
    }
  }
  return std::nullopt;
}

std::optional<batch_state> batch_state_from_string(std::string_view s) {
  for (auto v : all_batch_states) {
    if (to_string(v) == s) {
      return v;
    }
  }
  return std::nullopt;
}

bool is_terminal(account_state s) {
  return s == account_state::done || s == account_state::failed || s == account_state::cancelled;
}

bool is_runnable(account_state s) { return !is_terminal(s) && s != account_state::needs_attention; }

bool is_finished(batch_state s) {
  return s == batch_state::cancelled || s == batch_state::completed;
}

}  // namespace unlinkd::store
