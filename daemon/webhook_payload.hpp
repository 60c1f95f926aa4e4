#pragma once
// What a webhook says and how it is signed (PRODUCT.md §7 Notifications,
// docs/WEBHOOKS.md): the JSON body of a notification and the
// X-Unlinkd-Signature of one attempt. Pure, no I/O: the notifier builds the
// body once per delivery (so every retry sends the same bytes) and the
// sender signs each attempt with that attempt's timestamp.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace unlinkd::daemon {

// The version of the body's schema; a receiver can refuse what it does not know.
inline constexpr int webhook_schema_version = 1;

enum class webhook_event : std::uint8_t { started, needs_attention, ended };

// "batch.started", "batch.needs_attention", "batch.ended": the `event` field
// and the X-Unlinkd-Event header.
std::string_view to_string(webhook_event e);

// Why a batch needs a person (batch.needs_attention's `cause`).
enum class attention_cause : std::uint8_t {
  credential_hold,  // the API refused the batch's credential; every account waits
  unknown_profile,  // the credentials file has no profile of the batch's name
  circuit_breaker,  // too many of the first accounts failed; the batch paused itself
  accounts,         // accounts went to needs_attention for another reason
};
std::string_view to_string(attention_cause c);

struct webhook_reports {
  std::string json_path;
  std::string csv_path;
};

// One notification about one batch, as every receiver of the batch gets it
// (only delivery_id differs between receivers).
struct webhook_notification {
  webhook_event event = webhook_event::started;
  std::int64_t event_seq = 0;                // the event log's sequence number it comes from
  std::chrono::system_clock::time_point at;  // when the event was recorded
  std::string batch;
  std::string state;  // the batch's state (store::to_string(batch_state))
  std::string reason;
  std::optional<attention_cause> cause;        // batch.needs_attention only
  std::map<std::string, std::int64_t> counts;  // accounts by state (every state, zeros too)
  bool dry_run = false;
  std::optional<webhook_reports> reports;  // batch.ended only
};

// A delivery's identifier: the same for every attempt of one notification to
// one URL, and the same again when a restart re-sends it, so a receiver can
// de-duplicate. 32 hex digits derived from the batch, the event's sequence
// number and the URL (SHA-256), grouped like a UUID.
std::string delivery_id_for(std::string_view batch, std::int64_t event_seq, std::string_view url);

// The body, compact JSON. Fields: schema_version, event, delivery_id,
// timestamp (UTC ISO-8601 with milliseconds), event_seq, batch, state,
// reason, cause (or null), counts (with total), dry_run, reports (or null).
std::string webhook_body(const webhook_notification& n, std::string_view delivery_id);

// "2026-11-26T17:55:01.042Z".
std::string iso8601_utc(std::chrono::system_clock::time_point t);

// HMAC-SHA256 of `message` under `key`, as 64 lowercase hex digits.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

// The X-Unlinkd-Signature value of one attempt: "sha256=" + hex HMAC-SHA256
// of "<timestamp>.<body>", where timestamp is the X-Unlinkd-Timestamp value
// (Unix seconds, decimal).
std::string webhook_signature(std::string_view key, std::string_view timestamp,
                              std::string_view body);

// What a receiver does (docs/WEBHOOKS.md), in constant time: true when
// `signature_header` is the signature of this timestamp and body under `key`.
bool verify_webhook_signature(std::string_view key, std::string_view timestamp,
                              std::string_view body, std::string_view signature_header);

}  // namespace unlinkd::daemon
