#pragma once
// How unlinkctl shows the daemon's JSON answers to people: pure functions
// from the JSON (as documented in daemon/control_api.cpp) to text, with no
// I/O, so every table and line is unit-tested directly. Missing fields show
// as "-" rather than failing: an older or newer daemon still gets a table.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace unlinkd::ctl {

// Columns padded to their widest cell, two spaces apart, no trailing blanks.
std::string format_table(const std::vector<std::vector<std::string>>& rows);

// `status`: the health line, then one line per batch.
std::string format_status(const boost::json::value& health, const boost::json::value& batches);
// `batches`: one table row per batch.
std::string format_batches_table(const boost::json::value& batches);
// `show`: the batch, its counts by state and by step, its state reason.
std::string format_batch(const boost::json::value& batch);
// `accounts`: one row per account (the "accounts" arrays of every page,
// concatenated by the caller).
std::string format_accounts_table(const boost::json::value& accounts);
// `history`: the account, then its events oldest first.
std::string format_history(const boost::json::value& account);
// A 422's problems as `FILE:LINE:COL: error: MESSAGE` lines, as `validate`
// prints them, plus a count of those not shown.
std::string format_problems(const std::string& file, const boost::json::value& answer);
// `events`: one line per EVENT, e.g.
// `12  2026-11-26T16:01:00Z  transition  batch 1  account 7001  pending -> preflight  step
// preflight  uid 0  DETAIL`; parts that are missing or empty are left out.
std::string format_event_line(const boost::json::value& event);
// The message of an error answer {"error", "message"}, or the raw body.
std::string error_message(unsigned status, const std::string& body);

// An HTTP status as unlinkctl's exit code (PRODUCT.md §8).
int exit_code_of(unsigned status);

}  // namespace unlinkd::ctl
