// The credentials file (PRODUCT.md §6): profiles, budgets, the file's
// permissions, and secrets that never reach a message.

#include "config/credentials.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace unlinkd::config;

credentials_result parse(const std::string& text) { return parse_credentials(text, "c.yaml"); }

std::string only_problem(const credentials_result& r) {
  EXPECT_EQ(r.problems.items().size(), 1U) << r.problems.to_text();
  return r.problems.items().empty() ? std::string() : format(r.problems.items()[0]);
}

// A profile with the required keys and `extra` lines appended.
std::string profile(const std::string& name, const std::string& app_id,
                    const std::string& extra = "") {
  return "  " + name + ":\n    app_id: \"" + app_id + "\"\n    secret: s-" + name +
         "\n    access_token: t-" + name + "\n" + extra;
}

// ---- parsing ----------------------------------------------------------------

TEST(credentials, a_profile_with_every_key) {
  const auto r = parse(
      "profiles:\n"
      "  acme-bc:\n"
      "    app_id: \"7000000000000000001\"\n"
      "    secret: app-secret\n"
      "    access_token: \"long-term-token\"\n"
      "    tier: advanced\n"
      "    base_url: http://127.0.0.1:8080\n");
  ASSERT_TRUE(r.problems.empty()) << r.problems.to_text();
  ASSERT_EQ(r.value.profiles.size(), 1U);
  const credential_profile& p = r.value.profiles[0];
  EXPECT_EQ(p.name, "acme-bc");
  EXPECT_EQ(p.app_id, "7000000000000000001");
  EXPECT_EQ(p.app_secret.reveal(), "app-secret");
  EXPECT_EQ(p.access_token.reveal(), "long-term-token");
  EXPECT_EQ(p.limits, (rate_limits{20, 1'200, 1'728'000}));
  EXPECT_EQ(p.base_url, "http://127.0.0.1:8080");
  EXPECT_EQ(r.value.find("acme-bc"), &p);
  EXPECT_EQ(r.value.find("other"), nullptr);
}

TEST(credentials, tiers_set_all_three_limits) {
  EXPECT_EQ(limits_of(api_tier::basic), (rate_limits{10, 600, 864'000}));
  EXPECT_EQ(limits_of(api_tier::advanced), (rate_limits{20, 1'200, 1'728'000}));
  EXPECT_EQ(limits_of(api_tier::premium), (rate_limits{30, 1'800, 2'592'000}));
  EXPECT_EQ(limits_of(api_tier::ultimate), (rate_limits{50, 3'000, 4'320'000}));
  const auto r = parse("profiles:\n" + profile("a", "1", "    tier: basic\n") +
                       profile("b", "2", "    tier: premium\n") +
                       profile("c", "3", "    tier: ultimate\n") + profile("d", "4"));
  ASSERT_TRUE(r.problems.empty()) << r.problems.to_text();
  ASSERT_EQ(r.value.profiles.size(), 4U);
  EXPECT_EQ(r.value.find("a")->limits, limits_of(api_tier::basic));
  EXPECT_EQ(r.value.find("b")->limits, limits_of(api_tier::premium));
  EXPECT_EQ(r.value.find("c")->limits, limits_of(api_tier::ultimate));
  EXPECT_EQ(r.value.find("d")->limits, limits_of(api_tier::basic)) << "no tier means basic";
  EXPECT_EQ(r.value.find("d")->base_url, "");
}

TEST(credentials, explicit_limits_override_the_tier_one_by_one) {
  const auto r = parse("profiles:\n" + profile("a", "1", "    tier: advanced\n    qps: 5\n") +
                       profile("b", "2", "    qps: 1\n    qpm: 60\n    qpd: 1000\n"));
  ASSERT_TRUE(r.problems.empty()) << r.problems.to_text();
  EXPECT_EQ(r.value.find("a")->limits, (rate_limits{5, 1'200, 1'728'000}));
  EXPECT_EQ(r.value.find("b")->limits, (rate_limits{1, 60, 1'000}));
}

TEST(credentials, limits_must_not_shrink_from_second_to_day) {
  EXPECT_EQ(only_problem(parse("profiles:\n" + profile("a", "1", "    qps: 700\n"))),
            "c.yaml:2:3: error: profiles.a: the limits (700/s, 600/min, 864000/day) must not "
            "shrink from second to minute to day: qps <= qpm <= qpd");
  EXPECT_NE(only_problem(parse("profiles:\n" + profile("a", "1", "    qpd: 599\n")))
                .find("(10/s, 600/min, 599/day)"),
            std::string::npos);
}

TEST(credentials, profiles_of_one_app_share_one_budget) {
  // Same limits reached two ways: fine.
  const auto same = parse("profiles:\n" + profile("a", "7", "    tier: basic\n") +
                          profile("b", "7", "    qps: 10\n    qpm: 600\n    qpd: 864000\n"));
  EXPECT_TRUE(same.problems.empty()) << same.problems.to_text();
  EXPECT_EQ(same.value.profiles.size(), 2U);

  // Different limits for one app: refused, naming both profiles.
  const auto r = parse("profiles:\n" + profile("acme-bc", "7000000000000000001") +
                       profile("globex", "7000000000000000002", "    tier: premium\n") +
                       profile("acme-eu", "7000000000000000001", "    tier: advanced\n"));
  EXPECT_EQ(only_problem(r),
            "c.yaml:11:3: error: profiles.acme-eu: app 7000000000000000001 is also used by "
            "'acme-bc' (line 2) with other limits (20/s, 1200/min, 1728000/day here, 10/s, "
            "600/min, 864000/day there); an app has one budget: give both the same tier or "
            "limits");
}

TEST(credentials, missing_keys_are_reported_at_the_profile) {
  const auto r = parse(
      "profiles:\n"
      "  acme-bc:\n"
      "    tier: basic\n");
  const auto& items = r.problems.items();
  ASSERT_EQ(items.size(), 3U) << r.problems.to_text();
  EXPECT_EQ(format(items[0]), "c.yaml:2:3: error: profiles.acme-bc: missing required key 'app_id'");
  EXPECT_EQ(format(items[1]), "c.yaml:2:3: error: profiles.acme-bc: missing required key 'secret'");
  EXPECT_EQ(format(items[2]),
            "c.yaml:2:3: error: profiles.acme-bc: missing required key 'access_token'");
  EXPECT_TRUE(r.value.profiles.empty());
}

TEST(credentials, structure_problems) {
  EXPECT_EQ(only_problem(parse("")),
            "c.yaml:1:1: error: the file is empty; it needs a profiles: mapping");
  EXPECT_EQ(only_problem(parse("# nothing\n")),
            "c.yaml:1:1: error: the file is empty; it needs a profiles: mapping");
  EXPECT_EQ(only_problem(parse("version: 1\nprofiles: {}\n")),
            "c.yaml:1:1: error: unknown key; expected one of profiles");
  EXPECT_EQ(parse("profile: {}\n").problems.to_text(),
            "c.yaml:1:1: error: unknown key; did you mean profiles?\n"
            "c.yaml:1:1: error: missing required key 'profiles'\n");
  EXPECT_EQ(only_problem(parse("profiles: [a]\n")),
            "c.yaml:1:11: error: profiles: must be a mapping of keys to values, not a list");
  EXPECT_EQ(only_problem(parse("- profiles\n")),
            "c.yaml:1:1: error: (top level): must be a mapping of keys to values, not a list");
  EXPECT_EQ(only_problem(parse("profiles:\n  acme bc: {}\n")),
            "c.yaml:2:3: error: profiles: 'acme bc' is not a profile name (letters, digits, '.', "
            "'_', '-'; at most 64)");
  EXPECT_EQ(only_problem(parse("profiles:\n  acme: token\n")),
            "c.yaml:2:9: error: profiles.acme: must be a mapping of keys to values, not text");
}

TEST(credentials, no_profiles_at_all_is_a_valid_empty_file) {
  const auto r = parse("profiles: {}\n");
  EXPECT_TRUE(r.problems.empty()) << r.problems.to_text();
  EXPECT_TRUE(r.value.profiles.empty());
}

TEST(credentials, value_problems) {
  EXPECT_EQ(only_problem(parse("profiles:\n" + profile("a", "0123"))),
            "c.yaml:3:13: error: profiles.a.app_id: the value is not an ID: it starts with 0; IDs "
            "are 1 to 20 digits with no sign, exponent or leading zero, best written in quotes, "
            "e.g. \"7123456789012345678\"");
  EXPECT_EQ(only_problem(parse("profiles:\n" + profile("a", "1", "    tier: basik\n"))),
            "c.yaml:6:11: error: profiles.a.tier: 'basik' is not one of basic, advanced, "
            "premium, ultimate (did you mean basic?)");
  EXPECT_EQ(only_problem(parse("profiles:\n" + profile("a", "1", "    qps: 0\n"))),
            "c.yaml:6:10: error: profiles.a.qps: the value is not a whole number from 1 to 100000 "
            "(without quotes)");
  EXPECT_EQ(only_problem(parse("profiles:\n" + profile("a", "1", "    base_url: ftp://x\n"))),
            "c.yaml:6:15: error: profiles.a.base_url: is not a URL unlinkd can use; write "
            "https://HOST[:PORT]/PATH (http:// only to 127.0.0.1, [::1] or localhost), without "
            "user:password@");
  EXPECT_EQ(only_problem(parse("profiles:\n  a:\n    app_id: \"1\"\n    secret:\n    "
                               "access_token: t\n")),
            "c.yaml:4:5: error: profiles.a.secret: has no value; write the secret or remove the "
            "key");
  EXPECT_EQ(only_problem(parse("profiles:\n  a:\n    app_id: \"1\"\n    secret: \"\"\n    "
                               "access_token: t\n")),
            "c.yaml:4:13: error: profiles.a.secret: is empty");
  EXPECT_EQ(only_problem(parse("profiles:\n  a:\n    app_id: \"1\"\n    secret: s\n    "
                               "access_token: \"" +
                               std::string(4097, 'x') + "\"\n")),
            "c.yaml:5:19: error: profiles.a.access_token: is longer than 4096 bytes");
}

TEST(credentials, a_mistyped_key_gets_a_suggestion_without_being_quoted) {
  EXPECT_EQ(only_problem(parse("profiles:\n" + profile("a", "1", "    teir: basic\n"))),
            "c.yaml:6:5: error: profiles.a: unknown key; did you mean tier?");
}

TEST(credentials, a_key_glued_to_its_value_is_explained) {
  const auto r = parse(
      "profiles:\n"
      "  a:\n"
      "    app_id: \"1\"\n"
      "    secret: s\n"
      "    access_token:t0k3n\n");
  const auto& items = r.problems.items();
  ASSERT_EQ(items.size(), 2U) << r.problems.to_text();
  EXPECT_EQ(format(items[0]), "c.yaml:2:3: error: profiles.a: missing required key 'access_token'");
  EXPECT_EQ(format(items[1]),
            "c.yaml:5:5: error: profiles.a: unknown key; if it is access_token, put a space after "
            "its colon: access_token: VALUE");
}

// ---- secrets never reach a message -------------------------------------------

TEST(credentials, secrets_never_appear_in_any_message) {
  const std::string secret = "Sx9-SECRET-7f3a9c0e";
  const std::string token = "Tk4-TOKEN-a1b2c3d4e5";
  const std::string good = "profiles:\n  acme:\n    app_id: \"7000000000000000001\"\n";
  const std::vector<std::string> variants = {
      // wrong types
      good + "    secret: {value: " + secret + "}\n    access_token: [" + token + "]\n",
      good + "    secret:\n      - " + secret + "\n    access_token:\n      k: " + token + "\n",
      // repeated keys
      good + "    secret: " + secret + "\n    secret: " + secret + "\n    access_token: " + token +
          "\n    access_token: " + token + "\n",
      // a bad tier and bad limits next to them
      good + "    secret: " + secret + "\n    access_token: " + token + "\n    tier: gold\n",
      good + "    secret: " + secret + "\n    access_token: " + token + "\n    qps: 100000\n" +
          "    qpm: 10\n",
      // unknown keys next to them, and a key glued to its value
      good + "    secret: " + secret + "\n    access_token: " + token + "\n    scret: x\n",
      good + "    secret: " + secret + "\n    access_token:" + token + "\n",
      good + "    secret:" + secret + "\n    access_token: " + token + "\n",
      "profiles:\n  acme: {app_id: \"1\", secret:" + secret + ", access_token:" + token + "}\n",
      // values pasted under the wrong key
      good + "    secret: x\n    access_token: y\n    tier: basic\n    qps: " + secret + "\n",
      "profiles:\n  acme:\n    app_id: " + secret + "\n    secret: " + secret +
          "\n    access_token: " + token + "\n",
      "profiles:\n  acme:\n    app_id: \"" + token + "\"\n    secret: x\n    access_token: y\n",
      good + "    secret: x\n    access_token: y\n    base_url: https://" + token + "@h.example/\n",
      good + "    secret: x\n    access_token: y\n    base_url: " + secret + "\n",
      // conflicting limits
      "profiles:\n" + profile("a", "9") + "  b:\n    app_id: \"9\"\n    secret: " + secret +
          "\n    access_token: " + token + "\n    tier: ultimate\n",
      // syntax errors after them
      good + "    secret: " + secret + "\n    access_token: " + token + "\n  - broken\n",
      good + "    secret: \"" + secret + "\n    access_token: " + token + "\n",
      good + "    secret: " + secret + "\n    access_token: " + token + "\n    tier: [basic\n",
      good + "    secret: " + secret + "\n    access_token: '" + token + "'x\n",
      // refused YAML around them
      good + "    secret: &s " + secret + "\n    access_token: *s\n",
      good + "    secret: !!str " + secret + "\n    access_token: " + token + "\n---\n",
      // too long
      good + "    secret: " + secret + std::string(5000, 'x') + "\n    access_token: " + token +
          "\n",
  };
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const auto r = parse(variants[i]);
    EXPECT_FALSE(r.problems.empty()) << "variant " << i << " should be refused:\n" << variants[i];
    const std::string text = r.problems.to_text();
    EXPECT_EQ(text.find(secret.substr(0, 8)), std::string::npos) << "variant " << i << ":\n"
                                                                 << text;
    EXPECT_EQ(text.find(token.substr(0, 8)), std::string::npos) << "variant " << i << ":\n" << text;
  }
}

// ---- the file ---------------------------------------------------------------

class credentials_file : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "unlinkd-creds-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& text, mode_t mode) {
    auto path = (dir_ / "credentials.yaml").string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  std::filesystem::path dir_;
  const std::string valid_ = "profiles:\n" + profile("acme-bc", "7000000000000000001");
};

TEST_F(credentials_file, mode_0600_is_accepted) {
  const auto path = write(valid_, 0600);
  const auto r = load_credentials(path, {});
  ASSERT_TRUE(r.problems.empty()) << r.problems.to_text();
  ASSERT_NE(r.value.find("acme-bc"), nullptr);
  EXPECT_EQ(r.value.find("acme-bc")->access_token.reveal(), "t-acme-bc");
  EXPECT_TRUE(load_credentials(write(valid_, 0400), {}).problems.empty());
}

TEST_F(credentials_file, group_or_other_access_is_refused) {
  for (const mode_t mode : {0640, 0604, 0660, 0644, 0610, 0601, 0620}) {
    const auto path = write(valid_, mode);
    const auto r = load_credentials(path, {});
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
    ASSERT_EQ(r.problems.items().size(), 1U) << octal;
    std::string expected = path;
    expected += ": error: has mode ";
    expected += octal;
    expected += ", so group or others may read it; it holds tokens: run chmod 600 ";
    expected += path;
    EXPECT_EQ(format(r.problems.items()[0]), expected);
    EXPECT_TRUE(r.value.profiles.empty());
  }
}

TEST_F(credentials_file, the_owner_is_checked_when_asked) {
  const auto path = write(valid_, 0600);
  const uid_t me = ::geteuid();
  EXPECT_TRUE(load_credentials(path, {me}).problems.empty());
  const auto r = load_credentials(path, {me + 1});
  ASSERT_EQ(r.problems.items().size(), 1U);
  EXPECT_EQ(r.problems.items()[0].message, "is owned by uid " + std::to_string(me) +
                                               ", not by the daemon's user (uid " +
                                               std::to_string(me + 1) + "); chown it to that user");
  EXPECT_TRUE(r.value.profiles.empty());
}

TEST_F(credentials_file, problems_name_the_file) {
  const auto path = write("profiles:\n  a: {app_id: x}\n", 0600);
  const auto r = load_credentials(path, {});
  ASSERT_FALSE(r.problems.empty());
  EXPECT_EQ(r.problems.items()[0].file, path);
}

TEST_F(credentials_file, missing_files_and_directories_are_refused) {
  const auto missing = load_credentials((dir_ / "absent.yaml").string(), {});
  ASSERT_EQ(missing.problems.items().size(), 1U);
  EXPECT_EQ(missing.problems.items()[0].message, "cannot open it: No such file or directory");
  const auto directory = load_credentials(dir_.string(), {});
  ASSERT_EQ(directory.problems.items().size(), 1U);
  EXPECT_EQ(directory.problems.items()[0].message, "it is a directory, not a file");
}

}  // namespace
