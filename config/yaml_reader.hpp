#pragma once
// Turns the bytes of a manifest, config or credentials file into a
// `yaml_node` tree, refusing what unlinkd's files never need and what makes
// YAML dangerous to accept from people: anchors, aliases and merge keys,
// repeated keys, tags, deep nesting, several documents, bytes that are not
// UTF-8. Every problem goes to `diagnostics` with its position.
//
// It reads yaml-cpp's event stream (not its node API, which silently keeps
// repeated keys and costs far more memory per node). One sequence can be
// streamed: its items are handed to a callback as they complete instead of
// being kept, so a manifest's accounts never exist twice in memory.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "config/diagnostics.hpp"
#include "config/yaml_node.hpp"

namespace unlinkd::config {

struct yaml_limits {
  std::size_t max_bytes = std::size_t{16} << 20U;
  std::size_t max_depth = 32;
  // Appended to the "file too large" message: what the user can do about it.
  std::string size_advice;
};

// Streams the items of the sequence under one top-level key.
struct yaml_item_stream {
  std::string key;
  // Called with each item and its 0-based index. Returning false stops the
  // reading (the caller has reported why).
  std::function<bool(yaml_node&& item, std::size_t index)> on_item;
};

// Checks size and encoding, then parses. Returns the top-level node (null
// for an empty file is reported as an error) or nothing when the file could
// not be read as YAML at all. `diags` must not outlive `bytes`.
std::optional<yaml_node> read_yaml(std::string_view bytes, const yaml_limits& limits,
                                   diagnostics& diags, const yaml_item_stream* stream = nullptr);

}  // namespace unlinkd::config
