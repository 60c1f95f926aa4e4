#pragma once
// Reading the API's lists: `page_info` pages, `has_more`/`cursor` cursors,
// and IDs that the API sends as strings or as numbers. Pure helpers over a
// reply's `data`; the operations decide what to fetch next.
#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

namespace unlinkd::adapters {

// data.page_info of a paged list.
struct page_info {
  std::uint64_t page = 0;
  std::uint64_t page_size = 0;
  std::uint64_t total_number = 0;
  std::uint64_t total_page = 0;
  // Another page exists after this one.
  [[nodiscard]] bool has_next() const { return page < total_page; }
};

// Reads data.page_info; nullopt when it is missing or not numbers.
std::optional<page_info> read_page_info(const boost::json::value& data);

// data.has_more / data.cursor of a cursor list.
struct cursor_info {
  bool has_more = false;
  std::string cursor;  // the value to send back, empty when none
};

// Reads has_more and cursor (a string or a number); nullopt when has_more is missing.
std::optional<cursor_info> read_cursor(const boost::json::value& data);

// An ID as the API sends it, kept as a string: "7100000000000000001" or
// 7100000000000000001 both give "7100000000000000001". A floating-point
// number (precision already lost), a negative number or anything else gives nullopt.
std::optional<std::string> id_string(const boost::json::value& v);

// Reads a non-negative integer sent as a number or a numeric string.
std::optional<std::uint64_t> read_count(const boost::json::value& v);

}  // namespace unlinkd::adapters
