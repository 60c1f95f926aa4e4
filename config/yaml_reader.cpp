#include "config/yaml_reader.hpp"

#include <cstdio>
#include <istream>
#include <streambuf>
#include <unordered_map>
#include <utility>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "config/utf8.hpp"
#include "config/value_reader.hpp"

namespace unlinkd::config {

const char* describe(const yaml_node& node) {
  switch (node.type) {
    case yaml_node::kind::null:
      return "nothing";
    case yaml_node::kind::scalar:
      return "text";
    case yaml_node::kind::sequence:
      return "a list";
    case yaml_node::kind::mapping:
      return "a mapping";
  }
  return "?";
}

namespace {

// ---- Encoding -------------------------------------------------------------

struct text_position {
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

text_position position_of(std::string_view text, std::size_t offset) {
  text_position p;
  for (std::size_t i = 0; i < offset; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((c & 0xC0U) != 0x80U) {
      ++p.column;
    }
  }
  return p;
}

// Returns the text without a UTF-8 byte order mark, or nothing (with the
// reason reported) when the bytes are not UTF-8 text.
std::optional<std::string_view> check_encoding(std::string_view bytes, diagnostics& diags) {
  if (bytes.starts_with("\xEF\xBB\xBF")) {
    bytes.remove_prefix(3);
  } else if (bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF")) {
    diags.error_at(1, 1,
                   "the file is UTF-16 (or UTF-32); unlinkd reads UTF-8 only: convert it, e.g. "
                   "`iconv -f UTF-16 -t UTF-8`");
    return std::nullopt;
  }
  for (std::size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      if (c == 0) {
        const auto p = position_of(bytes, i);
        diags.error_at(p.line, p.column,
                       "the file contains a NUL byte: it is not UTF-8 text (UTF-16 files must be "
                       "converted to UTF-8)");
        return std::nullopt;
      }
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
        const auto p = position_of(bytes, i);
        char code[8];
        std::snprintf(code, sizeof code, "%02X", c);
        diags.error_at(p.line, p.column,
                       std::string("the file contains the control character U+00") + code +
                           ", which YAML does not allow; remove it");
        return std::nullopt;
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(bytes, i);
    if (n == 0) {
      const auto p = position_of(bytes, i);
      char code[8];
      std::snprintf(code, sizeof code, "0x%02X", c);
      diags.error_at(
          p.line, p.column,
          std::string("the file is not valid UTF-8 (byte ") + code + "); save it as UTF-8");
      return std::nullopt;
    }
    // U+0080..U+009F, the C1 controls (CSI among them, which terminals
    // obey): refused like the C0 ones above.
    if (c == 0xC2 && static_cast<unsigned char>(bytes[i + 1]) <= 0x9F) {
      const auto p = position_of(bytes, i);
      char code[8];
      std::snprintf(code, sizeof code, "%02X", static_cast<unsigned char>(bytes[i + 1]));
      diags.error_at(p.line, p.column,
                     std::string("the file contains the control character U+00") + code +
                         ", which YAML does not allow; remove it");
      return std::nullopt;
    }
    i += n;
  }
  return bytes;
}

// ---- Parsing ----------------------------------------------------------------

// An istream over bytes we already hold, so the parser does not copy them.
class memory_buffer : public std::streambuf {
 public:
  explicit memory_buffer(std::string_view text) {
    // std::streambuf wants char*, but never writes through a get area.
    char* begin = const_cast<char*>(text.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    setg(begin, begin, begin + text.size());
  }
};

// Thrown from inside the event handler to stop yaml-cpp at once: the reason
// is already in `diagnostics`.
struct stop_reading {};

source_mark to_mark(const YAML::Mark& m) {
  const auto clamp = [](int v) { return v < 0 ? 0U : static_cast<std::uint32_t>(v); };
  return {clamp(m.line), clamp(m.column), clamp(m.pos)};
}

// yaml-cpp reads an end-of-input marker past the last byte (an escape at
// the very end, say) and may report that place: the end of the text instead.
source_mark within(std::string_view text, source_mark m) {
  if (m.offset <= text.size()) {
    return m;
  }
  const auto last_break = text.rfind('\n');
  const auto line = static_cast<std::uint32_t>(std::count(text.begin(), text.end(), '\n'));
  const auto column = static_cast<std::uint32_t>(
      last_break == std::string_view::npos ? text.size() : text.size() - last_break - 1);
  return {line, column, static_cast<std::uint32_t>(text.size())};
}

class tree_builder final : public YAML::EventHandler {
 public:
  tree_builder(std::string_view text, const yaml_limits& limits, diagnostics& diags,
               const yaml_item_stream* stream)
      : text_(text), limits_(limits), diags_(diags), stream_(stream) {}

  std::optional<yaml_node> take_root() { return std::move(root_); }
  [[nodiscard]] int documents() const { return documents_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1) {
      diags_.error(to_mark(mark),
                   "a file holds one YAML document; remove this '---' and everything after it");
      throw stop_reading{};
    }
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t /*anchor*/) override {
    yaml_node n;
    n.mark = to_mark(mark);
    complete(std::move(n));
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t /*anchor*/) override {
    diags_.error(to_mark(mark),
                 "aliases (*name) are not allowed: write the value out, or set it once under "
                 "defaults:");
    drop_node();
  }

  void OnAnchor(const YAML::Mark& mark, const std::string& name) override {
    diags_.error(to_mark(mark), "anchors (&" + escape_controls(name) +
                                    ") are not allowed: set a shared value once under defaults: "
                                    "instead");
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t /*anchor*/,
                const std::string& value) override {
    check_tag(mark, tag);
    yaml_node n;
    n.type = yaml_node::kind::scalar;
    n.quoted = tag == "!";
    n.mark = to_mark(mark);
    n.text = value;
    complete(std::move(n));
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t /*anchor*/,
                       YAML::EmitterStyle::value /*style*/) override {
    open(mark, tag, yaml_node::kind::sequence);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t /*anchor*/,
                  YAML::EmitterStyle::value /*style*/) override {
    open(mark, tag, yaml_node::kind::mapping);
  }
  void OnMapEnd() override { close(); }

 private:
  struct frame {
    yaml_node node;
    bool streamed = false;       // items go to the stream callback
    std::size_t item_count = 0;  // items seen (streamed and dropped ones included)
    bool skip_value = false;     // the key before was refused: drop its value
    // Keys seen, each mapped to its position in `node.items`, for finding
    // repeated ones; filled only for mappings of more than a few keys, where
    // a scan per key would turn quadratic.
    std::unordered_map<std::string, std::size_t> key_index;
  };

  void check_tag(const YAML::Mark& mark, const std::string& tag) {
    if (tag != "?" && tag != "!") {
      // yaml-cpp expands `!!str` to the standard prefix; show it as written.
      constexpr std::string_view standard = "tag:yaml.org,2002:";
      const std::string shown =
          tag.starts_with(standard) ? "!!" + tag.substr(standard.size()) : tag;
      diags_.error(to_mark(mark), "YAML tags (" + escape_controls(shown) +
                                      ") are not allowed; write the plain value instead");
    }
  }

  void open(const YAML::Mark& mark, const std::string& tag, yaml_node::kind type) {
    check_tag(mark, tag);
    if (stack_.size() >= limits_.max_depth) {
      diags_.error(to_mark(mark), "nesting is deeper than " + std::to_string(limits_.max_depth) +
                                      " levels; unlinkd's files never need that many");
      throw stop_reading{};
    }
    frame f;
    f.node.type = type;
    f.node.mark = to_mark(mark);
    // Streamed: the value of the top-level key named by the stream (not of
    // a refused key, which has no node to name it).
    const auto is_stream_value = [&] {
      const frame& root = stack_[0];
      return root.node.is_mapping() && root.item_count % 2 == 1 && !root.skip_value &&
             root.node.items.back().text == stream_->key;
    };
    f.streamed = type == yaml_node::kind::sequence && stream_ != nullptr && stack_.size() == 1 &&
                 is_stream_value();
    stack_.push_back(std::move(f));
  }

  void close() {
    yaml_node done = std::move(stack_.back().node);
    stack_.pop_back();
    complete(std::move(done));
  }

  // A refused node (an alias) is left out of the tree with its key, so the
  // decoders do not add "has no value" or "unknown key" to its one error.
  void drop_node() {
    if (stack_.empty()) {
      root_ = yaml_node{};
      return;
    }
    frame& parent = stack_.back();
    const std::size_t index = parent.item_count++;
    if (parent.node.is_mapping()) {
      if (index % 2 == 0) {
        parent.skip_value = true;
      } else if (parent.skip_value) {
        parent.skip_value = false;
      } else {
        parent.node.items.pop_back();
      }
    }
  }

  void complete(yaml_node&& n) {
    if (stack_.empty()) {
      root_ = std::move(n);
      return;
    }
    frame& parent = stack_.back();
    if (parent.skip_value && parent.item_count % 2 == 1) {
      // the value of a refused key: its one error is already reported
      parent.skip_value = false;
      ++parent.item_count;
      return;
    }
    const std::size_t index = parent.item_count++;
    if (parent.node.is_sequence() && n.is_null()) {
      n.mark = empty_item_mark(n.mark);
    }
    if (parent.streamed) {
      if (!stream_->on_item(std::move(n), index)) {
        throw stop_reading{};
      }
      return;
    }
    if (parent.node.is_mapping() && index % 2 == 0) {
      if (!check_key(parent, n)) {
        parent.skip_value = true;
        return;
      }
    } else if (parent.node.is_mapping() && n.is_null()) {
      // yaml-cpp places a missing value at the start of the next line;
      // people look for it at its key.
      n.mark = parent.node.items.back().mark;
    }
    parent.node.items.push_back(std::move(n));
  }

  // yaml-cpp places an empty list item ("-" alone) at the token after it,
  // often the next item's dash; people look for it at its own dash. Only
  // blanks and comments lie between the two, so walk back over them. An
  // explicit null (~, null) keeps its own position.
  [[nodiscard]] source_mark empty_item_mark(source_mark at) const {
    if (at.offset > text_.size() || at.column > at.offset) {
      return at;
    }
    const std::string_view rest = text_.substr(at.offset);
    for (const std::string_view word : {"~", "null", "Null", "NULL"}) {
      if (rest.starts_with(word) &&
          (rest.size() == word.size() ||
           std::string_view(" \t\r\n,]}#").find(rest[word.size()]) != std::string_view::npos)) {
        return at;
      }
    }
    std::uint32_t line = at.line;
    std::size_t line_start = at.offset - at.column;
    std::size_t end = at.offset;
    while (true) {
      std::string_view segment = text_.substr(line_start, end - line_start);
      segment = segment.substr(0, segment.find('#'));  // only a comment can hold '#' here
      const auto last = segment.find_last_not_of(" \t\r");
      if (last != std::string_view::npos) {
        if (segment[last] != '-') {
          return at;
        }
        return {line, static_cast<std::uint32_t>(last),
                static_cast<std::uint32_t>(line_start + last)};
      }
      if (line_start == 0 || line == 0) {
        return at;
      }
      end = line_start - 1;  // the '\n' ending the line before
      line_start = text_.rfind('\n', end == 0 ? 0 : end - 1);
      line_start = line_start == std::string_view::npos || end == 0 ? 0 : line_start + 1;
      --line;
    }
  }

  // Reports a repeated key (kept, so its value is still checked); returns
  // false for a key that is refused with its value.
  bool check_key(frame& map, const yaml_node& key) {
    if (!key.is_scalar()) {
      diags_.error(key.mark, std::string("a key must be plain text, not ") + describe(key));
      return false;
    }
    if (key.text == "<<" && !key.quoted) {
      diags_.error(key.mark,
                   "merge keys (<<) are not allowed: set shared values once under defaults:");
      return false;
    }
    constexpr std::size_t linear_scan_limit = 16;
    const auto& items = map.node.items;
    const std::size_t keys = items.size() / 2;
    const yaml_node* first = nullptr;
    if (keys < linear_scan_limit) {
      for (std::size_t i = 0; i < items.size(); i += 2) {
        if (items[i].is_scalar() && items[i].text == key.text) {
          first = &items[i];
          break;
        }
      }
    } else {
      if (map.key_index.empty()) {
        for (std::size_t i = 0; i < items.size(); i += 2) {
          if (items[i].is_scalar()) {
            map.key_index.emplace(items[i].text, i);
          }
        }
      }
      if (const auto [at, added] = map.key_index.emplace(key.text, items.size()); !added) {
        first = &items[at->second];
      }
    }
    if (first != nullptr) {
      // quote(): a key may hold line breaks and be very long; a message is one line.
      diags_.error(key.mark, "the key " + quote(key.text) + " is repeated (first set on line " +
                                 std::to_string(first->mark.line + 1) +
                                 "); a mapping may set each key once");
    }
    return true;
  }

  std::string_view text_;  // what the marks refer to
  const yaml_limits& limits_;
  diagnostics& diags_;
  const yaml_item_stream* stream_;
  std::vector<frame> stack_;
  std::optional<yaml_node> root_;
  int documents_ = 0;
};

}  // namespace

std::optional<yaml_node> read_yaml(std::string_view bytes, const yaml_limits& limits,
                                   diagnostics& diags, const yaml_item_stream* stream) {
  if (bytes.size() > limits.max_bytes) {
    diags.file_error("the file is " + std::to_string(bytes.size()) + " bytes, over the limit of " +
                     std::to_string(limits.max_bytes) + " bytes" +
                     (limits.size_advice.empty() ? "" : "; " + limits.size_advice));
    return std::nullopt;
  }
  const auto text = check_encoding(bytes, diags);
  if (!text) {
    return std::nullopt;
  }
  diags.set_text(*text);

  memory_buffer buffer(*text);
  std::istream in(&buffer);
  tree_builder builder(*text, limits, diags, stream);
  try {
    YAML::Parser parser(in);
    if (parser.HandleNextDocument(builder)) {
      parser.HandleNextDocument(builder);  // only to refuse a second document
    }
  } catch (const stop_reading&) {
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    diags.error(within(*text, to_mark(e.mark)),
                "this is not valid YAML: " + escape_controls(e.msg));
    return std::nullopt;
  }
  auto root = builder.take_root();
  if (!root) {
    return yaml_node{};  // no document at all: an empty file, or comments only
  }
  return root;
}

}  // namespace unlinkd::config
