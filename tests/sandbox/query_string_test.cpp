#include "sandbox/query_string.hpp"

#include <gtest/gtest.h>

namespace unlinkd::sandbox {
namespace {

TEST(parse_target, splits_the_path_and_decodes_the_query) {
  const auto t =
      parse_target("/open_api/v1.3/advertiser/info/?advertiser_ids=%5B%2212%22%5D&a=b+c");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path, "/open_api/v1.3/advertiser/info/");
  EXPECT_EQ(t->query.at("advertiser_ids"), "[\"12\"]");
  EXPECT_EQ(t->query.at("a"), "b c");
}

TEST(parse_target, refuses_a_broken_percent_escape) {
  EXPECT_FALSE(parse_target("/x/?a=%4").has_value());
  EXPECT_FALSE(parse_target("/x/?a=%zz").has_value());
  EXPECT_FALSE(parse_target("/x/%").has_value());
}

TEST(parse_target, takes_empty_and_valueless_parameters) {
  const auto t = parse_target("/x/?&flag&b=");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->query.at("flag"), "");
  EXPECT_EQ(t->query.at("b"), "");
}

}  // namespace
}  // namespace unlinkd::sandbox
