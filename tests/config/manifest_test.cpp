// The manifest parser beyond the corpus: the values a valid manifest
// resolves to, the cap on reported problems, the encoding checks (bytes that
// cannot live in a plain-text case file) and the manifest's identity.

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "config/diagnostics.hpp"
#include "config/manifest_identity.hpp"
#include "config/manifest_parser.hpp"
#include "config/scalars.hpp"
#include "config/value_reader.hpp"

namespace {

using namespace unlinkd::config;
using namespace std::chrono_literals;
using std::chrono::year_month_day;

constexpr year_month_day today{std::chrono::year{2026}, std::chrono::November,
                               std::chrono::day{26}};

year_month_day ymd(int y, unsigned m, unsigned d) {
  return year_month_day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
}

manifest_result parse(std::string_view text, const manifest_options& options = {}) {
  return parse_manifest(text, "m.yaml", options, today);
}

// The one problem of a manifest expected to have exactly one.
const diagnostic& only_problem(const manifest_result& r) {
  EXPECT_EQ(r.problems.items().size(), 1U) << r.problems.to_text();
  static const diagnostic none{};
  return r.problems.items().empty() ? none : r.problems.items().front();
}

constexpr std::string_view head =
    "version: 1\n"
    "batch: resolved\n"
    "credentials: acme-bc\n"
    "business_center_id: \"7012345678901234567\"\n";

// ---- resolved values --------------------------------------------------------

TEST(manifest_values, top_level_fields_and_defaults) {
  const auto r = parse(std::string(head) +
                       "accounts:\n"
                       "  - id: \"7123456789012345678\"\n"
                       "    type: tiktok_account\n"
                       "    unlink: bc_asset\n");
  ASSERT_TRUE(r.value) << r.problems.to_text();
  const manifest& m = *r.value;
  EXPECT_EQ(m.version, 1U);
  EXPECT_EQ(m.batch, "resolved");
  EXPECT_EQ(m.credentials, "acme-bc");
  EXPECT_EQ(m.business_center_id, "7012345678901234567");
  EXPECT_EQ(m.requested_by, "");
  EXPECT_EQ(m.action, batch_action::unlink);
  EXPECT_FALSE(m.dry_run);
  EXPECT_TRUE(m.notify.empty());
  EXPECT_FALSE(m.concurrency.has_value());
  EXPECT_FALSE(m.retry.max_attempts.has_value());
  EXPECT_FALSE(m.retry.initial_backoff.has_value());
  EXPECT_FALSE(m.retry.max_backoff.has_value());
  ASSERT_EQ(m.accounts.size(), 1U);
  const account& a = m.accounts[0];
  EXPECT_EQ(a.id, "7123456789012345678");
  EXPECT_EQ(a.type, account_type::tiktok_account);
  EXPECT_EQ(a.label, "");
  ASSERT_TRUE(a.mode.has_value());
  EXPECT_EQ(*a.mode, unlink_mode::bc_asset);
  EXPECT_EQ(a.active_campaigns, campaign_policy::fail);
  EXPECT_TRUE(a.backup.required);
  // 365 days before the day of acceptance, to the day before it.
  EXPECT_EQ(a.backup.reports_since, ymd(2025, 11, 26));
  EXPECT_EQ(a.backup.reports_until, ymd(2026, 11, 25));
  EXPECT_EQ(a.verify_deadline, 30min);
}

TEST(manifest_values, default_report_range_crosses_a_leap_day) {
  const auto r = parse_manifest(std::string(head) +
                                    "accounts:\n"
                                    "  - {id: \"1\", type: tiktok_account, unlink: bc_asset}\n",
                                "m.yaml", {}, ymd(2024, 3, 1));
  ASSERT_TRUE(r.value) << r.problems.to_text();
  EXPECT_EQ(r.value->accounts[0].backup.reports_since, ymd(2023, 3, 2));
  EXPECT_EQ(r.value->accounts[0].backup.reports_until, ymd(2024, 2, 29));
}

TEST(manifest_values, defaults_apply_and_accounts_override_them) {
  const auto r = parse(std::string(head) +
                       "requested_by: ops@agency.example\n"
                       "dry_run: true\n"
                       "notify: [https://hooks.example/a, http://127.0.0.1:8080/b]\n"
                       "limits: {concurrency: 16}\n"
                       "retry: {max_attempts: 8, initial_backoff: 2s, max_backoff: 10m}\n"
                       "defaults:\n"
                       "  unlink: partner_share\n"
                       "  partner_id: \"7099999999999999999\"\n"
                       "  members: [\"6900000000000000001\", \"6900000000000000002\"]\n"
                       "  advertiser_id: \"7123456789012345678\"\n"
                       "  active_campaigns: ignore\n"
                       "  backup: {required: false, reports_since: 2025-01-01, "
                       "reports_until: 2026-10-31}\n"
                       "  verify_deadline: 5m\n"
                       "accounts:\n"
                       "  - id: \"7123456789012345678\"\n"
                       "    type: advertiser\n"
                       "    label: Acme US\n"
                       "  - id: \"7123456789012345679\"\n"
                       "    type: advertiser\n"
                       "    unlink: member_access\n"
                       "    members: [\"6900000000000000009\"]\n"
                       "    active_campaigns: pause\n"
                       "    backup: {required: true, reports_since: 2026-02-01}\n"
                       "    verify_deadline: 90s\n"
                       "  - id: \"7123456789012345680\"\n"
                       "    type: tiktok_account\n"
                       "    unlink: tiktok_binding\n");
  ASSERT_TRUE(r.value) << r.problems.to_text();
  const manifest& m = *r.value;
  EXPECT_EQ(m.requested_by, "ops@agency.example");
  EXPECT_TRUE(m.dry_run);
  EXPECT_EQ(m.notify,
            (std::vector<std::string>{"https://hooks.example/a", "http://127.0.0.1:8080/b"}));
  EXPECT_EQ(m.concurrency, 16U);
  EXPECT_EQ(m.retry.max_attempts, 8U);
  EXPECT_EQ(m.retry.initial_backoff, 2s);
  EXPECT_EQ(m.retry.max_backoff, 10min);
  ASSERT_EQ(m.accounts.size(), 3U);

  const account& inherits = m.accounts[0];
  EXPECT_EQ(inherits.label, "Acme US");
  EXPECT_EQ(inherits.mode, unlink_mode::partner_share);
  EXPECT_EQ(inherits.partner_id, "7099999999999999999");
  EXPECT_EQ(inherits.active_campaigns, campaign_policy::ignore);
  EXPECT_FALSE(inherits.backup.required);
  EXPECT_EQ(inherits.backup.reports_since, ymd(2025, 1, 1));
  EXPECT_EQ(inherits.backup.reports_until, ymd(2026, 10, 31));
  EXPECT_EQ(inherits.verify_deadline, 5min);

  const account& own = m.accounts[1];
  EXPECT_EQ(own.mode, unlink_mode::member_access);
  EXPECT_EQ(own.members, std::vector<std::string>{"6900000000000000009"});
  EXPECT_EQ(own.active_campaigns, campaign_policy::pause);
  EXPECT_TRUE(own.backup.required);
  EXPECT_EQ(own.backup.reports_since, ymd(2026, 2, 1));
  EXPECT_EQ(own.backup.reports_until, ymd(2026, 10, 31));  // the other end from defaults:
  EXPECT_EQ(own.verify_deadline, 90s);

  const account& binding = m.accounts[2];
  EXPECT_EQ(binding.type, account_type::tiktok_account);
  EXPECT_EQ(binding.mode, unlink_mode::tiktok_binding);
  EXPECT_EQ(binding.advertiser_id, "7123456789012345678");
}

TEST(manifest_values, members_keep_their_order) {
  const auto r = parse(std::string(head) +
                       "accounts:\n"
                       "  - id: \"7123456789012345678\"\n"
                       "    type: advertiser\n"
                       "    unlink: member_access\n"
                       "    members:\n"
                       "      - \"6900000000000000003\"\n"
                       "      - 6900000000000000001\n"
                       "      - \"6900000000000000002\"\n");
  ASSERT_TRUE(r.value) << r.problems.to_text();
  EXPECT_EQ(r.value->accounts[0].members,
            (std::vector<std::string>{"6900000000000000003", "6900000000000000001",
                                      "6900000000000000002"}));
  EXPECT_TRUE(r.value->accounts[0].partner_id.empty());
  EXPECT_TRUE(r.value->accounts[0].advertiser_id.empty());
}

TEST(manifest_values, action_pause_defaults_campaigns_to_pause_and_needs_no_mode) {
  const auto r = parse(std::string(head) +
                       "action: pause\n"
                       "accounts:\n"
                       "  - id: \"7123456789012345678\"\n"
                       "    type: advertiser\n"
                       "  - id: \"7123456789012345679\"\n"
                       "    type: tiktok_account\n"
                       "    unlink: bc_asset\n");
  ASSERT_TRUE(r.value) << r.problems.to_text();
  EXPECT_EQ(r.value->action, batch_action::pause);
  ASSERT_EQ(r.value->accounts.size(), 2U);
  EXPECT_FALSE(r.value->accounts[0].mode.has_value());
  EXPECT_EQ(r.value->accounts[0].active_campaigns, campaign_policy::pause);
  EXPECT_EQ(r.value->accounts[1].mode, unlink_mode::bc_asset);
  EXPECT_EQ(r.value->accounts[1].active_campaigns, campaign_policy::pause);
}

TEST(manifest_values, ids_are_kept_as_text_exactly) {
  // 19 and 20 digits are past what a double holds exactly; plain integers
  // must not go through a number.
  const auto r = parse(
      "version: 1\n"
      "batch: ids\n"
      "credentials: acme-bc\n"
      "business_center_id: 9007199254740993\n"
      "accounts:\n"
      "  - id: 7123456789012345678\n"
      "    type: advertiser\n"
      "    unlink: partner_share\n"
      "    partner_id: 18446744073709551615\n"
      "  - id: \"99999999999999999999\"\n"
      "    type: tiktok_account\n"
      "    unlink: tiktok_binding\n"
      "    advertiser_id: 1\n");
  ASSERT_TRUE(r.value) << r.problems.to_text();
  EXPECT_EQ(r.value->business_center_id, "9007199254740993");
  EXPECT_EQ(r.value->accounts[0].id, "7123456789012345678");
  EXPECT_EQ(r.value->accounts[0].partner_id, "18446744073709551615");
  EXPECT_EQ(r.value->accounts[1].id, "99999999999999999999");
  EXPECT_EQ(r.value->accounts[1].advertiser_id, "1");
}

TEST(manifest_values, text_keys_take_any_scalar) {
  const auto r = parse(
      "version: 1\n"
      "batch: 2026\n"
      "credentials: 42\n"
      "business_center_id: \"7012345678901234567\"\n"
      "requested_by: true\n"
      "accounts:\n"
      "  - {id: \"1\", type: tiktok_account, unlink: bc_asset, label: 3.5}\n");
  ASSERT_TRUE(r.value) << r.problems.to_text();
  EXPECT_EQ(r.value->batch, "2026");
  EXPECT_EQ(r.value->credentials, "42");
  EXPECT_EQ(r.value->requested_by, "true");
  EXPECT_EQ(r.value->accounts[0].label, "3.5");
}

TEST(manifest_values, known_profiles_accept_a_listed_name) {
  manifest_options options;
  options.known_profiles = std::vector<std::string>{"other", "acme-bc"};
  const auto r = parse(std::string(head) +
                           "accounts: [{id: \"1\", type: tiktok_account, "
                           "unlink: bc_asset}]\n",
                       options);
  EXPECT_TRUE(r.value) << r.problems.to_text();
}

TEST(manifest_values, an_empty_credentials_file_names_no_profile) {
  manifest_options options;
  options.known_profiles = std::vector<std::string>{};
  const auto r = parse(std::string(head) +
                           "accounts: [{id: \"1\", type: tiktok_account, "
                           "unlink: bc_asset}]\n",
                       options);
  const auto& d = only_problem(r);
  EXPECT_EQ(d.line, 3U);
  EXPECT_EQ(d.column, 14U);
  EXPECT_EQ(d.message, "credentials: no profile 'acme-bc' in the credentials file, which has none");
}

TEST(manifest_values, exactly_max_accounts_is_allowed) {
  manifest_options options;
  options.max_accounts = 2;
  const auto r = parse(std::string(head) +
                           "accounts:\n"
                           "  - {id: \"1\", type: tiktok_account, unlink: bc_asset}\n"
                           "  - {id: \"2\", type: tiktok_account, unlink: bc_asset}\n",
                       options);
  EXPECT_TRUE(r.value) << r.problems.to_text();
}

TEST(manifest_values, labels_count_characters_not_bytes) {
  // 256 characters of two bytes each: within the limit.
  std::string label;
  for (int i = 0; i < 256; ++i) {
    label += "\xC3\xA9";  // é
  }
  const auto ok = parse(std::string(head) + "accounts:\n  - {id: \"1\", type: tiktok_account, " +
                        "unlink: bc_asset, label: " + label + "}\n");
  EXPECT_TRUE(ok.value) << ok.problems.to_text();
  const auto too_long = parse(std::string(head) + "accounts:\n  - {id: \"1\", type: " +
                              "tiktok_account, unlink: bc_asset, label: " + label + "x}\n");
  EXPECT_EQ(only_problem(too_long).message,
            "accounts[0].label: is 257 characters long; the limit is 256");
}

// ---- problems: order and cap ------------------------------------------------

TEST(manifest_problems, are_sorted_by_position) {
  // Found in another order (accounts while reading, missing keys at the end,
  // modes after defaults:), reported as a person reads the file.
  const auto r = parse(
      "batch: sorted\n"
      "credentials: acme-bc\n"
      "business_center_id: \"7012345678901234567\"\n"
      "accounts:\n"
      "  - id: \"7123456789012345678\"\n"
      "    type: advertiser\n"
      "  - id: \"x\"\n"
      "    type: advertiser\n"
      "dry_run: maybe\n");
  ASSERT_FALSE(r.value);
  const auto& items = r.problems.items();
  ASSERT_EQ(items.size(), 4U) << r.problems.to_text();
  EXPECT_EQ(items[0].line, 1U);
  EXPECT_NE(items[0].message.find("missing required key 'version'"), std::string::npos);
  EXPECT_EQ(items[1].line, 5U);
  EXPECT_NE(items[1].message.find("has no unlink mode"), std::string::npos);
  EXPECT_EQ(items[2].line, 7U);
  EXPECT_NE(items[2].message.find("accounts[1].id: 'x' is not an ID"), std::string::npos);
  EXPECT_EQ(items[3].line, 9U);
  EXPECT_NE(items[3].message.find("dry_run: 'maybe' is not a boolean"), std::string::npos);
  EXPECT_TRUE(std::is_sorted(items.begin(), items.end(), [](const auto& a, const auto& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  }));
}

TEST(manifest_problems, are_capped_with_a_count_of_the_rest) {
  std::string text(head);
  text += "accounts:\n";
  for (int i = 0; i < 1000; ++i) {
    text += "  - id: \"bad" + std::to_string(i) + "\"\n    type: tiktok_account\n";
  }
  const auto r = parse(text);
  ASSERT_FALSE(r.value);
  const auto& items = r.problems.items();
  ASSERT_EQ(items.size(), diagnostics::default_cap);
  EXPECT_GT(r.problems.dropped(), 0U);
  // The first hundred, in order: accounts[0] is on line 6.
  EXPECT_EQ(items.front().line, 6U);
  EXPECT_EQ(items.front().column, 9U);
  EXPECT_NE(items.front().message.find("accounts[0].id: 'bad0' is not an ID"), std::string::npos);
  EXPECT_NE(items.back().message.find("accounts[99].id"), std::string::npos);
  const std::string text_out = r.problems.to_text();
  EXPECT_NE(text_out.find("m.yaml: error: " + std::to_string(r.problems.dropped()) +
                          " more problems not shown; fix the ones above and validate again\n"),
            std::string::npos);
}

TEST(manifest_problems, cap_counts_every_problem_left_out) {
  // 1000 accounts with one problem each: 100 shown, 900 counted.
  std::string text(head);
  text += "accounts:\n";
  for (int i = 0; i < 1000; ++i) {
    text += "  - {id: \"" + std::to_string(7000000 + i) + "\", type: advertizer}\n";
  }
  const auto r = parse(text);
  ASSERT_FALSE(r.value);
  EXPECT_EQ(r.problems.items().size(), 100U);
  EXPECT_EQ(r.problems.dropped(), 900U);
}

TEST(manifest_problems, a_valid_manifest_has_none_and_an_invalid_one_no_value) {
  const auto bad = parse(std::string(head) + "accounts: [{id: \"1\", type: advertiser}]\n");
  EXPECT_FALSE(bad.value.has_value());
  EXPECT_FALSE(bad.problems.empty());
  EXPECT_EQ(bad.problems.file(), "m.yaml");
  EXPECT_EQ(bad.problems.items()[0].file, "m.yaml");
}

TEST(manifest_problems, long_values_are_shortened_on_a_character_boundary) {
  std::string batch;
  for (int i = 0; i < 50; ++i) {
    batch += "\xC3\xA9";  // é
  }
  const auto r = parse(std::string("version: 1\nbatch: ") + batch + "\n");
  const auto& items = r.problems.items();
  const auto it = std::find_if(items.begin(), items.end(), [](const diagnostic& d) {
    return d.message.starts_with("batch: ");
  });
  ASSERT_NE(it, items.end()) << r.problems.to_text();
  EXPECT_EQ(it->message.substr(0, 7 + 1 + 80 + 4), "batch: '" + batch.substr(0, 80) + "...'");
}

TEST(value_quoting, quotes_shortens_and_escapes) {
  EXPECT_EQ(quote(""), "''");
  EXPECT_EQ(quote("abc"), "'abc'");
  EXPECT_EQ(quote(std::string(40, 'x')), "'" + std::string(40, 'x') + "'");
  EXPECT_EQ(quote(std::string(41, 'x')), "'" + std::string(40, 'x') + "...'");
  EXPECT_EQ(quote("a\tb\nc"), "'a\\x09b\\x0Ac'");
  // 39 ASCII characters and a four-byte one: all 40 shown whole.
  EXPECT_EQ(quote(std::string(39, 'x') + "\xF0\x9F\x9A\x80" + "yz"),
            "'" + std::string(39, 'x') + "\xF0\x9F\x9A\x80" + "...'");
  EXPECT_EQ(join_path("", "batch"), "batch");
  EXPECT_EQ(join_path("accounts[0]", "backup"), "accounts[0].backup");
  EXPECT_EQ(index_path("accounts", 3), "accounts[3]");
}

TEST(diagnostics_format, positioned_and_whole_file) {
  EXPECT_EQ(format(diagnostic{"a.yaml", 3, 7, "batch: wrong"}), "a.yaml:3:7: error: batch: wrong");
  EXPECT_EQ(format(diagnostic{"a.yaml", 0, 0, "too large"}), "a.yaml: error: too large");
}

TEST(diagnostics_cap, keeps_the_first_and_counts_the_rest) {
  diagnostics d("f", 2);
  d.error_at(5, 1, "one");
  d.error_at(1, 1, "two");
  EXPECT_TRUE(d.full());
  d.error_at(2, 1, "three");
  d.file_error("four");
  EXPECT_EQ(d.items().size(), 2U);
  EXPECT_EQ(d.dropped(), 2U);
  d.sort_by_position();
  EXPECT_EQ(d.items()[0].message, "two");
  EXPECT_EQ(d.to_text(),
            "f:1:1: error: two\nf:5:1: error: one\n"
            "f: error: 2 more problems not shown; fix the ones above and validate again\n");
}

// ---- encoding ---------------------------------------------------------------

TEST(manifest_encoding, invalid_utf8_is_refused_at_its_position) {
  // Line 2: "batch: ab" then a lone continuation byte.
  const auto r = parse(std::string("version: 1\nbatch: ab\x80z\n"));
  ASSERT_FALSE(r.value);
  const auto& d = only_problem(r);
  EXPECT_EQ(d.line, 2U);
  EXPECT_EQ(d.column, 10U);
  EXPECT_EQ(d.message, "the file is not valid UTF-8 (byte 0x80); save it as UTF-8");
}

TEST(manifest_encoding, overlong_and_surrogate_forms_are_not_utf8) {
  // An overlong '/' (C0 AF) and an encoded surrogate (ED A0 80).
  for (const std::string& bad : {std::string("\xC0\xAF"), std::string("\xED\xA0\x80"),
                                 std::string("\xF4\x90\x80\x80"), std::string("\xE2\x82")}) {
    const auto r = parse("label: \xC3\xA9" + bad + "\n");
    const auto& d = only_problem(r);
    EXPECT_EQ(d.line, 1U);
    EXPECT_EQ(d.column, 9U) << "after 'label: é'";
    EXPECT_NE(d.message.find("is not valid UTF-8"), std::string::npos);
  }
}

TEST(manifest_encoding, nul_byte_is_refused_at_its_position) {
  const auto r = parse(std::string("version: 1\nbatch: a\0b\n", 22));
  const auto& d = only_problem(r);
  EXPECT_EQ(d.line, 2U);
  EXPECT_EQ(d.column, 9U);
  EXPECT_EQ(d.message,
            "the file contains a NUL byte: it is not UTF-8 text (UTF-16 files must be converted "
            "to UTF-8)");
}

TEST(manifest_encoding, utf16_is_refused_at_the_start) {
  const std::string le("\xFF\xFEv\0e\0r\0", 8);
  const std::string be("\xFE\xFF\0v\0e\0r", 8);
  for (const auto& bytes : {le, be}) {
    const auto r = parse(bytes);
    const auto& d = only_problem(r);
    EXPECT_EQ(d.line, 1U);
    EXPECT_EQ(d.column, 1U);
    EXPECT_NE(d.message.find("the file is UTF-16 (or UTF-32); unlinkd reads UTF-8 only"),
              std::string::npos);
  }
}

TEST(manifest_encoding, utf16_without_a_bom_is_caught_by_its_nul_bytes) {
  const auto r = parse(std::string("v\0e\0r\0", 6));
  const auto& d = only_problem(r);
  EXPECT_EQ(d.line, 1U);
  EXPECT_EQ(d.column, 2U);
  EXPECT_NE(d.message.find("NUL byte"), std::string::npos);
}

TEST(manifest_encoding, control_characters_are_refused_at_their_position) {
  const auto r = parse("version: 1\nbatch: \xC3\xA9t\xC3\xA9\x1B[0m\n");
  const auto& d = only_problem(r);
  EXPECT_EQ(d.line, 2U);
  EXPECT_EQ(d.column, 11U);  // characters: "batch: été" is 10
  EXPECT_EQ(d.message,
            "the file contains the control character U+001B, which YAML does not allow; remove it");
  const auto del = parse("version: 1\x7F\n");
  EXPECT_EQ(only_problem(del).column, 11U);
  EXPECT_NE(only_problem(del).message.find("U+007F"), std::string::npos);
}

TEST(manifest_encoding, c1_control_characters_are_refused_too) {
  // U+009B is CSI, a terminal escape of its own; U+0085 a YAML 1.1 line break.
  const auto csi = parse(
      "version: 1\nbatch: \xC3\xA9\xC2\x9B"
      "31m\n");
  const auto& d = only_problem(csi);
  EXPECT_EQ(d.line, 2U);
  EXPECT_EQ(d.column, 9U);
  EXPECT_EQ(d.message,
            "the file contains the control character U+009B, which YAML does not allow; remove it");
  EXPECT_NE(only_problem(parse("a: \xC2\x85\n")).message.find("U+0085"), std::string::npos);
  // The next code point, U+00A0, is text.
  const auto nbsp = parse(std::string(head) +
                          "requested_by: a\xC2\xA0"
                          "b\n" +
                          "accounts: [{id: \"1\", type: tiktok_account, unlink: bc_asset}]\n");
  ASSERT_TRUE(nbsp.value) << nbsp.problems.to_text();
  EXPECT_EQ(nbsp.value->requested_by,
            "a\xC2\xA0"
            "b");
}

TEST(manifest_encoding, tabs_and_crlf_are_text) {
  const auto r = parse(
      "version: 1\r\n"
      "batch: crlf\r\n"
      "credentials: acme-bc\t# a tab before a comment\r\n"
      "business_center_id: \"7012345678901234567\"\r\n"
      "accounts:\r\n"
      "  - {id: \"1\", type: tiktok_account, unlink: bc_asset}\r\n");
  ASSERT_TRUE(r.value) << r.problems.to_text();
  EXPECT_EQ(r.value->credentials, "acme-bc");
}

TEST(manifest_encoding, oversize_is_refused_before_reading) {
  manifest_options options;
  options.max_bytes = 64;
  // Over the limit and not even UTF-8: the size is what is reported.
  const std::string bytes(65, '\xFF');
  const auto r = parse(bytes, options);
  const auto& d = only_problem(r);
  EXPECT_EQ(d.line, 0U);
  EXPECT_EQ(d.column, 0U);
  EXPECT_EQ(d.message,
            "the file is 65 bytes, over the limit of 64 bytes; the limit is max_manifest_bytes; "
            "split the accounts over several manifests");
  EXPECT_EQ(format(d), "m.yaml: error: " + d.message);
}

TEST(manifest_encoding, exactly_max_bytes_is_allowed) {
  const std::string text = std::string(head) +
                           "accounts: [{id: \"1\", type: tiktok_account, "
                           "unlink: bc_asset}]\n";
  manifest_options options;
  options.max_bytes = text.size();
  EXPECT_TRUE(parse(text, options).value);
}

TEST(manifest_encoding, utf8_bom_is_accepted) {
  const auto r = parse("\xEF\xBB\xBF" + std::string(head) +
                       "accounts: [{id: \"1\", type: tiktok_account, unlink: bc_asset}]\n");
  ASSERT_TRUE(r.value) << r.problems.to_text();
  EXPECT_EQ(r.value->version, 1U);
}

TEST(manifest_encoding, positions_after_a_bom_ignore_it) {
  const auto r = parse(
      "\xEF\xBB\xBF"
      "version: 2\n");
  ASSERT_FALSE(r.value);
  const auto& items = r.problems.items();
  const auto it = std::find_if(items.begin(), items.end(), [](const diagnostic& d) {
    return d.message.find("version '2'") != std::string::npos;
  });
  ASSERT_NE(it, items.end()) << r.problems.to_text();
  EXPECT_EQ(it->line, 1U);
  EXPECT_EQ(it->column, 10U);
}

TEST(manifest_encoding, columns_count_characters) {
  // The label is 6 characters but 16 bytes: counted in bytes, the bad ID's
  // column would be 10 too far.
  const auto r =
      parse(std::string(head) +
            "accounts:\n"
            "  - {label: \"\xE6\x9D\xB1\xE4\xBA\xAC\xE6\x94\xAF\xE5\xBA\x97 \xE2\x9C\x93\","
            " id: \"x\", type: tiktok_account, unlink: bc_asset}\n");
  const auto& d = only_problem(r);
  EXPECT_EQ(d.line, 6U);
  // `  - {label: ` is 12 characters, the quoted label 8, `, id: ` 6: the
  // ID's opening quote is character 27.
  EXPECT_EQ(d.column, 27U);
  EXPECT_NE(d.message.find("accounts[0].id: 'x' is not an ID"), std::string::npos);
}

TEST(manifest_encoding, columns_count_four_byte_characters_once) {
  const auto r = parse(std::string(head) +
                       "accounts:\n"
                       "  - {label: \xF0\x9F\x9A\x80, id: x, type: tiktok_account, "
                       "unlink: bc_asset}\n");
  const auto& d = only_problem(r);
  EXPECT_EQ(d.line, 6U);
  EXPECT_EQ(d.column, 20U);  // `  - {label: ` 12, the rocket 1, `, id: ` 6
  EXPECT_NE(d.message.find("accounts[0].id: 'x' is not an ID"), std::string::npos);
}

// ---- identity ---------------------------------------------------------------

TEST(manifest_identity, is_the_sha256_of_the_bytes) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("The quick brown fox jumps over the lazy dog"),
            "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
  // The bytes, not the text: a NUL and a BOM count.
  EXPECT_NE(sha256_hex(std::string("a\0", 2)), sha256_hex("a"));
  EXPECT_NE(sha256_hex("\xEF\xBB\xBF"
                       "a"),
            sha256_hex("a"));
}

}  // namespace
