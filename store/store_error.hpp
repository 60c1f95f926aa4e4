#pragma once
// The store's expected failures, as values: every one carries a sentence an
// operator can act on (SQLite's own message included where it helps).

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace unlinkd::store {

enum class store_errc : std::uint8_t {
  cannot_open,       // the file cannot be opened or configured
  newer_schema,      // written by a newer unlinkd; this binary refuses to touch it
  migration_failed,  // an upgrade of an older schema failed (nothing was changed)
  sql_error,         // a statement or commit failed (disk full, I/O error, ...)
  not_found,         // a write named a batch or account the store does not hold
  closed,            // the store is shutting down and took no new work
};

std::string_view to_string(store_errc e);

struct store_error {
  store_errc code = store_errc::sql_error;
  std::string message;
};

// For result<T, store_error>::value(): an unexpected failure becomes an exception.
[[noreturn]] void throw_exception_from_error(const store_error& e,
                                             const boost::source_location& loc);

template <class T>
using store_result = boost::system::result<T, store_error>;

}  // namespace unlinkd::store
