#pragma once
// Typed reads of YAML values with the error wording shared by the manifest,
// the daemon config and the credentials file: each read reports its own
// problem (with the key path and what to write instead) and answers nothing.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/diagnostics.hpp"
#include "config/yaml_node.hpp"

namespace unlinkd::config {

// One accepted word of an enumerated key, or a reserved one that is refused
// with `refusal` as the explanation.
template <class E>
struct choice {
  std::string_view word;
  E value{};
  std::string_view refusal;  // empty for an accepted word
};

// "a.b" from "a" and "b"; "b" from "" and "b".
std::string join_path(std::string_view path, std::string_view key);
// "accounts[3]".
std::string index_path(std::string_view path, std::size_t index);
// A value quoted for a message, shortened and with control characters escaped.
std::string quote(std::string_view text);

class value_reader {
 public:
  explicit value_reader(diagnostics& diags) : diags_(diags) {}

  diagnostics& diags() { return diags_; }
  void error(const yaml_node& at, std::string_view path, std::string_view message);

  // For a file that holds secrets: messages no longer quote a value or an
  // unknown key, since a token may have been pasted anywhere (a mistyped
  // `access_token:TOKEN` arrives as one key). Enumerated words (tiers) are
  // still quoted.
  void conceal_values() { conceal_ = true; }

  bool expect_mapping(const yaml_node& n, std::string_view path);
  bool expect_sequence(const yaml_node& n, std::string_view path);

  std::optional<std::string> id(const yaml_node& n, std::string_view path);
  std::optional<bool> boolean(const yaml_node& n, std::string_view path);
  std::optional<std::uint64_t> count(const yaml_node& n, std::string_view path, std::uint64_t min,
                                     std::uint64_t max);
  std::optional<std::chrono::milliseconds> duration(const yaml_node& n, std::string_view path,
                                                    std::chrono::milliseconds min,
                                                    std::chrono::milliseconds max);
  std::optional<std::chrono::year_month_day> date(const yaml_node& n, std::string_view path);
  std::optional<std::uint64_t> byte_size(const yaml_node& n, std::string_view path,
                                         std::uint64_t min, std::uint64_t max);
  // Any scalar as text (a plain 123 is the text "123"), 1..max_chars long.
  std::optional<std::string> text(const yaml_node& n, std::string_view path, std::size_t max_chars);
  // Like text(), but the value never appears in a message.
  std::optional<std::string> secret(const yaml_node& n, std::string_view path);
  std::optional<std::string> url(const yaml_node& n, std::string_view path);
  std::optional<std::string> absolute_path(const yaml_node& n, std::string_view path);

  template <class E>
  std::optional<E> one_of(const yaml_node& n, std::string_view path,
                          std::span<const choice<E>> choices) {
    const auto word = plain_word(n, path);
    if (!word) {
      return std::nullopt;
    }
    for (const auto& c : choices) {
      if (c.word == *word) {
        if (!c.refusal.empty()) {
          error(n, path, std::string(c.word) + " is not allowed: " + std::string(c.refusal));
          return std::nullopt;
        }
        return c.value;
      }
    }
    std::string expected;
    std::string_view closest;
    std::size_t best = 3;  // suggest only near misses
    for (const auto& c : choices) {
      if (!c.refusal.empty()) {
        continue;
      }
      expected += expected.empty() ? "" : ", ";
      expected += c.word;
      if (const auto d = edit_distance_ci(*word, c.word); d < best) {
        best = d;
        closest = c.word;
      }
    }
    error(n, path,
          quote(*word) + " is not one of " + expected +
              (closest.empty() ? std::string() : " (did you mean " + std::string(closest) + "?)"));
    return std::nullopt;
  }

  // Reports a key the decoder does not know, suggesting the nearest known one.
  void unknown_key(const yaml_node& key, std::string_view path,
                   std::initializer_list<std::string_view> known);

 private:
  std::optional<std::string> plain_word(const yaml_node& n, std::string_view path);
  bool expect_scalar(const yaml_node& n, std::string_view path, std::string_view what);
  static std::size_t edit_distance_ci(std::string_view a, std::string_view b);
  // A value as a message shows it: quoted, or not at all when concealing.
  [[nodiscard]] std::string shown(std::string_view text) const {
    return conceal_ ? std::string("the value") : quote(text);
  }

  diagnostics& diags_;
  bool conceal_ = false;
};

}  // namespace unlinkd::config
