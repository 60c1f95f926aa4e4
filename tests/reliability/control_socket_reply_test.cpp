// parse_reply, the reading half of raw_socket: a reply counts only once it
// is whole (Content-Length or chunked to its last chunk), so the abuse
// checks never judge half an answer.
#include <gtest/gtest.h>

#include "tests/reliability/raw_socket.hpp"

namespace unlinkd::reliability {
namespace {

TEST(control_socket_reply, a_reply_with_content_length_is_whole_only_with_its_body) {
  const std::string reply =
      "HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
      "Content-Length: 19\r\n\r\n{\"error\":\"too_big\"}";
  const auto whole = parse_reply(reply);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 413U);
  EXPECT_EQ(whole->content_type, "application/json");
  EXPECT_EQ(whole->body, "{\"error\":\"too_big\"}");
  EXPECT_FALSE(parse_reply(reply.substr(0, reply.size() - 1)));
  EXPECT_FALSE(parse_reply(reply.substr(0, 40)));
}

TEST(control_socket_reply, a_chunked_reply_is_whole_at_its_last_chunk) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_FALSE(parse_reply(head + "3\r\nabc\r\n"));
  const auto whole = parse_reply(head + "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 200U);
  EXPECT_EQ(whole->body, "abcde");
}

TEST(control_socket_reply, bytes_that_are_not_http_are_no_reply) {
  EXPECT_FALSE(parse_reply(""));
  EXPECT_FALSE(parse_reply("garbage\r\n\r\n"));
  EXPECT_FALSE(parse_reply("HTTP/1.0 200 OK\r\n\r\n"));
}

}  // namespace
}  // namespace unlinkd::reliability
