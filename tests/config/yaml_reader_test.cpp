// The YAML reader: the tree it builds, the positions it keeps, what it
// refuses, and the streaming of one top-level list.

#include "config/yaml_reader.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "config/diagnostics.hpp"
#include "config/yaml_node.hpp"

namespace {

using namespace unlinkd::config;

struct read_result {
  std::optional<yaml_node> root;
  diagnostics problems{"t.yaml"};
};

// `text` must outlive the result's diagnostics' use of it, hence a member.
struct reader {
  std::string text;
  yaml_limits limits;
  read_result out;

  explicit reader(std::string t) : text(std::move(t)) {}
  read_result& run(const yaml_item_stream* stream = nullptr) {
    out.root = read_yaml(text, limits, out.problems, stream);
    return out;
  }
};

std::string messages(const diagnostics& d) { return d.to_text(); }

// The value of `key` in a mapping, or null when absent.
const yaml_node* find(const yaml_node& map, std::string_view key) {
  for (std::size_t i = 0; i < map.mapping_size(); ++i) {
    if (map.key(i).text == key) {
      return &map.value(i);
    }
  }
  return nullptr;
}

// ---- the tree -------------------------------------------------------------

TEST(yaml_reader, builds_a_tree_with_kinds_positions_and_quoting) {
  reader r(
      "a: 1\n"
      "b: \"1\"\n"
      "c: [x, 'y']\n"
      "d:\n"
      "  e: |\n"
      "    text\n");
  const auto& res = r.run();
  ASSERT_TRUE(res.root) << messages(res.problems);
  ASSERT_TRUE(res.problems.empty()) << messages(res.problems);
  const yaml_node& root = *res.root;
  ASSERT_TRUE(root.is_mapping());
  ASSERT_EQ(root.mapping_size(), 4U);
  EXPECT_EQ(root.key(0).text, "a");
  EXPECT_EQ(root.key(0).mark.line, 0U);
  EXPECT_EQ(root.key(0).mark.column, 0U);

  const yaml_node& a = root.value(0);
  EXPECT_TRUE(a.is_scalar());
  EXPECT_FALSE(a.quoted);
  EXPECT_EQ(a.text, "1");
  EXPECT_EQ(a.mark.line, 0U);
  EXPECT_EQ(a.mark.column, 3U);
  EXPECT_EQ(a.mark.offset, 3U);

  const yaml_node& b = root.value(1);
  EXPECT_TRUE(b.quoted);
  EXPECT_EQ(b.text, "1");
  EXPECT_EQ(b.mark.line, 1U);
  EXPECT_EQ(b.mark.column, 3U);

  const yaml_node& c = root.value(2);
  ASSERT_TRUE(c.is_sequence());
  ASSERT_EQ(c.items.size(), 2U);
  EXPECT_FALSE(c.items[0].quoted);
  EXPECT_TRUE(c.items[1].quoted);
  EXPECT_EQ(c.items[1].text, "y");
  EXPECT_EQ(c.items[1].mark.column, 7U);

  const yaml_node& d = root.value(3);
  ASSERT_TRUE(d.is_mapping());
  EXPECT_EQ(d.value(0).text, "text\n");
  EXPECT_TRUE(d.value(0).quoted) << "a block scalar is never a number or boolean";
}

TEST(yaml_reader, empty_and_comment_only_files_are_a_null_root) {
  for (const char* text : {"", "# only a comment\n\n# another\n", "---\n", "\xEF\xBB\xBF"}) {
    reader r(text);
    const auto& res = r.run();
    ASSERT_TRUE(res.root) << "'" << text << "'";
    EXPECT_TRUE(res.root->is_null());
    EXPECT_TRUE(res.problems.empty()) << messages(res.problems);
  }
}

TEST(yaml_reader, describes_kinds_for_messages) {
  yaml_node n;
  EXPECT_STREQ(describe(n), "nothing");
  n.type = yaml_node::kind::scalar;
  EXPECT_STREQ(describe(n), "text");
  n.type = yaml_node::kind::sequence;
  EXPECT_STREQ(describe(n), "a list");
  n.type = yaml_node::kind::mapping;
  EXPECT_STREQ(describe(n), "a mapping");
}

// ---- null positions -------------------------------------------------------

TEST(yaml_reader, a_missing_value_is_placed_at_its_key) {
  reader r(
      "first:\n"
      "second: 2\n"
      "outer:\n"
      "  inner:\n"
      "  # a comment between\n"
      "\n"
      "  last: 3\n"
      "flow: {k: , j: 1}\n");
  const auto& res = r.run();
  ASSERT_TRUE(res.root) << messages(res.problems);
  const yaml_node& root = *res.root;

  const yaml_node* first = find(root, "first");
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(first->is_null());
  EXPECT_EQ(first->mark.line, 0U);  // yaml-cpp says line 1, where `second` starts
  EXPECT_EQ(first->mark.column, 0U);

  const yaml_node* inner = find(*find(root, "outer"), "inner");
  ASSERT_NE(inner, nullptr);
  EXPECT_TRUE(inner->is_null());
  EXPECT_EQ(inner->mark.line, 3U);
  EXPECT_EQ(inner->mark.column, 2U);

  const yaml_node* k = find(*find(root, "flow"), "k");
  ASSERT_NE(k, nullptr);
  EXPECT_TRUE(k->is_null());
  EXPECT_EQ(k->mark.line, 7U);
  EXPECT_EQ(k->mark.column, 7U);
}

TEST(yaml_reader, explicit_nulls_are_null_at_their_own_position) {
  reader r("a: ~\nb: null\nc: [~, x]\n");
  const auto& res = r.run();
  ASSERT_TRUE(res.root) << messages(res.problems);
  const yaml_node& root = *res.root;
  EXPECT_TRUE(root.value(0).is_null());
  EXPECT_TRUE(root.value(1).is_null());
  const yaml_node& c = root.value(2);
  ASSERT_EQ(c.items.size(), 2U);
  EXPECT_TRUE(c.items[0].is_null());
  EXPECT_EQ(c.items[0].mark.line, 2U);
  EXPECT_EQ(c.items[0].mark.column, 4U);
}

TEST(yaml_reader, an_empty_list_item_is_placed_at_its_dash) {
  reader r(
      "list:\n"
      "  -\n"
      "  - x\n"
      "  - # nothing here\n"
      "\n"
      "  - y\n"
      "  - ~\n"
      "  -\n"
      "next: 1\n");
  const auto& res = r.run();
  ASSERT_TRUE(res.root) << messages(res.problems);
  const yaml_node& list = res.root->value(0);
  ASSERT_EQ(list.items.size(), 6U);
  const auto at = [&](std::size_t i) {
    return std::pair{list.items[i].mark.line, list.items[i].mark.column};
  };
  EXPECT_TRUE(list.items[0].is_null());
  EXPECT_EQ(at(0), (std::pair{1U, 2U}));
  EXPECT_TRUE(list.items[2].is_null());
  EXPECT_EQ(at(2), (std::pair{3U, 2U}));
  EXPECT_TRUE(list.items[4].is_null());
  EXPECT_EQ(at(4), (std::pair{6U, 4U})) << "an explicit ~ keeps its place";
  EXPECT_TRUE(list.items[5].is_null());
  EXPECT_EQ(at(5), (std::pair{7U, 2U})) << "the last item, before a key";
  EXPECT_EQ(list.items[5].mark.offset, r.text.find("  -\nnext") + 2);
}

// ---- refusals -------------------------------------------------------------

TEST(yaml_reader, repeated_keys_are_found_in_small_mappings) {
  reader r("a: 1\nb: 2\na: 3\n");
  const auto& res = r.run();
  ASSERT_EQ(res.problems.items().size(), 1U) << messages(res.problems);
  const auto& d = res.problems.items()[0];
  EXPECT_EQ(d.line, 3U);
  EXPECT_EQ(d.column, 1U);
  EXPECT_EQ(d.message,
            "the key 'a' is repeated (first set on line 1); a mapping may set each key once");
}

TEST(yaml_reader, repeated_keys_are_found_in_mappings_of_more_than_16_keys) {
  // Past 16 keys the reader switches from a scan to an index: both the
  // switch-over (the 17th key repeating the first) and later keys count.
  std::string text;
  for (int i = 0; i < 16; ++i) {
    text += "k" + std::to_string(i) + ": " + std::to_string(i) + "\n";
  }
  text += "k0: again\n";  // line 17: repeats line 1
  for (int i = 16; i < 40; ++i) {
    text += "k" + std::to_string(i) + ": " + std::to_string(i) + "\n";
  }
  text += "k7: again\n";   // line 42: repeats line 8
  text += "k39: again\n";  // line 43: repeats line 41
  reader r(text);
  const auto& res = r.run();
  ASSERT_TRUE(res.root);
  const auto& items = res.problems.items();
  ASSERT_EQ(items.size(), 3U) << messages(res.problems);
  EXPECT_EQ(items[0].line, 17U);
  EXPECT_EQ(items[0].message.rfind("the key 'k0' is repeated (first set on line 1)", 0), 0U);
  EXPECT_EQ(items[1].line, 42U);
  EXPECT_EQ(items[1].message.rfind("the key 'k7' is repeated (first set on line 8)", 0), 0U);
  EXPECT_EQ(items[2].line, 43U);
  EXPECT_EQ(items[2].message.rfind("the key 'k39' is repeated (first set on line 41)", 0), 0U);
  // Every key-value pair is kept, repeated ones too: decoders see them all.
  EXPECT_EQ(res.root->mapping_size(), 43U);
}

TEST(yaml_reader, distinct_keys_of_a_large_mapping_are_not_repeats) {
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text += "key" + std::to_string(i) + ": x\n";
  }
  reader r(text);
  const auto& res = r.run();
  EXPECT_TRUE(res.problems.empty()) << messages(res.problems);
  ASSERT_TRUE(res.root);
  EXPECT_EQ(res.root->mapping_size(), 2000U);
}

TEST(yaml_reader, same_key_in_different_mappings_is_fine) {
  reader r("a: {x: 1}\nb: {x: 2}\nc: [{x: 1}, {x: 2}]\n");
  EXPECT_TRUE(r.run().problems.empty()) << messages(r.out.problems);
}

std::string nested(std::size_t depth) {
  std::string text(depth, '[');
  text += 'x';
  text.append(depth, ']');
  return text;
}

TEST(yaml_reader, nesting_up_to_the_limit_is_read) {
  reader r(nested(32));
  const auto& res = r.run();
  EXPECT_TRUE(res.problems.empty()) << messages(res.problems);
  ASSERT_TRUE(res.root);
  const yaml_node* n = &*res.root;
  std::size_t depth = 0;
  while (n->is_sequence()) {
    ++depth;
    n = &n->items.at(0);
  }
  EXPECT_EQ(depth, 32U);
  EXPECT_EQ(n->text, "x");
}

TEST(yaml_reader, nesting_past_the_limit_is_refused_where_it_starts) {
  std::string text = "key:\n  ";
  text += nested(32);  // the mapping is level 1
  text += '\n';
  reader r(text);
  const auto& res = r.run();
  EXPECT_FALSE(res.root);
  ASSERT_EQ(res.problems.items().size(), 1U) << messages(res.problems);
  const auto& d = res.problems.items()[0];
  EXPECT_EQ(d.line, 2U);
  EXPECT_EQ(d.column, 34U);  // the 32nd '[' opens level 33
  EXPECT_EQ(d.message, "nesting is deeper than 32 levels; unlinkd's files never need that many");
}

TEST(yaml_reader, the_depth_limit_is_configurable) {
  reader r("a: {b: {c: 1}}\n");
  r.limits.max_depth = 2;
  const auto& res = r.run();
  EXPECT_FALSE(res.root);
  ASSERT_EQ(res.problems.items().size(), 1U);
  EXPECT_EQ(res.problems.items()[0].column, 8U);
  EXPECT_NE(res.problems.items()[0].message.find("deeper than 2 levels"), std::string::npos);
}

TEST(yaml_reader, a_very_deep_document_stops_at_the_limit) {
  // Far beyond yaml-cpp's own guard: the reader must stop first, cleanly.
  reader r(nested(100'000));
  const auto& res = r.run();
  EXPECT_FALSE(res.root);
  ASSERT_EQ(res.problems.items().size(), 1U);
  EXPECT_EQ(res.problems.items()[0].column, 33U);
}

TEST(yaml_reader, anchors_aliases_merge_keys_and_tags_are_reported) {
  reader r(
      "base: &b {x: 1}\n"
      "copy: *b\n"
      "merged:\n"
      "  <<: {x: 2}\n"
      "quoted_merge: {\"<<\": 1}\n"
      "tagged: !!int 3\n"
      "custom: !thing 4\n");
  const auto& res = r.run();
  ASSERT_TRUE(res.root);
  const auto& items = res.problems.items();
  ASSERT_EQ(items.size(), 5U) << messages(res.problems);
  EXPECT_EQ(format(items[0]),
            "t.yaml:1:7: error: anchors (&b) are not allowed: set a shared value once under "
            "defaults: instead");
  EXPECT_EQ(format(items[1]),
            "t.yaml:2:7: error: aliases (*name) are not allowed: write the value out, or set it "
            "once under defaults:");
  EXPECT_EQ(format(items[2]),
            "t.yaml:4:3: error: merge keys (<<) are not allowed: set shared values once under "
            "defaults:");
  EXPECT_EQ(format(items[3]),
            "t.yaml:6:9: error: YAML tags (!!int) are not allowed; write the "
            "plain value instead");
  EXPECT_EQ(items[4].line, 7U);
  EXPECT_EQ(items[4].column, 9U);
  EXPECT_NE(items[4].message.find("YAML tags (!thing)"), std::string::npos);
}

TEST(yaml_reader, a_key_must_be_plain_text) {
  reader r("? [a, b]\n: 1\n{c: d}: 2\n");
  const auto& res = r.run();
  const auto& items = res.problems.items();
  ASSERT_EQ(items.size(), 2U) << messages(res.problems);
  EXPECT_EQ(items[0].line, 1U);
  EXPECT_EQ(items[0].column, 3U);
  EXPECT_EQ(items[0].message, "a key must be plain text, not a list");
  EXPECT_EQ(items[1].line, 3U);
  EXPECT_EQ(items[1].message, "a key must be plain text, not a mapping");
}

TEST(yaml_reader, a_second_document_is_refused_at_its_marker) {
  reader r("a: 1\n---\nb: 2\n");
  const auto& res = r.run();
  EXPECT_FALSE(res.root);
  ASSERT_EQ(res.problems.items().size(), 1U);
  EXPECT_EQ(format(res.problems.items()[0]),
            "t.yaml:2:1: error: a file holds one YAML document; remove this '---' and everything "
            "after it");
}

TEST(yaml_reader, an_explicit_first_document_and_end_marker_are_fine) {
  reader r("---\na: 1\n...\n");
  const auto& res = r.run();
  EXPECT_TRUE(res.problems.empty()) << messages(res.problems);
  ASSERT_TRUE(res.root);
  EXPECT_EQ(res.root->value(0).text, "1");
}

TEST(yaml_reader, syntax_errors_are_reported_with_their_position) {
  reader r("a: 1\nb: [x, y\nc: 3\n");
  const auto& res = r.run();
  EXPECT_FALSE(res.root);
  ASSERT_EQ(res.problems.items().size(), 1U);
  const auto& d = res.problems.items()[0];
  EXPECT_EQ(d.message.rfind("this is not valid YAML: ", 0), 0U) << d.message;
  EXPECT_GE(d.line, 2U);
}

TEST(yaml_reader, size_limit_is_checked_first) {
  reader r("a: 1\n");
  r.limits.max_bytes = 4;
  r.limits.size_advice = "raise it";
  const auto& res = r.run();
  EXPECT_FALSE(res.root);
  ASSERT_EQ(res.problems.items().size(), 1U);
  EXPECT_EQ(format(res.problems.items()[0]),
            "t.yaml: error: the file is 5 bytes, over the limit of 4 bytes; raise it");
}

// ---- streaming --------------------------------------------------------------

struct collected {
  std::vector<yaml_node> items;
  std::vector<std::size_t> indices;
};

TEST(yaml_reader, streams_the_accounts_without_storing_them) {
  reader r(
      "before: 1\n"
      "accounts:\n"
      "  - {id: a}\n"
      "  - plain\n"
      "  - [x, y]\n"
      "after:\n"
      "  accounts: [not, streamed]\n");
  collected got;
  const yaml_item_stream stream{"accounts", [&](yaml_node&& item, std::size_t index) {
                                  got.items.push_back(std::move(item));
                                  got.indices.push_back(index);
                                  return true;
                                }};
  const auto& res = r.run(&stream);
  ASSERT_TRUE(res.root) << messages(res.problems);
  EXPECT_TRUE(res.problems.empty());

  ASSERT_EQ(got.items.size(), 3U);
  EXPECT_EQ(got.indices, (std::vector<std::size_t>{0, 1, 2}));
  ASSERT_TRUE(got.items[0].is_mapping());
  EXPECT_EQ(got.items[0].value(0).text, "a");
  EXPECT_EQ(got.items[0].mark.line, 2U);
  EXPECT_EQ(got.items[0].mark.column, 4U);
  EXPECT_EQ(got.items[1].text, "plain");
  EXPECT_TRUE(got.items[2].is_sequence());

  // The root keeps the key and an empty list: the items were never stored.
  const yaml_node* accounts = find(*res.root, "accounts");
  ASSERT_NE(accounts, nullptr);
  ASSERT_TRUE(accounts->is_sequence());
  EXPECT_TRUE(accounts->items.empty());
  EXPECT_EQ(accounts->mark.line, 2U);
  EXPECT_EQ(accounts->mark.column, 2U);

  // A list of the same name deeper down is an ordinary list.
  const yaml_node* nested_items = find(*find(*res.root, "after"), "accounts");
  ASSERT_NE(nested_items, nullptr);
  EXPECT_EQ(nested_items->items.size(), 2U);
  EXPECT_EQ(find(*res.root, "before")->text, "1");
}

TEST(yaml_reader, streaming_checks_the_items_like_any_node) {
  reader r(
      "items:\n"
      "  - {a: 1, a: 2}\n"
      "  -\n"
      "  - x\n");
  collected got;
  const yaml_item_stream stream{"items", [&](yaml_node&& item, std::size_t index) {
                                  got.items.push_back(std::move(item));
                                  got.indices.push_back(index);
                                  return true;
                                }};
  const auto& res = r.run(&stream);
  ASSERT_TRUE(res.root);
  ASSERT_EQ(res.problems.items().size(), 1U) << messages(res.problems);
  EXPECT_EQ(res.problems.items()[0].line, 2U);
  EXPECT_EQ(res.problems.items()[0].column, 12U);
  ASSERT_EQ(got.items.size(), 3U);
  EXPECT_TRUE(got.items[1].is_null());
  EXPECT_EQ(got.items[1].mark.line, 2U) << "the empty item is at its own dash";
  EXPECT_EQ(got.items[1].mark.column, 2U);
}

TEST(yaml_reader, a_scalar_or_mapping_under_the_streamed_key_is_kept) {
  reader r("items: {a: 1}\n");
  std::size_t calls = 0;
  const yaml_item_stream stream{"items", [&](yaml_node&&, std::size_t) {
                                  ++calls;
                                  return true;
                                }};
  const auto& res = r.run(&stream);
  ASSERT_TRUE(res.root);
  EXPECT_EQ(calls, 0U);
  EXPECT_TRUE(res.root->value(0).is_mapping());
}

TEST(yaml_reader, the_stream_callback_can_stop_the_reading) {
  std::string text = "items:\n";
  for (int i = 0; i < 100; ++i) {
    text += "  - " + std::to_string(i) + "\n";
  }
  text += "after: [unclosed\n";  // never reached
  reader r(text);
  std::size_t calls = 0;
  const yaml_item_stream stream{"items", [&](yaml_node&&, std::size_t index) {
                                  ++calls;
                                  return index < 4;
                                }};
  const auto& res = r.run(&stream);
  EXPECT_FALSE(res.root);
  EXPECT_EQ(calls, 5U);
  EXPECT_TRUE(res.problems.empty()) << "the caller reports why it stopped";
}

TEST(yaml_reader, a_top_level_list_is_not_streamed) {
  reader r("- items\n- [a]\n");
  std::size_t calls = 0;
  const yaml_item_stream stream{"items", [&](yaml_node&&, std::size_t) {
                                  ++calls;
                                  return true;
                                }};
  const auto& res = r.run(&stream);
  ASSERT_TRUE(res.root);
  EXPECT_EQ(calls, 0U);
  EXPECT_EQ(res.root->items.size(), 2U);
}

}  // namespace
