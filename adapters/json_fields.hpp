#pragma once
// Reading the API's JSON the way tiktok-api.md §1 asks: IDs may arrive as
// strings or as numbers (older answers) and are always kept as strings;
// lists live in `data.list`. Pure functions, no I/O.
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace unlinkd::adapters {

// The text of an ID given as a JSON string of digits or a non-negative
// integer; nothing for anything else (a float would have lost digits).
std::optional<std::string> id_text(const boost::json::value& v);

// The ID under `key` of an object, as id_text reads it.
std::optional<std::string> id_field(const boost::json::object& o, std::string_view key);

// The string under `key`, or nothing when absent or not a string.
std::optional<std::string> string_field(const boost::json::object& o, std::string_view key);

// `data.list`, or null when the answer has no such array.
const boost::json::array* list_of(const boost::json::value& data);

// `data.page_info.total_page`, or nothing when absent.
std::optional<std::uint64_t> total_pages_of(const boost::json::value& data);

}  // namespace unlinkd::adapters
