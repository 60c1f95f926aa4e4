#include "store/write_session.hpp"

#include <algorithm>

#include <spdlog/logger.h>

#include "store/account_row.hpp"

namespace unlinkd::store {
namespace {

constexpr std::string_view insert_account_sql = R"sql(
INSERT INTO accounts (batch_id, account_id, type, label, mode, partner_id, members,
  advertiser_id, active_campaigns, backup_required, reports_since, reports_until,
  verify_deadline_ms, state, step, attempts, next_attempt_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'pending', 'preflight', 0, ?14, ?14)
)sql";

// The fence is in the WHERE clause as well as checked before: the row is
// changed only if it still holds the expected state.
constexpr std::string_view update_account_sql = R"sql(
UPDATE accounts SET state = ?2, step = ?3,
  attempts = COALESCE(?4, attempts),
  next_attempt_at = COALESCE(?5, next_attempt_at),
  last_error_code = CASE ?6 WHEN 1 THEN ?7 WHEN 2 THEN NULL ELSE last_error_code END,
  last_error_message = CASE ?6 WHEN 1 THEN ?8 WHEN 2 THEN NULL ELSE last_error_message END,
  last_error_request_id = CASE ?6 WHEN 1 THEN ?9 WHEN 2 THEN NULL ELSE last_error_request_id END,
  backup_folder = CASE ?10 WHEN 1 THEN ?11 ELSE backup_folder END,
  backup_digest = CASE ?10 WHEN 1 THEN ?12 ELSE backup_digest END,
  campaigns_to_pause = COALESCE(?13, campaigns_to_pause),
  campaigns_paused = COALESCE(?14, campaigns_paused),
  unlink_intent_at = CASE ?24 WHEN 1 THEN NULL ELSE COALESCE(?15, unlink_intent_at) END,
  unlink_sent_at = COALESCE(?16, unlink_sent_at),
  updated_at = ?17,
  unlink_sends = COALESCE(?19, unlink_sends),
  api_calls = api_calls + ?20,
  started_at = COALESCE(started_at, ?17),
  ended_at = CASE WHEN ?2 IN ('done', 'failed', 'cancelled') THEN ?17 ELSE NULL END,
  plan_action = COALESCE(?21, plan_action),
  plan_api_calls = COALESCE(?22, plan_api_calls),
  plan_time_ms = COALESCE(?23, plan_time_ms)
WHERE id = ?1 AND state = ?18
)sql";

// CROSS JOIN keeps accounts as the outer loop, so the (state,
// next_attempt_at) index delivers rows in time order and the scan stops as
// soon as a page is full: no sort, however many accounts are finished.
constexpr std::string_view claim_sql_head = "SELECT ";
constexpr std::string_view claim_sql_tail = R"sql(
FROM accounts AS a INDEXED BY accounts_ready CROSS JOIN batches AS b ON b.id = a.batch_id
WHERE a.state = ?1 AND a.next_attempt_at <= ?2 AND b.state IN ('queued', 'running')
ORDER BY a.next_attempt_at
)sql";

// The same for one batch (the scheduler claims batch by batch, round-robin,
// each within its own concurrency), on the (batch_id, state,
// next_attempt_at) index.
constexpr std::string_view claim_batch_sql_tail = R"sql(
FROM accounts AS a INDEXED BY accounts_ready_by_batch CROSS JOIN batches AS b ON b.id = a.batch_id
WHERE a.batch_id = ?3 AND a.state = ?1 AND a.next_attempt_at <= ?2
  AND b.state IN ('queued', 'running')
ORDER BY a.next_attempt_at
)sql";

std::string notify_text(const std::vector<std::string>& urls) {
  std::string out;
  for (const auto& u : urls) {
    if (!out.empty()) {
      out += '\n';
    }
    out += u;
  }
  return out;
}

std::optional<std::int64_t> opt(const std::optional<std::uint32_t>& v) {
  if (!v) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*v);
}

std::optional<std::int64_t> opt_ms(const std::optional<std::chrono::milliseconds>& v) {
  if (!v) {
    return std::nullopt;
  }
  return v->count();
}

}  // namespace

store_result<write_session> write_session::prepare(sqlite::database db, spdlog::logger& log) {
  write_session s(std::move(db), log);
  auto p = [&s](sqlite::statement& into, std::string_view sql) -> store_result<void> {
    auto st = s.db_.prepare(sql);
    if (!st) {
      return st.error();
    }
    into = std::move(*st);
    return {};
  };
  const std::pair<sqlite::statement*, std::string_view> all[] = {
      {&s.begin_, "BEGIN IMMEDIATE"},
      {&s.commit_, "COMMIT"},
      {&s.rollback_, "ROLLBACK"},
      {&s.savepoint_, "SAVEPOINT write_op"},
      {&s.release_, "RELEASE write_op"},
      {&s.rollback_to_, "ROLLBACK TO write_op"},
      {&s.find_manifest_,
       "SELECT m.batch_id, b.name FROM manifests AS m JOIN batches AS b ON b.id = m.batch_id "
       "WHERE m.sha256 = ?1"},
      {&s.find_batch_name_, "SELECT id FROM batches WHERE name = ?1"},
      {&s.find_busy_account_,
       "SELECT b.name FROM accounts AS a JOIN batches AS b ON b.id = a.batch_id "
       "WHERE a.account_id = ?1 AND b.state NOT IN ('cancelled', 'completed') LIMIT 1"},
      {&s.insert_batch_,
       "INSERT INTO batches (name, manifest_sha256, source_file, submitter_uid, requested_by, "
       "credentials, business_center_id, action, dry_run, notify, concurrency, max_attempts, "
       "initial_backoff_ms, max_backoff_ms, state, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
       "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 'queued', ?15)"},
      {&s.insert_manifest_,
       "INSERT INTO manifests (sha256, batch_id, source_file, submitter_uid, accepted_at) "
       "VALUES (?1, ?2, ?3, ?4, ?5)"},
      {&s.insert_account_, insert_account_sql},
      {&s.find_account_,
       "SELECT id, state, step FROM accounts WHERE batch_id = ?1 AND account_id = ?2"},
      {&s.update_account_, update_account_sql},
      {&s.find_batch_state_, "SELECT state FROM batches WHERE id = ?1"},
      {&s.update_batch_,
       "UPDATE batches SET state = ?2, state_reason = ?3, "
       "finished_at = CASE WHEN ?4 THEN ?5 ELSE NULL END WHERE id = ?1 AND state = ?6"},
      {&s.insert_event_,
       "INSERT INTO events (at, batch_id, account_id, uid, kind, from_state, to_state, step, "
       "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
      {&s.upsert_hold_,
       "INSERT INTO credential_holds (profile, reason, held_at, uid) VALUES (?1, ?2, ?3, ?4) "
       "ON CONFLICT (profile) DO UPDATE SET reason = excluded.reason"},
      {&s.delete_hold_, "DELETE FROM credential_holds WHERE profile = ?1"},
      {&s.upsert_tally_,
       "INSERT INTO read_tallies (batch_id, account_id, step, calls, last_at) "
       "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (batch_id, account_id, step) DO UPDATE SET "
       "calls = calls + excluded.calls, last_at = excluded.last_at"},
      {&s.prune_events_,
       "DELETE FROM events WHERE batch_id IN (SELECT id FROM batches WHERE finished_at IS NOT "
       "NULL AND finished_at < ?1)"},
      {&s.prune_tallies_,
       "DELETE FROM read_tallies WHERE batch_id IN (SELECT id FROM batches WHERE finished_at IS "
       "NOT NULL AND finished_at < ?1)"},
  };
  for (const auto& [into, sql] : all) {
    if (auto r = p(*into, sql); !r) {
      return r.error();
    }
  }
  const std::string claim_sql = std::string(claim_sql_head) + std::string(rows::account_columns) +
                                std::string(claim_sql_tail);
  const std::string claim_batch_sql = std::string(claim_sql_head) +
                                      std::string(rows::account_columns) +
                                      std::string(claim_batch_sql_tail);
  for (auto state : all_account_states) {
    if (!is_runnable(state)) {
      continue;
    }
    auto st = s.db_.prepare(claim_sql);
    if (!st) {
      return st.error();
    }
    s.claim_by_state_.emplace_back(state, std::move(*st));
    auto by_batch = s.db_.prepare(claim_batch_sql);
    if (!by_batch) {
      return by_batch.error();
    }
    s.claim_batch_by_state_.emplace_back(state, std::move(*by_batch));
  }
  return s;
}

store_error write_session::sql_error(std::string_view what) const {
  return store_error{store_errc::sql_error, std::string(what) + ": " + db_.error_message()};
}

store_result<void> write_session::begin() {
  const sqlite::statement_use use(begin_);
  if (!begin_.run()) {
    return sql_error("cannot begin a write transaction");
  }
  return {};
}

store_result<void> write_session::commit() {
  const sqlite::statement_use use(commit_);
  if (!commit_.run()) {
    return sql_error("cannot commit");
  }
  return {};
}

void write_session::rollback() {
  const sqlite::statement_use use(rollback_);
  (void)rollback_.run();  // fails only when SQLite already rolled back
}

store_result<void> write_session::savepoint() {
  const sqlite::statement_use use(savepoint_);
  if (!savepoint_.run()) {
    return sql_error("cannot open a savepoint");
  }
  return {};
}

store_result<void> write_session::release_savepoint() {
  const sqlite::statement_use use(release_);
  if (!release_.run()) {
    return sql_error("cannot release a savepoint");
  }
  return {};
}

void write_session::rollback_to_savepoint() {
  {
    const sqlite::statement_use use(rollback_to_);
    (void)rollback_to_.run();
  }
  (void)release_savepoint();
}

store_result<std::int64_t> write_session::insert_event(const event_record& e) {
  const sqlite::statement_use use(insert_event_);
  insert_event_.bind(1, rows::to_ms(e.at));
  insert_event_.bind(2, e.batch_id);
  insert_event_.bind(3, e.account_id);
  insert_event_.bind(4, opt(e.uid));
  insert_event_.bind(5, e.kind);
  insert_event_.bind(6, e.from_state);
  insert_event_.bind(7, e.to_state);
  insert_event_.bind(8, e.step);
  insert_event_.bind(9, e.detail);
  if (!insert_event_.run()) {
    return sql_error("cannot append an event");
  }
  return db_.last_insert_rowid();
}

store_result<ingest_outcome> write_session::ingest(const ingest_request& r, time_point now,
                                                   write_effects& fx) {
  const auto& m = r.manifest;
  // A dry run reserves neither the manifest's bytes nor its batch name, so
  // the same file can be submitted for real once its plan is read: it is
  // stored as "<batch>-dry-run" (then "-dry-run-2", ...).
  std::string name = m.batch;
  if (m.dry_run) {
    auto free_name = dry_run_name(m.batch);
    if (!free_name) {
      return free_name.error();
    }
    name = std::move(*free_name);
  } else {
    const sqlite::statement_use use(find_manifest_);
    find_manifest_.bind(1, r.sha256);
    const int rc = find_manifest_.step();
    if (sqlite::is_row(rc)) {
      return ingest_duplicate{find_manifest_.column_int(0), find_manifest_.column_text(1)};
    }
    if (!sqlite::is_done(rc)) {
      return sql_error("cannot look up the manifest's hash");
    }
  }
  if (!m.dry_run) {
    auto used = name_used(m.batch);
    if (!used) {
      return used.error();
    }
    if (*used) {
      return ingest_name_used{m.batch};
    }
  }
  for (const auto& a : m.accounts) {
    const sqlite::statement_use use(find_busy_account_);
    find_busy_account_.bind(1, a.id);
    const int rc = find_busy_account_.step();
    if (sqlite::is_row(rc)) {
      return ingest_account_busy{a.id, find_busy_account_.column_text(0)};
    }
    if (!sqlite::is_done(rc)) {
      return sql_error("cannot look up account " + a.id);
    }
  }

  const auto now_ms = rows::to_ms(now);
  std::int64_t batch_id = 0;
  {
    auto& s = insert_batch_;
    const sqlite::statement_use use(s);
    s.bind(1, name);
    s.bind(2, r.sha256);
    s.bind(3, r.source_file);
    s.bind(4, static_cast<std::int64_t>(r.submitter_uid));
    s.bind(5, m.requested_by);
    s.bind(6, m.credentials);
    s.bind(7, m.business_center_id);
    s.bind(8, config::to_string(m.action));
    s.bind(9, std::int64_t{m.dry_run ? 1 : 0});
    s.bind(10, notify_text(m.notify));
    s.bind(11, opt(m.concurrency));
    s.bind(12, opt(m.retry.max_attempts));
    s.bind(13, opt_ms(m.retry.initial_backoff));
    s.bind(14, opt_ms(m.retry.max_backoff));
    s.bind(15, now_ms);
    if (!s.run()) {
      return sql_error("cannot store batch '" + name + "'");
    }
    batch_id = db_.last_insert_rowid();
  }
  if (!m.dry_run) {
    auto& s = insert_manifest_;
    const sqlite::statement_use use(s);
    s.bind(1, r.sha256);
    s.bind(2, batch_id);
    s.bind(3, r.source_file);
    s.bind(4, static_cast<std::int64_t>(r.submitter_uid));
    s.bind(5, now_ms);
    if (!s.run()) {
      return sql_error("cannot record the manifest");
    }
  }
  for (const auto& a : m.accounts) {
    auto& s = insert_account_;
    const sqlite::statement_use use(s);
    s.bind(1, batch_id);
    s.bind(2, a.id);
    s.bind(3, config::to_string(a.type));
    s.bind(4, a.label);
    if (a.mode) {
      s.bind(5, config::to_string(*a.mode));
    } else {
      s.bind_null(5);
    }
    s.bind(6, a.partner_id);
    s.bind(7, rows::join_ids(a.members));
    s.bind(8, a.advertiser_id);
    s.bind(9, config::to_string(a.active_campaigns));
    s.bind(10, std::int64_t{a.backup.required ? 1 : 0});
    s.bind(11, rows::to_text(a.backup.reports_since));
    s.bind(12, rows::to_text(a.backup.reports_until));
    s.bind(13, static_cast<std::int64_t>(a.verify_deadline.count()));
    s.bind(14, now_ms);
    if (!s.run()) {
      return sql_error("cannot store account " + a.id);
    }
  }
  event_record e;
  e.at = now;
  e.batch_id = batch_id;
  e.uid = r.submitter_uid;
  e.kind = "batch_accepted";
  e.to_state = to_string(batch_state::queued);
  e.detail = std::to_string(m.accounts.size()) + " accounts from " + r.source_file + " (sha256 " +
             r.sha256 + ")" + (m.requested_by.empty() ? "" : ", requested by " + m.requested_by);
  if (auto seq = insert_event(e); !seq) {
    return seq.error();
  }
  if (!m.accounts.empty()) {
    fx.deltas.push_back({{batch_id, account_state::pending, pipeline_step::preflight},
                         static_cast<std::int64_t>(m.accounts.size())});
  }
  return ingest_accepted{batch_id, name};
}

store_result<bool> write_session::name_used(const std::string& name) {
  const sqlite::statement_use use(find_batch_name_);
  find_batch_name_.bind(1, name);
  const int rc = find_batch_name_.step();
  if (!sqlite::is_row(rc) && !sqlite::is_done(rc)) {
    return sql_error("cannot look up the batch name");
  }
  return sqlite::is_row(rc);
}

store_result<std::string> write_session::dry_run_name(const std::string& batch) {
  for (int n = 1; n <= 10'000; ++n) {
    std::string name = batch + "-dry-run" + (n == 1 ? std::string() : "-" + std::to_string(n));
    auto used = name_used(name);
    if (!used) {
      return used.error();
    }
    if (!*used) {
      return name;
    }
  }
  return store_error{store_errc::sql_error,
                     "batch '" + batch + "' has had 10,000 dry runs; choose a new batch name"};
}

store_result<commit_outcome> write_session::apply(const transition& t, time_point now,
                                                  write_effects& fx) {
  std::int64_t row = 0;
  std::string held_state;
  std::string held_step;
  {
    const sqlite::statement_use use(find_account_);
    find_account_.bind(1, t.batch_id);
    find_account_.bind(2, t.account_id);
    const int rc = find_account_.step();
    if (sqlite::is_done(rc)) {
      return store_error{store_errc::not_found,
                         "no account " + t.account_id + " in batch " + std::to_string(t.batch_id)};
    }
    if (!sqlite::is_row(rc)) {
      return sql_error("cannot read account " + t.account_id);
    }
    row = find_account_.column_int(0);
    held_state = find_account_.column_text(1);
    held_step = find_account_.column_text(2);
  }
  if (t.release_claim) {
    fx.releases.emplace_back(t.batch_id, t.account_id);
  }

  event_record e;
  e.at = now;
  e.batch_id = t.batch_id;
  e.account_id = t.account_id;
  e.uid = t.event.uid;
  e.step = to_string(t.step);

  if (held_state != to_string(t.expected)) {
    log_->warn("batch {} account {}: refused a stale transition {} -> {} (the account is {})",
               t.batch_id, t.account_id, to_string(t.expected), to_string(t.to), held_state);
    e.kind = "stale_transition_refused";
    e.from_state = to_string(t.expected);
    e.to_state = to_string(t.to);
    e.detail = "the account is " + held_state + "; " + t.event.kind +
               (t.event.detail.empty() ? "" : ": " + t.event.detail);
    if (auto seq = insert_event(e); !seq) {
      return seq.error();
    }
    return commit_outcome::stale;
  }

  const auto now_ms = rows::to_ms(now);
  {
    auto& s = update_account_;
    const sqlite::statement_use use(s);
    s.bind(1, row);
    s.bind(2, to_string(t.to));
    s.bind(3, to_string(t.step));
    s.bind(4, opt(t.attempts));
    if (t.next_attempt_at) {
      s.bind(5, rows::to_ms(*t.next_attempt_at));
    }
    if (t.last_error) {
      s.bind(6, std::int64_t{1});
      s.bind(7, t.last_error->code);
      s.bind(8, t.last_error->message);
      s.bind(9, t.last_error->request_id);
    } else if (t.clear_last_error) {
      s.bind(6, std::int64_t{2});
    } else {
      s.bind(6, std::int64_t{0});
    }
    if (t.backup) {
      s.bind(10, std::int64_t{1});
      s.bind(11, t.backup->folder);
      s.bind(12, t.backup->digest);
    } else {
      s.bind(10, std::int64_t{0});
    }
    if (t.campaigns_to_pause) {
      s.bind(13, rows::join_ids(*t.campaigns_to_pause));
    }
    if (t.campaigns_paused) {
      s.bind(14, rows::join_ids(*t.campaigns_paused));
    }
    if (t.unlink_intent_at) {
      s.bind(15, rows::to_ms(*t.unlink_intent_at));
    }
    if (t.unlink_sent_at) {
      s.bind(16, rows::to_ms(*t.unlink_sent_at));
    }
    s.bind(17, now_ms);
    s.bind(18, to_string(t.expected));
    s.bind(19, opt(t.unlink_sends));
    s.bind(20, static_cast<std::int64_t>(t.api_calls));
    if (t.plan) {
      s.bind(21, t.plan->action);
      s.bind(22, static_cast<std::int64_t>(t.plan->estimated_api_calls));
      s.bind(23, static_cast<std::int64_t>(t.plan->estimated_time.count()));
    }
    s.bind(24, std::int64_t{t.clear_unlink_intent ? 1 : 0});
    if (!s.run()) {
      return sql_error("cannot update account " + t.account_id);
    }
    if (db_.changes() != 1) {
      return sql_error("account " + t.account_id + " changed under the writer");
    }
  }
  e.kind = t.event.kind;
  e.from_state = held_state;
  e.to_state = to_string(t.to);
  e.detail = t.event.detail;
  if (t.last_error && e.detail.empty()) {
    e.detail = "code " + std::to_string(t.last_error->code) + ": " + t.last_error->message +
               " (request_id " + t.last_error->request_id + ")";
  }
  if (auto seq = insert_event(e); !seq) {
    return seq.error();
  }

  const auto old_step = pipeline_step_from_string(held_step).value_or(pipeline_step::preflight);
  if (t.expected != t.to || old_step != t.step) {
    fx.deltas.push_back({{t.batch_id, t.expected, old_step}, -1});
    fx.deltas.push_back({{t.batch_id, t.to, t.step}, +1});
  }
  return commit_outcome::applied;
}

store_result<commit_outcome> write_session::apply(const batch_transition& t, time_point now) {
  std::string held;
  {
    const sqlite::statement_use use(find_batch_state_);
    find_batch_state_.bind(1, t.batch_id);
    const int rc = find_batch_state_.step();
    if (sqlite::is_done(rc)) {
      return store_error{store_errc::not_found, "no batch " + std::to_string(t.batch_id)};
    }
    if (!sqlite::is_row(rc)) {
      return sql_error("cannot read batch " + std::to_string(t.batch_id));
    }
    held = find_batch_state_.column_text(0);
  }
  event_record e;
  e.at = now;
  e.batch_id = t.batch_id;
  e.uid = t.event.uid;
  e.from_state = to_string(t.expected);
  e.to_state = to_string(t.to);
  if (held != to_string(t.expected)) {
    log_->warn("batch {}: refused a stale transition {} -> {} (the batch is {})", t.batch_id,
               to_string(t.expected), to_string(t.to), held);
    e.kind = "stale_transition_refused";
    e.detail = "the batch is " + held + "; " + t.event.kind;
    if (auto seq = insert_event(e); !seq) {
      return seq.error();
    }
    return commit_outcome::stale;
  }
  {
    auto& s = update_batch_;
    const sqlite::statement_use use(s);
    s.bind(1, t.batch_id);
    s.bind(2, to_string(t.to));
    s.bind(3, t.reason);
    s.bind(4, std::int64_t{is_finished(t.to) ? 1 : 0});
    s.bind(5, rows::to_ms(now));
    s.bind(6, to_string(t.expected));
    if (!s.run()) {
      return sql_error("cannot update batch " + std::to_string(t.batch_id));
    }
  }
  e.kind = t.event.kind;
  e.detail = t.event.detail.empty() ? t.reason : t.event.detail;
  if (auto seq = insert_event(e); !seq) {
    return seq.error();
  }
  return commit_outcome::applied;
}

store_result<void> write_session::hold(const credential_hold& h, time_point now) {
  {
    const sqlite::statement_use use(upsert_hold_);
    upsert_hold_.bind(1, h.profile);
    upsert_hold_.bind(2, h.reason);
    upsert_hold_.bind(3, rows::to_ms(now));
    upsert_hold_.bind(4, opt(h.uid));
    if (!upsert_hold_.run()) {
      return sql_error("cannot hold credential " + h.profile);
    }
  }
  event_record e;
  e.at = now;
  e.uid = h.uid;
  e.kind = "credential_held";
  e.detail = h.profile + ": " + h.reason;
  if (auto seq = insert_event(e); !seq) {
    return seq.error();
  }
  return {};
}

store_result<bool> write_session::lift_hold(const std::string& profile,
                                            std::optional<std::uint32_t> uid, time_point now) {
  {
    const sqlite::statement_use use(delete_hold_);
    delete_hold_.bind(1, profile);
    if (!delete_hold_.run()) {
      return sql_error("cannot lift the hold on " + profile);
    }
  }
  if (db_.changes() == 0) {
    return false;
  }
  event_record e;
  e.at = now;
  e.uid = uid;
  e.kind = "credential_hold_lifted";
  e.detail = profile;
  if (auto seq = insert_event(e); !seq) {
    return seq.error();
  }
  return true;
}

store_result<std::int64_t> write_session::append(const audit_event& a, time_point now) {
  event_record e;
  e.at = now;
  e.batch_id = a.batch_id;
  e.account_id = a.account_id;
  e.uid = a.uid;
  e.kind = a.kind;
  e.detail = a.detail;
  return insert_event(e);
}

store_result<void> write_session::tally(const read_tally& t, time_point now) {
  const sqlite::statement_use use(upsert_tally_);
  upsert_tally_.bind(1, t.batch_id);
  upsert_tally_.bind(2, t.account_id);
  upsert_tally_.bind(3, to_string(t.step));
  upsert_tally_.bind(4, static_cast<std::int64_t>(t.calls));
  upsert_tally_.bind(5, rows::to_ms(now));
  if (!upsert_tally_.run()) {
    return sql_error("cannot tally reads of " + t.account_id);
  }
  return {};
}

store_result<std::int64_t> write_session::prune_events(time_point cutoff) {
  std::int64_t removed = 0;
  {
    const sqlite::statement_use use(prune_events_);
    prune_events_.bind(1, rows::to_ms(cutoff));
    if (!prune_events_.run()) {
      return sql_error("cannot prune events");
    }
    removed = db_.changes();
  }
  const sqlite::statement_use use(prune_tallies_);
  prune_tallies_.bind(1, rows::to_ms(cutoff));
  if (!prune_tallies_.run()) {
    return sql_error("cannot prune read tallies");
  }
  return removed;
}

store_result<std::vector<account_record>> write_session::claim(
    std::size_t limit, time_point now, std::optional<std::int64_t> batch_id) {
  std::vector<account_record> found;
  if (limit == 0) {
    return found;
  }
  const auto now_ms = rows::to_ms(now);
  for (auto& [state, s] : batch_id ? claim_batch_by_state_ : claim_by_state_) {
    const sqlite::statement_use use(s);
    s.bind(1, to_string(state));
    s.bind(2, now_ms);
    if (batch_id) {
      s.bind(3, *batch_id);
    }
    std::size_t taken = 0;
    int rc = s.step();
    for (; sqlite::is_row(rc) && taken < limit; rc = s.step()) {
      account_ref ref{s.column_int(0), s.column_text(1)};
      if (claimed_.contains(ref)) {
        continue;
      }
      found.push_back(rows::read_account(s));
      ++taken;
    }
    if (!sqlite::is_row(rc) && !sqlite::is_done(rc)) {
      return sql_error("cannot read ready accounts");
    }
  }
  // Each state's rows came in time order; the page is the oldest `limit`.
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.next_attempt_at < b.next_attempt_at;
  });
  if (found.size() > limit) {
    found.resize(limit);
  }
  for (const auto& a : found) {
    claimed_.emplace(a.batch_id, a.settings.id);
  }
  return found;
}

store_result<count_map> write_session::count_all() {
  auto s = db_.prepare(
      "SELECT batch_id, state, step, count(*) FROM accounts GROUP BY batch_id, state, step");
  if (!s) {
    return s.error();
  }
  count_map counts;
  int rc = s->step();
  for (; sqlite::is_row(rc); rc = s->step()) {
    auto state = account_state_from_string(s->column_text(1));
    auto step = pipeline_step_from_string(s->column_text(2));
    if (!state || !step) {
      return store_error{store_errc::sql_error, "an account has an unknown state '" +
                                                    s->column_text(1) + "' or step '" +
                                                    s->column_text(2) + "'"};
    }
    counts[count_key{s->column_int(0), *state, *step}] = s->column_int(3);
  }
  if (!sqlite::is_done(rc)) {
    return sql_error("cannot count accounts");
  }
  return counts;
}

}  // namespace unlinkd::store
