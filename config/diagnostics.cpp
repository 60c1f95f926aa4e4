#include "config/diagnostics.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace unlinkd::config {

namespace {

// yaml-cpp counts columns in bytes; people (and editors) count characters.
// Walk back from the byte offset to the start of its line and count the
// bytes that begin a UTF-8 sequence.
std::uint32_t character_column(std::string_view text, source_mark at) {
  if (at.offset > text.size() || at.column > at.offset) {
    return at.column + 1;
  }
  const std::size_t line_start = at.offset - at.column;
  std::uint32_t characters = 0;
  for (std::size_t i = line_start; i < at.offset; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0U) != 0x80U) {
      ++characters;
    }
  }
  return characters + 1;
}

}  // namespace

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

std::string format(const diagnostic& d) {
  std::string out = d.file;
  if (d.line != 0) {
    out += ':';
    out += std::to_string(d.line);
    out += ':';
    out += std::to_string(d.column);
  }
  out += ": error: ";
  out += d.message;
  return out;
}

diagnostics::diagnostics(std::string file, std::size_t cap)
    : file_(std::move(file)), cap_(cap == 0 ? 1 : cap) {}

void diagnostics::error(source_mark at, std::string message) {
  if (full()) {
    ++dropped_;  // before counting columns: that walks the line, and lines may be long
    return;
  }
  push({file_, at.line + 1, character_column(text_, at), std::move(message)});
}

void diagnostics::error_at(std::uint32_t line, std::uint32_t column, std::string message) {
  push({file_, line, column, std::move(message)});
}

void diagnostics::file_error(std::string message) { push({file_, 0, 0, std::move(message)}); }

void diagnostics::push(diagnostic d) {
  if (full()) {
    ++dropped_;
    return;
  }
  items_.push_back(std::move(d));
}

void diagnostics::sort_by_position() {
  std::stable_sort(items_.begin(), items_.end(), [](const diagnostic& a, const diagnostic& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
}

std::string diagnostics::to_text() const {
  std::string out;
  for (const auto& d : items_) {
    out += format(d);
    out += '\n';
  }
  if (dropped_ != 0) {
    out += file_ + ": error: " + std::to_string(dropped_) +
           " more problems not shown; fix the ones above and validate again\n";
  }
  return out;
}

}  // namespace unlinkd::config
