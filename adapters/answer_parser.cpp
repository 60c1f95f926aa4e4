#include "adapters/answer_parser.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value_stack.hpp>

namespace unlinkd::adapters {

namespace json = boost::json;

namespace {

// JSON string content, escaped: the parser hands strings over unescaped
// (and already checked to be UTF-8). Runs of plain characters are copied
// whole: this is most of a backup's text.
void append_escaped(std::string& out, json::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  const char* run = s.data();
  const char* const end = s.data() + s.size();
  for (const char* p = run; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') {
      continue;
    }
    out.append(run, p);
    run = p + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += hex[c >> 4U];
        out += hex[c & 0xFU];
    }
  }
  out.append(run, end);
}

// The handler of json::basic_parser. Outside data.list it builds the value
// as json::parser does (a value_stack); inside, it writes the items' text.
class line_handler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack values;
  std::string lines;
  std::size_t line_count = 0;

  bool on_document_begin(json::error_code& /*ec*/) {
    values.reset();
    return true;
  }
  bool on_document_end(json::error_code& /*ec*/) { return true; }

  bool on_object_begin(json::error_code& /*ec*/) {
    if (in_list_) {
      before_value();
      lines += '{';
      open_.push_back({true, true});
      return true;
    }
    ++depth_;
    if (depth_ < keys_.size()) {
      keys_.at(depth_).clear();
    }
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code& /*ec*/) {
    if (in_list_) {
      lines += '}';
      open_.pop_back();
      after_value();
      return true;
    }
    --depth_;
    values.push_object(n);
    return true;
  }

  bool on_array_begin(json::error_code& /*ec*/) {
    if (in_list_) {
      before_value();
      lines += '[';
      open_.push_back({false, true});
      return true;
    }
    if (depth_ == 2 && keys_.at(1) == "data" && keys_.at(2) == "list") {
      in_list_ = true;  // the envelope's data.list: its items become lines
      return true;
    }
    ++depth_;
    if (depth_ < keys_.size()) {
      keys_.at(depth_).clear();  // an array has no keys: nothing below it is data.list
    }
    return true;
  }
  bool on_array_end(std::size_t n, json::error_code& /*ec*/) {
    if (in_list_ && open_.empty()) {
      in_list_ = false;
      values.push_array(0);
      return true;
    }
    if (in_list_) {
      lines += ']';
      open_.pop_back();
      after_value();
      return true;
    }
    --depth_;
    values.push_array(n);
    return true;
  }

  bool on_key_part(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    if (in_list_) {
      begin_key();
      append_escaped(lines, s);
      return true;
    }
    remember_key(s);
    values.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    if (in_list_) {
      begin_key();
      append_escaped(lines, s);
      lines += "\":";
      key_started_ = false;
      return true;
    }
    remember_key(s);
    key_done_ = true;
    values.push_key(s);
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    if (in_list_) {
      begin_string();
      append_escaped(lines, s);
      return true;
    }
    values.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    if (in_list_) {
      begin_string();
      append_escaped(lines, s);
      lines += '"';
      string_started_ = false;
      after_value();
      return true;
    }
    values.push_string(s);
    return true;
  }

  bool on_number_part(json::string_view s, json::error_code& /*ec*/) {
    if (in_list_) {
      begin_number();
      lines.append(s.data(), s.size());
    }
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view s, json::error_code& /*ec*/) {
    if (in_list_) {
      return number_text(s);
    }
    values.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view s, json::error_code& /*ec*/) {
    if (in_list_) {
      return number_text(s);
    }
    values.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, json::error_code& /*ec*/) {
    if (in_list_) {
      return number_text(s);
    }
    values.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code& /*ec*/) {
    if (in_list_) {
      before_value();
      lines += b ? "true" : "false";
      after_value();
      return true;
    }
    values.push_bool(b);
    return true;
  }
  bool on_null(json::error_code& /*ec*/) {
    if (in_list_) {
      before_value();
      lines += "null";
      after_value();
      return true;
    }
    values.push_null();
    return true;
  }
  // Comments are refused by the default parse options; nothing to keep.
  bool on_comment_part(json::string_view /*s*/, json::error_code& /*ec*/) { return true; }
  bool on_comment(json::string_view /*s*/, json::error_code& /*ec*/) { return true; }

 private:
  struct container {
    bool object;
    bool first;
  };

  // A comma before the second and later elements of an array; in an object
  // the key wrote it. At the list's own level items are lines, not elements.
  void before_value() {
    if (open_.empty() || open_.back().object) {
      return;
    }
    if (!open_.back().first) {
      lines += ',';
    }
    open_.back().first = false;
  }
  void after_value() {
    if (open_.empty()) {
      lines += '\n';
      ++line_count;
    }
  }
  void begin_key() {
    if (key_started_) {
      return;
    }
    key_started_ = true;
    if (!open_.back().first) {
      lines += ',';
    }
    open_.back().first = false;
    lines += '"';
  }
  void begin_string() {
    if (!string_started_) {
      string_started_ = true;
      before_value();
      lines += '"';
    }
  }
  void begin_number() {
    if (!number_started_) {
      number_started_ = true;
      before_value();
    }
  }
  bool number_text(json::string_view s) {
    begin_number();
    lines.append(s.data(), s.size());
    number_started_ = false;
    after_value();
    return true;
  }
  // Only the keys of the envelope (depth 1) and of data (depth 2) matter.
  void remember_key(json::string_view s) {
    if (depth_ >= keys_.size()) {
      return;
    }
    if (key_done_) {
      keys_.at(depth_).clear();
      key_done_ = false;
    }
    keys_.at(depth_).append(s.data(), s.size());
  }

  std::size_t depth_ = 0;              // open containers outside the list
  std::array<std::string, 3> keys_{};  // the last key at depths 1 and 2
  bool key_done_ = true;               // the next key part starts a new key
  bool in_list_ = false;
  std::vector<container> open_;  // inside the list: the item's open containers
  bool key_started_ = false;
  bool string_started_ = false;
  bool number_started_ = false;
};

}  // namespace

struct answer_parser::impl {
  std::optional<json::stream_parser> whole;
  std::optional<json::basic_parser<line_handler>> split;
};

answer_parser::answer_parser(bool list_as_lines) : impl_(std::make_unique<impl>()) {
  if (list_as_lines) {
    impl_->split.emplace(json::parse_options{});
  } else {
    impl_->whole.emplace();
  }
}

answer_parser::~answer_parser() = default;

namespace {

bool only_whitespace(const char* data, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    const char c = data[i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      return false;
    }
  }
  return true;
}

}  // namespace

void answer_parser::write(const char* data, std::size_t size, json::error_code& ec) {
  if (impl_->whole) {
    impl_->whole->write_some(data, size, ec);
    return;
  }
  // basic_parser stops at the end of the JSON text: only whitespace may follow.
  std::size_t used = 0;
  if (!impl_->split->done()) {
    used = impl_->split->write_some(true, data, size, ec);
  }
  if (!ec && !only_whitespace(data + used, size - used)) {
    ec = json::error::extra_data;
  }
}

void answer_parser::finish(json::error_code& ec) {
  if (impl_->whole) {
    impl_->whole->finish(ec);
    return;
  }
  impl_->split->write_some(false, nullptr, 0, ec);
}

json::value answer_parser::release() {
  if (impl_->whole) {
    return impl_->whole->release();
  }
  return impl_->split->handler().values.release();
}

std::string answer_parser::take_lines() {
  return impl_->split ? std::move(impl_->split->handler().lines) : std::string{};
}

std::size_t answer_parser::line_count() const {
  return impl_->split ? impl_->split->handler().line_count : 0;
}

}  // namespace unlinkd::adapters
