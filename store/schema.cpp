#include "store/schema.hpp"

#include <array>
#include <string>
#include <string_view>

namespace unlinkd::store::schema {
namespace {

// Times are Unix milliseconds (UTC); states and steps are their names.
// Version 1: batches, the manifests that made them, accounts, the event log.
constexpr std::string_view v1 = R"sql(
CREATE TABLE batches (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  manifest_sha256 TEXT NOT NULL,
  source_file TEXT NOT NULL,
  submitter_uid INTEGER NOT NULL,
  requested_by TEXT NOT NULL,
  credentials TEXT NOT NULL,
  business_center_id TEXT NOT NULL,
  action TEXT NOT NULL,
  dry_run INTEGER NOT NULL,
  notify TEXT NOT NULL,
  concurrency INTEGER,
  max_attempts INTEGER,
  initial_backoff_ms INTEGER,
  max_backoff_ms INTEGER,
  state TEXT NOT NULL,
  state_reason TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE TABLE manifests (
  sha256 TEXT PRIMARY KEY,
  batch_id INTEGER NOT NULL REFERENCES batches(id),
  source_file TEXT NOT NULL,
  submitter_uid INTEGER NOT NULL,
  accepted_at INTEGER NOT NULL
);
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  batch_id INTEGER NOT NULL REFERENCES batches(id),
  account_id TEXT NOT NULL,
  type TEXT NOT NULL,
  label TEXT NOT NULL,
  mode TEXT,
  partner_id TEXT NOT NULL,
  members TEXT NOT NULL,
  advertiser_id TEXT NOT NULL,
  active_campaigns TEXT NOT NULL,
  backup_required INTEGER NOT NULL,
  reports_since TEXT NOT NULL,
  reports_until TEXT NOT NULL,
  verify_deadline_ms INTEGER NOT NULL,
  state TEXT NOT NULL,
  step TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error_code INTEGER,
  last_error_message TEXT,
  last_error_request_id TEXT,
  backup_folder TEXT,
  backup_digest TEXT,
  campaigns_to_pause TEXT NOT NULL DEFAULT '',
  campaigns_paused TEXT NOT NULL DEFAULT '',
  unlink_intent_at INTEGER,
  unlink_sent_at INTEGER,
  updated_at INTEGER NOT NULL,
  UNIQUE (batch_id, account_id)
);
CREATE INDEX accounts_ready ON accounts (state, next_attempt_at);
CREATE INDEX accounts_by_account_id ON accounts (account_id);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  batch_id INTEGER REFERENCES batches(id),
  account_id TEXT NOT NULL DEFAULT '',
  uid INTEGER,
  kind TEXT NOT NULL,
  from_state TEXT NOT NULL DEFAULT '',
  to_state TEXT NOT NULL DEFAULT '',
  step TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_account ON events (batch_id, account_id, seq);
)sql";

// Version 2: credential holds; successful reads tallied instead of logged;
// counts by batch, state and step read from an index at start (no table
// scan, no sort).
constexpr std::string_view v2 = R"sql(
CREATE TABLE credential_holds (
  profile TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  held_at INTEGER NOT NULL,
  uid INTEGER
);
CREATE TABLE read_tallies (
  batch_id INTEGER NOT NULL REFERENCES batches(id),
  account_id TEXT NOT NULL,
  step TEXT NOT NULL,
  calls INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  PRIMARY KEY (batch_id, account_id, step)
) WITHOUT ROWID;
CREATE INDEX accounts_by_batch_state ON accounts (batch_id, state, step);
)sql";

// Version 3: how many unlinks an account has sent (the scheduler resends at
// most once, after verify_deadline, when the first one's reply was lost),
// and the index that claims one batch's ready accounts in time order.
constexpr std::string_view v3 = R"sql(
ALTER TABLE accounts ADD COLUMN unlink_sends INTEGER NOT NULL DEFAULT 0;
CREATE INDEX accounts_ready_by_batch ON accounts (batch_id, state, next_attempt_at);
)sql";

// Version 4: for the report, the API calls each account made (retries and
// failed attempts included), when its pipeline started and ended, and a dry
// run's plan.
constexpr std::string_view v4 = R"sql(
ALTER TABLE accounts ADD COLUMN api_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN started_at INTEGER;
ALTER TABLE accounts ADD COLUMN ended_at INTEGER;
ALTER TABLE accounts ADD COLUMN plan_action TEXT;
ALTER TABLE accounts ADD COLUMN plan_api_calls INTEGER;
ALTER TABLE accounts ADD COLUMN plan_time_ms INTEGER;
)sql";

constexpr std::array<std::string_view, latest_version> migrations = {v1, v2, v3, v4};

}  // namespace

store_result<void> configure(sqlite::database& db, std::int64_t busy_timeout_ms) {
  // busy_timeout first: the journal-mode switch itself may wait for a lock.
  const std::string pragmas = "PRAGMA busy_timeout=" + std::to_string(busy_timeout_ms) +
                              "; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                              " PRAGMA foreign_keys=ON;";
  if (auto r = db.exec(pragmas); !r) {
    return store_error{store_errc::cannot_open,
                       "cannot configure the database: " + r.error().message};
  }
  return {};
}

store_result<void> migrate(sqlite::database& db, std::int64_t target) {
  auto version = db.query_int("PRAGMA user_version");
  if (!version) {
    return store_error{
        store_errc::cannot_open,
        "cannot read the schema version (is this an SQLite database?): " + version.error().message};
  }
  if (*version > latest_version) {
    return store_error{
        store_errc::newer_schema,
        "the database has schema version " + std::to_string(*version) +
            ", newer than this unlinkd understands (" + std::to_string(latest_version) +
            "); it was written by a newer unlinkd: run that version, or restore a backup made "
            "before the upgrade"};
  }
  if (*version < 0) {
    return store_error{store_errc::cannot_open,
                       "the database has a negative schema version; it is not unlinkd's"};
  }
  for (std::int64_t v = *version + 1; v <= target; ++v) {
    std::string script = "BEGIN IMMEDIATE;";
    script += migrations.at(static_cast<std::size_t>(v - 1));
    script += "PRAGMA user_version=" + std::to_string(v) + "; COMMIT;";
    if (auto r = db.exec(script); !r) {
      (void)db.exec("ROLLBACK");
      return store_error{store_errc::migration_failed,
                         "cannot upgrade the database schema from version " +
                             std::to_string(v - 1) + " to " + std::to_string(v) + ": " +
                             r.error().message + " (the file is unchanged)"};
    }
  }
  return {};
}

}  // namespace unlinkd::store::schema
