// The data-driven manifest corpus: every file under
// tests/data/manifests/invalid/ names the problems it must produce in
// `# expect:` comment lines, and every file under valid/ must parse cleanly.
//
//   # expect: LINE:COL: message fragment     (a positioned problem)
//   # expect: file: message fragment         (a problem with the whole file)
//   # options: max_accounts=N max_bytes=N    (manifest_options)
//   # profiles: a,b                          (manifest_options::known_profiles)
//
// Every expectation must match a diagnostic at exactly that line and column
// whose message contains the fragment, and every diagnostic must be expected:
// a case file tests one problem, and is otherwise valid.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "config/manifest_parser.hpp"

namespace {

namespace fs = std::filesystem;
using namespace unlinkd::config;
using namespace std::chrono_literals;

constexpr std::chrono::year_month_day today{std::chrono::year{2026}, std::chrono::November,
                                            std::chrono::day{26}};

fs::path manifests_dir() { return fs::path(UNLINKD_TEST_DATA) / "manifests"; }

std::vector<std::string> list_cases(const std::string& subdir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(manifests_dir() / subdir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// "id-leading-zero.yaml" -> "id_leading_zero": GoogleTest names are
// identifiers.
std::string test_name(const std::string& file) {
  std::string name = fs::path(file).stem().string();
  std::replace_if(
      name.begin(), name.end(),
      [](char c) {
        return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
      },
      '_');
  return name;
}

struct expectation {
  std::uint32_t line = 0;  // 0: a whole-file problem
  std::uint32_t column = 0;
  std::string fragment;
  std::string source;  // the comment line, for failure messages
};

struct case_spec {
  std::vector<expectation> expected;
  manifest_options options;
  std::vector<std::string> header_errors;  // malformed header lines
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool parse_number(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 12 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  out = std::stoull(std::string(text));
  return true;
}

case_spec parse_header(const std::string& bytes) {
  case_spec spec;
  std::istringstream in(bytes);
  std::string raw;
  while (std::getline(in, raw)) {
    const std::string_view line = trim(raw);
    if (line.starts_with("# expect:")) {
      const std::string_view rest = trim(line.substr(9));
      expectation e;
      e.source = std::string(line);
      if (rest.starts_with("file:")) {
        e.fragment = std::string(trim(rest.substr(5)));
      } else {
        const auto colon1 = rest.find(':');
        const auto colon2 = colon1 == std::string_view::npos ? colon1 : rest.find(':', colon1 + 1);
        std::uint64_t l = 0;
        std::uint64_t c = 0;
        if (colon2 == std::string_view::npos || !parse_number(rest.substr(0, colon1), l) ||
            !parse_number(rest.substr(colon1 + 1, colon2 - colon1 - 1), c) || l == 0 || c == 0) {
          spec.header_errors.emplace_back(line);
          continue;
        }
        e.line = static_cast<std::uint32_t>(l);
        e.column = static_cast<std::uint32_t>(c);
        e.fragment = std::string(trim(rest.substr(colon2 + 1)));
      }
      if (e.fragment.empty()) {
        spec.header_errors.emplace_back(line);
        continue;
      }
      spec.expected.push_back(std::move(e));
    } else if (line.starts_with("# options:")) {
      std::istringstream words{std::string(line.substr(10))};
      std::string word;
      while (words >> word) {
        const auto eq = word.find('=');
        std::uint64_t n = 0;
        const auto name = word.substr(0, eq);
        if (eq == std::string::npos || !parse_number(std::string_view(word).substr(eq + 1), n) ||
            (name != "max_accounts" && name != "max_bytes")) {
          spec.header_errors.emplace_back(line);
        } else if (name == "max_accounts") {
          spec.options.max_accounts = n;
        } else {
          spec.options.max_bytes = n;
        }
      }
    } else if (line.starts_with("# profiles:")) {
      std::vector<std::string> profiles;
      std::istringstream names{std::string(line.substr(11))};
      std::string name;
      while (std::getline(names, name, ',')) {
        if (!trim(name).empty()) {
          profiles.emplace_back(trim(name));
        }
      }
      spec.options.known_profiles = std::move(profiles);
    }
  }
  return spec;
}

bool matches(const expectation& e, const diagnostic& d) {
  return d.line == e.line && (e.line == 0 || d.column == e.column) &&
         d.message.find(e.fragment) != std::string::npos;
}

std::string describe_all(const diagnostics& problems) {
  std::string out = problems.to_text();
  return out.empty() ? "(no problems)\n" : out;
}

class invalid_manifest : public ::testing::TestWithParam<std::string> {};

TEST_P(invalid_manifest, reports_exactly_the_expected_problems) {
  const auto path = manifests_dir() / "invalid" / GetParam();
  const std::string bytes = read_bytes(path);
  const case_spec spec = parse_header(bytes);
  ASSERT_TRUE(spec.header_errors.empty()) << "malformed header line: " << spec.header_errors[0];
  ASSERT_FALSE(spec.expected.empty()) << GetParam() << " has no '# expect:' line";

  const auto result = parse_manifest(bytes, GetParam(), spec.options, today);
  EXPECT_FALSE(result.value.has_value()) << "an invalid manifest must not yield a value";
  const auto& items = result.problems.items();
  const std::string all = describe_all(result.problems);

  for (const auto& e : spec.expected) {
    const bool found =
        std::any_of(items.begin(), items.end(), [&](const diagnostic& d) { return matches(e, d); });
    EXPECT_TRUE(found) << "no problem matches '" << e.source << "'; the problems were:\n" << all;
  }
  for (const auto& d : items) {
    const bool expected = std::any_of(spec.expected.begin(), spec.expected.end(),
                                      [&](const expectation& e) { return matches(e, d); });
    EXPECT_TRUE(expected) << "unexpected problem: " << format(d);
  }
  EXPECT_EQ(result.problems.dropped(), 0U);
}

INSTANTIATE_TEST_SUITE_P(corpus, invalid_manifest, ::testing::ValuesIn(list_cases("invalid")),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return test_name(info.param);
                         });

class valid_manifest : public ::testing::TestWithParam<std::string> {};

TEST_P(valid_manifest, parses_without_problems) {
  const auto path = manifests_dir() / "valid" / GetParam();
  const std::string bytes = read_bytes(path);
  const case_spec spec = parse_header(bytes);
  ASSERT_TRUE(spec.header_errors.empty()) << "malformed header line: " << spec.header_errors[0];
  ASSERT_TRUE(spec.expected.empty()) << "a valid manifest expects no problems";

  const auto result = parse_manifest(bytes, GetParam(), spec.options, today);
  EXPECT_TRUE(result.problems.empty()) << describe_all(result.problems);
  ASSERT_TRUE(result.value.has_value());
  EXPECT_FALSE(result.value->accounts.empty());
}

INSTANTIATE_TEST_SUITE_P(corpus, valid_manifest, ::testing::ValuesIn(list_cases("valid")),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return test_name(info.param);
                         });

// The corpus must not shrink silently (a bad glob, a moved directory).
TEST(manifest_corpus, holds_enough_cases) {
  EXPECT_GE(list_cases("invalid").size(), 40U);
  EXPECT_GE(list_cases("valid").size(), 6U);
}

// Case files are named after what they test, so each name is unique once
// turned into a test name.
TEST(manifest_corpus, case_names_are_distinct) {
  for (const char* dir : {"invalid", "valid"}) {
    std::vector<std::string> names;
    for (const auto& f : list_cases(dir)) {
      names.push_back(test_name(f));
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end()) << dir;
  }
}

}  // namespace
