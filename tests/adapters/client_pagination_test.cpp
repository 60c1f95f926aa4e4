// page_info, cursors and IDs as strings or numbers.
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "adapters/pagination.hpp"

namespace unlinkd::adapters {
namespace {

namespace json = boost::json;

TEST(client_pagination, page_info_is_read_and_says_whether_more_pages_exist) {
  const auto data = json::parse(
      R"({"list":[],"page_info":{"page":2,"page_size":50,"total_number":120,"total_page":3}})");
  const auto p = read_page_info(data);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->page, 2U);
  EXPECT_EQ(p->page_size, 50U);
  EXPECT_EQ(p->total_number, 120U);
  EXPECT_EQ(p->total_page, 3U);
  EXPECT_TRUE(p->has_next());
  EXPECT_FALSE(
      read_page_info(json::parse(R"({"page_info":{"page":3,"total_page":3}})"))->has_next());
  EXPECT_FALSE(
      read_page_info(json::parse(R"({"page_info":{"page":1,"total_page":0}})"))->has_next());
  // Numbers sent as strings are read too.
  EXPECT_EQ(
      read_page_info(json::parse(R"({"page_info":{"page":"1","total_page":"4"}})"))->total_page,
      4U);
}

TEST(client_pagination, missing_or_malformed_page_info_is_nullopt) {
  EXPECT_FALSE(read_page_info(json::parse(R"({"list":[]})")));
  EXPECT_FALSE(read_page_info(json::parse(R"({"page_info":{"page":1}})")));
  EXPECT_FALSE(read_page_info(json::parse(R"({"page_info":{"page":-1,"total_page":2}})")));
  EXPECT_FALSE(read_page_info(json::parse(R"({"page_info":{"page":"x","total_page":2}})")));
  EXPECT_FALSE(read_page_info(json::parse(R"({"page_info":[]})")));
  EXPECT_FALSE(read_page_info(json::parse(R"([1,2])")));
}

TEST(client_pagination, cursors_as_strings_or_numbers) {
  auto c = read_cursor(json::parse(R"({"has_more":true,"cursor":"abc=="})"));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->has_more);
  EXPECT_EQ(c->cursor, "abc==");
  c = read_cursor(json::parse(R"({"has_more":1,"cursor":1712000000})"));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->has_more);
  EXPECT_EQ(c->cursor, "1712000000");
  c = read_cursor(json::parse(R"({"has_more":false})"));
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->has_more);
  EXPECT_EQ(c->cursor, "");
  EXPECT_FALSE(read_cursor(json::parse(R"({"cursor":"x"})")));
  EXPECT_FALSE(read_cursor(json::parse(R"({"has_more":"maybe"})")));
}

TEST(client_pagination, ids_are_kept_as_strings) {
  EXPECT_EQ(id_string(json::parse(R"("7100000000000000001")")), "7100000000000000001");
  EXPECT_EQ(id_string(json::parse("7100000000000000001")), "7100000000000000001");
  // Beyond int64: Boost.JSON reads it as uint64, still exact.
  EXPECT_EQ(id_string(json::parse("18446744073709551615")), "18446744073709551615");
  EXPECT_EQ(id_string(json::parse("0")), "0");
  EXPECT_FALSE(id_string(json::parse("7.1e18")));  // precision already lost
  EXPECT_FALSE(id_string(json::parse("-5")));
  EXPECT_FALSE(id_string(json::parse(R"("71a")")));
  EXPECT_FALSE(id_string(json::parse(R"("")")));
  EXPECT_FALSE(id_string(json::parse("null")));
  EXPECT_FALSE(id_string(json::parse("[1]")));
}

}  // namespace
}  // namespace unlinkd::adapters
