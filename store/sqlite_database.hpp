#pragma once
// RAII over sqlite3 handles. Internal to store/: the public headers never
// include this file, so sqlite3.h stays out of the rest of unlinkd.
//
// Error policy: opening and preparing report failures as values (a missing
// directory, a corrupt file); stepping a statement returns the SQLite result
// code and the caller turns it into a store_error with `error_message()`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/store_error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace unlinkd::store::sqlite {

class statement;

class database {
 public:
  enum class mode : std::uint8_t { read_write_create, read_write, read_only };

  // Opens `path`; the connection is configured by the caller (pragmas).
  static store_result<database> open(const std::string& path, mode m);

  database() = default;
  database(database&& other) noexcept;
  database& operator=(database&& other) noexcept;
  database(const database&) = delete;
  database& operator=(const database&) = delete;
  ~database();

  // Runs one or more statements that return no rows worth reading.
  store_result<void> exec(std::string_view sql);
  store_result<statement> prepare(std::string_view sql);

  // A single integer from a query such as `PRAGMA user_version`.
  store_result<std::int64_t> query_int(std::string_view sql);

  [[nodiscard]] std::string error_message() const;
  [[nodiscard]] int changes() const;
  [[nodiscard]] std::int64_t last_insert_rowid() const;
  [[nodiscard]] sqlite3* handle() const { return db_; }

 private:
  explicit database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// A prepared statement, prepared once and reused: `reset()` between uses.
class statement {
 public:
  statement() = default;
  statement(statement&& other) noexcept;
  statement& operator=(statement&& other) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  // Parameters are 1-based, as in SQLite.
  void bind(int index, std::int64_t value);
  void bind(int index, std::string_view value);  // copied by SQLite
  void bind_null(int index);
  void bind(int index, const std::optional<std::int64_t>& value);

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step();
  // Steps until SQLITE_DONE; false on an error.
  bool run();
  void reset();

  [[nodiscard]] std::int64_t column_int(int index) const;
  [[nodiscard]] std::string column_text(int index) const;
  [[nodiscard]] std::optional<std::int64_t> column_optional_int(int index) const;
  [[nodiscard]] bool column_is_null(int index) const;

 private:
  friend class database;
  explicit statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement when a use of it ends, however it ends.
class statement_use {
 public:
  explicit statement_use(statement& s) : s_(s) {}
  statement_use(const statement_use&) = delete;
  statement_use& operator=(const statement_use&) = delete;
  ~statement_use() { s_.reset(); }

 private:
  statement& s_;
};

// SQLITE_ROW / SQLITE_DONE without including sqlite3.h.
bool is_row(int rc);
bool is_done(int rc);

}  // namespace unlinkd::store::sqlite
