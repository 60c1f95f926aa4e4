#pragma once
// The read connection: what status and the control socket ask for. Used
// only by the reader thread, so status never waits behind a commit's fsync.
// Internal to store/.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/account_record.hpp"
#include "store/batch_record.hpp"
#include "store/event_record.hpp"
#include "store/sqlite_database.hpp"
#include "store/store_error.hpp"
#include "store/transition.hpp"

namespace unlinkd::store {

// A page of one batch's accounts, by account ID.
struct account_page_query {
  std::int64_t batch_id = 0;
  std::optional<account_state> state;
  std::string after;  // account IDs greater than this
  std::size_t limit = 100;
};

class read_session {
 public:
  static store_result<read_session> prepare(sqlite::database db);

  store_result<std::vector<event_record>> events_after(std::int64_t seq, std::size_t limit);
  store_result<std::vector<event_record>> account_events(std::int64_t batch_id,
                                                         const std::string& account_id);
  store_result<std::optional<account_record>> find_account(std::int64_t batch_id,
                                                           const std::string& account_id);
  store_result<std::vector<account_record>> accounts(const account_page_query& q);
  store_result<std::vector<batch_record>> batches();
  store_result<std::vector<credential_hold>> credential_holds();

 private:
  explicit read_session(sqlite::database db) : db_(std::move(db)) {}
  store_error sql_error(std::string_view what) const;

  sqlite::database db_;
  sqlite::statement events_after_, account_events_, find_account_, accounts_page_, batches_, holds_;
};

}  // namespace unlinkd::store
