#include "store/store_error.hpp"

#include <stdexcept>

#include <boost/throw_exception.hpp>

namespace unlinkd::store {

std::string_view to_string(store_errc e) {
  switch (e) {
    case store_errc::cannot_open:
      return "cannot_open";
    case store_errc::newer_schema:
      return "newer_schema";
    case store_errc::migration_failed:
      return "migration_failed";
    case store_errc::sql_error:
      return "sql_error";
    case store_errc::not_found:
      return "not_found";
    case store_errc::closed:
      return "closed";
  }
  return "unknown";
}

void throw_exception_from_error(const store_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(std::string(to_string(e.code)) + ": " + e.message),
                         loc);
}

}  // namespace unlinkd::store
