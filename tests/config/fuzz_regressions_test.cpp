// Every input that once broke the parser (tests/fuzz/regressions/) is parsed
// by the suite too, so the normal and sanitizer builds replay them on every
// run, not only scripts/fuzz.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "config/manifest_parser.hpp"

namespace unlinkd::config {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> regression_files() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(UNLINKD_FUZZ_REGRESSIONS)) {
    const auto name = entry.path().filename().string();
    if (name.starts_with("manifest-")) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

class fuzz_regression : public ::testing::TestWithParam<std::string> {};

TEST_P(fuzz_regression, parses_with_well_formed_problems) {
  const auto path = fs::path(UNLINKD_FUZZ_REGRESSIONS) / GetParam();
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  manifest_options options;
  options.max_accounts = 1000;
  const auto result =
      parse_manifest(bytes.str(), GetParam(), options,
                     std::chrono::year_month_day{std::chrono::year{2026}, std::chrono::November,
                                                 std::chrono::day{26}});
  EXPECT_EQ(result.value.has_value(), result.problems.empty());
  for (const auto& d : result.problems.items()) {
    EXPECT_FALSE(d.message.empty());
    EXPECT_TRUE(std::none_of(d.message.begin(), d.message.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20;
    })) << format(d);
    if (d.line != 0) {
      EXPECT_GE(d.column, 1U) << format(d);
      // Never past the end of the input (yaml-cpp can report a place after it).
      EXPECT_LE(d.column, bytes.str().size() + 1) << format(d);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(regressions, fuzz_regression, ::testing::ValuesIn(regression_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace_if(
                               name.begin(), name.end(),
                               [](char c) {
                                 return std::isalnum(static_cast<unsigned char>(c)) == 0;
                               },
                               '_');
                           return name;
                         });

TEST(fuzz_regressions, folder_is_not_empty) { EXPECT_GE(regression_files().size(), 7U); }

}  // namespace
}  // namespace unlinkd::config
