#pragma once
// Problems found in an input file, reported the way compilers report them:
// `FILE:LINE:COL: error: MESSAGE`, so editors and people can jump to them.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace unlinkd::config {

// A place in the input as the YAML parser sees it: 0-based line, 0-based
// byte column and byte offset. `diagnostics` turns it into the 1-based line
// and character column people read.
struct source_mark {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::uint32_t offset = 0;
};

struct diagnostic {
  std::string file;
  std::uint32_t line = 0;    // 1-based; 0 when the problem is the whole file
  std::uint32_t column = 0;  // 1-based, in characters
  std::string message;
};

// Text from a file or from yaml-cpp shown in a message, with control
// characters escaped (`\x0D`), so that a message stays on one line.
std::string escape_controls(std::string_view text);

// Formats one diagnostic as `FILE:LINE:COL: error: MESSAGE` (or
// `FILE: error: MESSAGE` for a problem with the whole file).
std::string format(const diagnostic& d);

// Collects the problems of one file, up to a cap so that a file with a
// million bad lines still gets a short, readable answer.
class diagnostics {
 public:
  static constexpr std::size_t default_cap = 100;

  explicit diagnostics(std::string file, std::size_t cap = default_cap);

  // The text marks refer to, used to count columns in characters rather
  // than bytes. Must outlive the calls to `error` that pass a mark.
  void set_text(std::string_view text) { text_ = text; }

  void error(source_mark at, std::string message);
  void error_at(std::uint32_t line, std::uint32_t column, std::string message);
  void file_error(std::string message);

  // Orders the problems by line and column, as people read a file (they are
  // found in another order: keys first, then what needs the whole file).
  void sort_by_position();

  [[nodiscard]] bool empty() const { return items_.empty(); }
  [[nodiscard]] bool full() const { return items_.size() >= cap_; }
  [[nodiscard]] std::size_t dropped() const { return dropped_; }
  [[nodiscard]] const std::vector<diagnostic>& items() const { return items_; }
  [[nodiscard]] const std::string& file() const { return file_; }

  // Every problem, one formatted line each, with a closing line when some
  // were left out because of the cap.
  [[nodiscard]] std::string to_text() const;

 private:
  void push(diagnostic d);

  std::string file_;
  std::size_t cap_;
  std::size_t dropped_ = 0;
  std::string_view text_;
  std::vector<diagnostic> items_;
};

}  // namespace unlinkd::config
