#pragma once
// The schema, versioned by PRAGMA user_version. Each migration takes the
// database from version N-1 to N in one transaction, so a failed upgrade
// leaves the file as it was. Internal to store/ (tests use it to build
// databases at every earlier version).

#include <cstdint>

#include "store/sqlite_database.hpp"
#include "store/store_error.hpp"

namespace unlinkd::store::schema {

// The version this binary writes.
inline constexpr std::int64_t latest_version = 4;

// Applies the connection settings every unlinkd connection uses: WAL,
// synchronous=FULL, foreign keys, the busy timeout.
store_result<void> configure(sqlite::database& db, std::int64_t busy_timeout_ms);

// Reads user_version; refuses a version newer than latest_version; applies
// the migrations up to `target` (latest_version unless a test asks for less).
store_result<void> migrate(sqlite::database& db, std::int64_t target = latest_version);

}  // namespace unlinkd::store::schema
