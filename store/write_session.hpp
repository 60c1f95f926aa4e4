#pragma once
// The write connection and everything done with it: ingest, fenced
// transitions, holds, events, claims. Used only by the writer thread, inside
// the group's transaction (claims run between groups). Internal to store/.
//
// Nothing here touches the in-memory counts or hands claims back directly:
// each write records its effects, and the writer applies them only once the
// group's commit is durable.

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/account_record.hpp"
#include "store/count_table.hpp"
#include "store/event_record.hpp"
#include "store/ingest.hpp"
#include "store/sqlite_database.hpp"
#include "store/store_error.hpp"
#include "store/transition.hpp"

namespace spdlog {
class logger;
}

namespace unlinkd::store {

using account_ref = std::pair<std::int64_t, std::string>;  // batch id, account id

// What a write changes outside the database once it is durable.
struct write_effects {
  std::vector<count_delta> deltas;
  std::vector<account_ref> releases;
};

class write_session {
 public:
  static store_result<write_session> prepare(sqlite::database db, spdlog::logger& log);

  store_result<void> begin();
  store_result<void> commit();
  void rollback();
  store_result<void> savepoint();
  store_result<void> release_savepoint();
  void rollback_to_savepoint();

  store_result<ingest_outcome> ingest(const ingest_request& r, time_point now, write_effects& fx);
  store_result<commit_outcome> apply(const transition& t, time_point now, write_effects& fx);
  store_result<commit_outcome> apply(const batch_transition& t, time_point now);
  store_result<void> hold(const credential_hold& h, time_point now);
  store_result<bool> lift_hold(const std::string& profile, std::optional<std::uint32_t> uid,
                               time_point now);
  store_result<std::int64_t> append(const audit_event& a, time_point now);
  store_result<void> tally(const read_tally& t, time_point now);
  store_result<std::int64_t> prune_events(time_point cutoff);

  // Outside any transaction: the runnable accounts whose time has come, of
  // queued or running batches, oldest first, skipping those handed out.
  store_result<std::vector<account_record>> claim(std::size_t limit, time_point now,
                                                  std::optional<std::int64_t> batch_id);
  void release(const account_ref& ref) { claimed_.erase(ref); }
  [[nodiscard]] std::size_t claimed_count() const { return claimed_.size(); }

  // Counts by batch, state and step: read once at open.
  store_result<count_map> count_all();

  sqlite::database& db() { return db_; }

 private:
  write_session(sqlite::database db, spdlog::logger& log) : db_(std::move(db)), log_(&log) {}
  store_result<bool> name_used(const std::string& name);
  // The first free "<batch>-dry-run[-N]".
  store_result<std::string> dry_run_name(const std::string& batch);

  store_error sql_error(std::string_view what) const;
  store_result<std::int64_t> insert_event(const event_record& e);

  sqlite::database db_;
  spdlog::logger* log_;
  std::set<account_ref> claimed_;

  sqlite::statement begin_, commit_, rollback_, savepoint_, release_, rollback_to_;
  sqlite::statement find_manifest_, find_batch_name_, find_busy_account_;
  sqlite::statement insert_batch_, insert_manifest_, insert_account_;
  sqlite::statement find_account_, update_account_;
  sqlite::statement find_batch_state_, update_batch_;
  sqlite::statement insert_event_, upsert_hold_, delete_hold_, upsert_tally_;
  sqlite::statement prune_events_, prune_tallies_;
  std::vector<std::pair<account_state, sqlite::statement>> claim_by_state_;
  std::vector<std::pair<account_state, sqlite::statement>> claim_batch_by_state_;
};

}  // namespace unlinkd::store
