#include "store/sqlite_database.hpp"

#include <utility>

#include <sqlite3.h>

namespace unlinkd::store::sqlite {

store_result<database> database::open(const std::string& path, mode m) {
  int flags = SQLITE_OPEN_NOMUTEX;  // one connection is only ever used by one thread
  switch (m) {
    case mode::read_write_create:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
    case mode::read_write:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case mode::read_only:
      flags |= SQLITE_OPEN_READONLY;
      break;
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  database db(raw);  // closes `raw` on every path, even when opening failed
  if (rc != SQLITE_OK) {
    std::string why = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return store_error{store_errc::cannot_open, "cannot open the database '" + path + "': " + why};
  }
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

database::database(database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

database& database::operator=(database&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

database::~database() { sqlite3_close_v2(db_); }

store_result<void> database::exec(std::string_view sql) {
  const std::string text(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err != nullptr ? err : error_message();
    sqlite3_free(err);
    return store_error{store_errc::sql_error, why};
  }
  return {};
}

store_result<statement> database::prepare(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &raw, nullptr) != SQLITE_OK) {
    return store_error{store_errc::sql_error,
                       "cannot prepare '" + std::string(sql) + "': " + error_message()};
  }
  return statement(raw);
}

store_result<std::int64_t> database::query_int(std::string_view sql) {
  auto stmt = prepare(sql);
  if (!stmt) {
    return stmt.error();
  }
  const int rc = stmt->step();
  if (rc != SQLITE_ROW) {
    return store_error{store_errc::sql_error,
                       "'" + std::string(sql) + "' returned no value: " + error_message()};
  }
  return stmt->column_int(0);
}

std::string database::error_message() const {
  return db_ != nullptr ? sqlite3_errmsg(db_) : "no database";
}

int database::changes() const { return sqlite3_changes(db_); }

std::int64_t database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

statement::statement(statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}

statement& statement::operator=(statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

statement::~statement() { sqlite3_finalize(stmt_); }

void statement::bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

void statement::bind(int index, std::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void statement::bind_null(int index) { sqlite3_bind_null(stmt_, index); }

void statement::bind(int index, const std::optional<std::int64_t>& value) {
  if (value) {
    bind(index, *value);
  } else {
    bind_null(index);
  }
}

int statement::step() { return sqlite3_step(stmt_); }

bool statement::run() {
  int rc = SQLITE_ROW;
  while (rc == SQLITE_ROW) {
    rc = step();
  }
  return rc == SQLITE_DONE;
}

void statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string statement::column_text(int index) const {
  const auto* text = sqlite3_column_text(stmt_, index);
  if (text == nullptr) {
    return {};
  }
  return {reinterpret_cast<const char*>(text),
          static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index))};
}

std::optional<std::int64_t> statement::column_optional_int(int index) const {
  if (column_is_null(index)) {
    return std::nullopt;
  }
  return column_int(index);
}

bool statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

bool is_row(int rc) { return rc == SQLITE_ROW; }
bool is_done(int rc) { return rc == SQLITE_DONE; }

}  // namespace unlinkd::store::sqlite
