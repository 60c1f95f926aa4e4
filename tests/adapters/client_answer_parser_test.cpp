// answer_parser: an answer's data.list written out as JSON lines must hold
// exactly the items json::parse reads, whatever the chunks the body arrives
// in, and the rest of the answer must be the value json::parse builds.
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "adapters/answer_parser.hpp"

namespace unlinkd::adapters {
namespace {

namespace json = boost::json;

struct parsed {
  json::value answer;
  std::string lines;
  std::size_t count = 0;
  json::error_code ec;
};

// Feeds `body` in pieces of `piece` bytes (0: whole).
parsed parse(const std::string& body, std::size_t piece, bool list_as_lines = true) {
  answer_parser p(list_as_lines);
  parsed out;
  const std::size_t step = piece == 0 ? body.size() : piece;
  for (std::size_t at = 0; at < body.size() && !out.ec; at += step) {
    p.write(body.data() + at, std::min(step, body.size() - at), out.ec);
  }
  if (!out.ec) {
    p.finish(out.ec);
  }
  if (!out.ec) {
    out.answer = p.release();
    out.count = p.line_count();
    out.lines = p.take_lines();
  }
  return out;
}

std::vector<json::value> items_of(const std::string& lines) {
  std::vector<json::value> items;
  std::size_t at = 0;
  while (at < lines.size()) {
    const auto end = lines.find('\n', at);
    EXPECT_NE(end, std::string::npos) << "every line ends in a newline";
    items.push_back(json::parse(lines.substr(at, end - at)));
    at = end + 1;
  }
  return items;
}

const std::string page = R"({"code": 0, "message": "OK", "request_id": "2026112700000000AB",
  "data": {"page_info": {"page": 1, "page_size": 3, "total_page": 4, "total_number": 10},
  "list": [
    {"ad_id": "1798", "spend": 12.50, "impressions": 18446744073709551615, "clicks": -3,
     "ratio": 1.5e-7, "name": "quote \" slash \\ tab \t nl \n ctl \u0001 \u00e9 \ud83d\ude00",
     "tags": ["a", [], {}, [1, [2, {"x": null}]]], "on": true, "off": false, "none": null},
    "a string item", 42, [], {},
    {"nested": {"list": [1, 2], "data": {"list": [3]}}}
  ], "extra": {"list": [9]}}})";

TEST(answer_parser, list_items_as_lines_are_the_items_json_parse_reads) {
  const json::value whole = json::parse(page);
  const auto& list = whole.at("data").at("list").as_array();
  for (const std::size_t piece : {0, 1, 2, 3, 7, 64}) {
    const parsed p = parse(page, piece);
    ASSERT_FALSE(p.ec) << piece << ": " << p.ec.message();
    EXPECT_EQ(p.count, list.size()) << piece;
    const auto items = items_of(p.lines);
    ASSERT_EQ(items.size(), list.size()) << piece;
    for (std::size_t i = 0; i < items.size(); ++i) {
      EXPECT_EQ(items[i], list[i]) << piece << ": item " << i << " read " << items[i];
    }
    // The rest of the answer is as json::parse builds it, with an empty list.
    json::value expected = whole;
    expected.at("data").at("list") = json::array{};
    EXPECT_EQ(p.answer, expected) << piece;
  }
}

TEST(answer_parser, numbers_are_written_as_the_api_wrote_them) {
  const parsed p =
      parse(R"({"data":{"list":[{"spend":12.50,"big":18446744073709551615,"e":1E+2}]}})", 3);
  ASSERT_FALSE(p.ec) << p.ec.message();
  EXPECT_EQ(p.lines, "{\"spend\":12.50,\"big\":18446744073709551615,\"e\":1E+2}\n");
}

TEST(answer_parser, only_the_envelopes_data_list_becomes_lines) {
  // A "list" elsewhere (top level, nested in data, under another key) stays a value.
  const std::string body =
      R"({"list":[1],"data":{"info":{"list":[2]},"list":[{"a":1}],"more":[[{"list":[3]}]]}})";
  const parsed p = parse(body, 0);
  ASSERT_FALSE(p.ec) << p.ec.message();
  EXPECT_EQ(p.lines, "{\"a\":1}\n");
  json::value expected = json::parse(body);
  expected.at("data").at("list") = json::array{};
  EXPECT_EQ(p.answer, expected);
}

TEST(answer_parser, an_answer_without_a_list_or_with_an_empty_one_has_no_lines) {
  for (const char* body : {R"({"code":40001,"message":"no","data":{}})",
                           R"({"code":0,"data":{"list":[]}})", R"({"code":0,"data":[[]]})"}) {
    const parsed p = parse(body, 1);
    ASSERT_FALSE(p.ec) << body << ": " << p.ec.message();
    EXPECT_EQ(p.count, 0U) << body;
    EXPECT_TRUE(p.lines.empty()) << body;
    EXPECT_EQ(p.answer, json::parse(body)) << body;
  }
}

TEST(answer_parser, invalid_or_trailing_text_is_an_error_and_whitespace_is_not) {
  for (const char* bad : {R"({"data":{"list":[{"a":}]}})", R"({"data":{"list":[1]}} x)",
                          R"({"data":{"list":[1]})", R"({"a":1}{"b":2})"}) {
    for (const bool split : {true, false}) {
      EXPECT_TRUE(parse(bad, 2, split).ec) << bad << (split ? " (split)" : " (whole)");
    }
  }
  const parsed p = parse("{\"data\":{\"list\":[1]}} \r\n\t ", 2);
  EXPECT_FALSE(p.ec) << p.ec.message();
  EXPECT_EQ(p.lines, "1\n");
}

TEST(answer_parser, without_list_as_lines_it_is_json_parse) {
  const parsed p = parse(page, 5, false);
  ASSERT_FALSE(p.ec) << p.ec.message();
  EXPECT_EQ(p.answer, json::parse(page));
  EXPECT_EQ(p.count, 0U);
  EXPECT_TRUE(p.lines.empty());
}

}  // namespace
}  // namespace unlinkd::adapters
