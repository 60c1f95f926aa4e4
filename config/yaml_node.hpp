#pragma once
// A small YAML tree that remembers where each node came from. It is what the
// config decoders read; yaml-cpp's own types never leave config/'s .cpp files.

#include <cstdint>
#include <string>
#include <vector>

#include "config/diagnostics.hpp"

namespace unlinkd::config {

struct yaml_node {
  enum class kind : std::uint8_t { null, scalar, sequence, mapping };

  kind type = kind::null;
  bool quoted = false;  // a scalar written in quotes: never a number or boolean
  source_mark mark;
  std::string text;  // the scalar's value
  // A sequence's items; a mapping's keys and values, alternating
  // (items[0] is the first key, items[1] its value, ...).
  std::vector<yaml_node> items;

  [[nodiscard]] bool is_null() const { return type == kind::null; }
  [[nodiscard]] bool is_scalar() const { return type == kind::scalar; }
  [[nodiscard]] bool is_sequence() const { return type == kind::sequence; }
  [[nodiscard]] bool is_mapping() const { return type == kind::mapping; }
  [[nodiscard]] std::size_t mapping_size() const { return items.size() / 2; }
  [[nodiscard]] const yaml_node& key(std::size_t i) const { return items[2 * i]; }
  [[nodiscard]] const yaml_node& value(std::size_t i) const { return items[2 * i + 1]; }
};

// "a mapping", "a list", "text", "nothing": how a node's kind is named in messages.
const char* describe(const yaml_node& node);

}  // namespace unlinkd::config
