#include "store/read_session.hpp"

#include "store/account_row.hpp"

namespace unlinkd::store {

store_result<read_session> read_session::prepare(sqlite::database db) {
  read_session s(std::move(db));
  const std::string accounts =
      "SELECT " + std::string(rows::account_columns) + " FROM accounts AS a ";
  const std::string events = "SELECT " + std::string(rows::event_columns) + " FROM events AS e ";
  const std::pair<sqlite::statement*, std::string> all[] = {
      {&s.events_after_, events + "WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2"},
      {&s.account_events_, events + "WHERE e.batch_id = ?1 AND e.account_id = ?2 ORDER BY e.seq"},
      {&s.find_account_, accounts + "WHERE a.batch_id = ?1 AND a.account_id = ?2"},
      {&s.accounts_page_, accounts + "WHERE a.batch_id = ?1 AND (?2 IS NULL OR a.state = ?2) AND "
                                     "a.account_id > ?3 ORDER BY a.account_id LIMIT ?4"},
      {&s.batches_,
       "SELECT " + std::string(rows::batch_columns) + " FROM batches AS b ORDER BY b.id"},
      {&s.holds_, "SELECT profile, reason, uid FROM credential_holds ORDER BY profile"},
  };
  for (const auto& [into, sql] : all) {
    auto st = s.db_.prepare(sql);
    if (!st) {
      return st.error();
    }
    *into = std::move(*st);
  }
  return s;
}

store_error read_session::sql_error(std::string_view what) const {
  return store_error{store_errc::sql_error, std::string(what) + ": " + db_.error_message()};
}

namespace {

template <class T, class Read>
store_result<std::vector<T>> collect(sqlite::statement& s, Read read, bool& failed) {
  std::vector<T> out;
  int rc = s.step();
  for (; sqlite::is_row(rc); rc = s.step()) {
    out.push_back(read(s));
  }
  failed = !sqlite::is_done(rc);
  return out;
}

}  // namespace

store_result<std::vector<event_record>> read_session::events_after(std::int64_t seq,
                                                                   std::size_t limit) {
  const sqlite::statement_use use(events_after_);
  events_after_.bind(1, seq);
  events_after_.bind(2, static_cast<std::int64_t>(limit));
  bool failed = false;
  auto out = collect<event_record>(
      events_after_, [](auto& s) { return rows::read_event(s); }, failed);
  if (failed) {
    return sql_error("cannot read events");
  }
  return out;
}

store_result<std::vector<event_record>> read_session::account_events(
    std::int64_t batch_id, const std::string& account_id) {
  const sqlite::statement_use use(account_events_);
  account_events_.bind(1, batch_id);
  account_events_.bind(2, account_id);
  bool failed = false;
  auto out = collect<event_record>(
      account_events_, [](auto& s) { return rows::read_event(s); }, failed);
  if (failed) {
    return sql_error("cannot read the events of account " + account_id);
  }
  return out;
}

store_result<std::optional<account_record>> read_session::find_account(
    std::int64_t batch_id, const std::string& account_id) {
  const sqlite::statement_use use(find_account_);
  find_account_.bind(1, batch_id);
  find_account_.bind(2, account_id);
  const int rc = find_account_.step();
  if (sqlite::is_row(rc)) {
    return std::optional<account_record>(rows::read_account(find_account_));
  }
  if (!sqlite::is_done(rc)) {
    return sql_error("cannot read account " + account_id);
  }
  return std::optional<account_record>();
}

store_result<std::vector<account_record>> read_session::accounts(const account_page_query& q) {
  const sqlite::statement_use use(accounts_page_);
  accounts_page_.bind(1, q.batch_id);
  if (q.state) {
    accounts_page_.bind(2, to_string(*q.state));
  }
  accounts_page_.bind(3, q.after);
  accounts_page_.bind(4, static_cast<std::int64_t>(q.limit));
  bool failed = false;
  auto out = collect<account_record>(
      accounts_page_, [](auto& s) { return rows::read_account(s); }, failed);
  if (failed) {
    return sql_error("cannot read accounts");
  }
  return out;
}

store_result<std::vector<batch_record>> read_session::batches() {
  const sqlite::statement_use use(batches_);
  bool failed = false;
  auto out = collect<batch_record>(
      batches_, [](auto& s) { return rows::read_batch(s); }, failed);
  if (failed) {
    return sql_error("cannot read batches");
  }
  return out;
}

store_result<std::vector<credential_hold>> read_session::credential_holds() {
  const sqlite::statement_use use(holds_);
  bool failed = false;
  auto out = collect<credential_hold>(
      holds_,
      [](auto& s) {
        credential_hold h{s.column_text(0), s.column_text(1), std::nullopt};
        if (auto uid = s.column_optional_int(2)) {
          h.uid = static_cast<std::uint32_t>(*uid);
        }
        return h;
      },
      failed);
  if (failed) {
    return sql_error("cannot read credential holds");
  }
  return out;
}

}  // namespace unlinkd::store
