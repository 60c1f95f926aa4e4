#pragma once
// How accounts, batches and events map to rows: the column lists and the
// decoding shared by the writer (claims) and the reader (status). Internal.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/account_record.hpp"
#include "store/batch_record.hpp"
#include "store/event_record.hpp"
#include "store/sqlite_database.hpp"

namespace unlinkd::store::rows {

std::int64_t to_ms(time_point t);
time_point from_ms(std::int64_t ms);

// IDs are digit strings, so a comma never appears inside one.
std::string join_ids(const std::vector<std::string>& ids);
std::vector<std::string> split_ids(std::string_view text);

std::string to_text(std::chrono::year_month_day d);  // YYYY-MM-DD

// Columns of `accounts AS a`, in the order read_account() reads them.
extern const std::string_view account_columns;
account_record read_account(const sqlite::statement& s, int first = 0);

extern const std::string_view batch_columns;
batch_record read_batch(const sqlite::statement& s, int first = 0);

extern const std::string_view event_columns;
event_record read_event(const sqlite::statement& s, int first = 0);

}  // namespace unlinkd::store::rows
