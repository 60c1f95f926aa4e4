#pragma once
// Parses an API answer as it arrives, chunk by chunk. With `list_as_lines`,
// the items of `data.list` are not built as values: each is written out as
// one line of JSON text, numbers as the API wrote them. A backup page is
// thousands of small values, and building them as a tree only to serialize
// them again into the backup's JSON lines cost about a quarter of the
// daemon's CPU (docs/BENCHMARKS.md).
#include <cstddef>
#include <memory>
#include <string>

#include <boost/json/error.hpp>
#include <boost/json/value.hpp>

namespace unlinkd::adapters {

class answer_parser {
 public:
  explicit answer_parser(bool list_as_lines);
  answer_parser(const answer_parser&) = delete;
  answer_parser& operator=(const answer_parser&) = delete;
  ~answer_parser();

  // Feeds the next bytes of the body; `ec` set on invalid JSON.
  void write(const char* data, std::size_t size, boost::json::error_code& ec);
  // The body has ended; `ec` set when it was not one whole JSON text.
  void finish(boost::json::error_code& ec);

  // After a successful finish: the answer, with `data.list` an empty array
  // when its items went to lines().
  boost::json::value release();
  // The items of `data.list`, one JSON text per line, each ending in '\n'.
  std::string take_lines();
  [[nodiscard]] std::size_t line_count() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace unlinkd::adapters
