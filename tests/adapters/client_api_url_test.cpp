// Base URLs, the loopback rule for plain HTTP, percent-encoding and targets.
#include <gtest/gtest.h>

#include "adapters/api_url.hpp"

namespace unlinkd::adapters {
namespace {

TEST(client_api_url, https_with_and_without_port_and_path) {
  auto a = parse_base_url("https://business-api.tiktok.com");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(a->tls);
  EXPECT_EQ(a->host, "business-api.tiktok.com");
  EXPECT_EQ(a->port, 443);
  EXPECT_EQ(a->path_prefix, "");
  EXPECT_EQ(a->key(), "https://business-api.tiktok.com:443");

  a = parse_base_url("https://proxy.example:8443/tiktok/");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->port, 8443);
  EXPECT_EQ(a->path_prefix, "/tiktok");
}

TEST(client_api_url, plain_http_only_to_loopback) {
  for (const char* ok : {"http://127.0.0.1:8080", "http://127.1.2.3", "http://localhost:9",
                         "http://LOCALHOST", "http://[::1]:8080"}) {
    const auto a = parse_base_url(ok);
    ASSERT_TRUE(a) << ok << ": " << a.error().message;
    EXPECT_FALSE(a->tls);
  }
  EXPECT_EQ(parse_base_url("http://[::1]:8080")->host, "::1");
  EXPECT_EQ(parse_base_url("http://127.0.0.1")->port, 80);
  for (const char* refused :
       {"http://business-api.tiktok.com", "http://10.0.0.1:80", "http://127.0.0.1.evil.com",
        "http://128.0.0.1", "http://127.0.0.256", "http://localhost.evil.com"}) {
    const auto a = parse_base_url(refused);
    ASSERT_FALSE(a) << refused;
    EXPECT_NE(a.error().message.find("loopback"), std::string::npos) << a.error().message;
  }
}

TEST(client_api_url, malformed_base_urls_are_sentences) {
  for (const char* bad : {"", "ftp://x", "business-api.tiktok.com", "https://", "https://:443",
                          "https://h:0", "https://h:70000", "https://h:12a", "https://h:",
                          "https://u:p@h", "https://h/p?q=1", "https://[::1", "https://[::1]x"}) {
    const auto a = parse_base_url(bad);
    EXPECT_FALSE(a) << bad;
    if (!a) {
      EXPECT_FALSE(a.error().message.empty());
    }
  }
}

TEST(client_api_url, loopback_hosts) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.255.255.255"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("127.0.0"));
  EXPECT_FALSE(is_loopback_host("127.0.0.1.2"));
  EXPECT_FALSE(is_loopback_host("127.0.0.01234"));
  EXPECT_FALSE(is_loopback_host("127..0.1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
}

TEST(client_api_url, percent_encoding_keeps_only_unreserved_characters) {
  EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode(R"(["1","2"])"), "%5B%221%22%2C%222%22%5D");
  EXPECT_EQ(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(percent_encode(""), "");
}

TEST(client_api_url, targets_carry_the_version_prefix_and_the_encoded_query) {
  const auto a = parse_base_url("http://127.0.0.1:1/base").value();
  EXPECT_EQ(build_target(a, "/bc/get/", {}), "/base/open_api/v1.3/bc/get/");
  EXPECT_EQ(build_target(a, "/campaign/get/",
                         {{"advertiser_id", "71"}, {"filtering", R"({"campaign_ids":["17"]})"}}),
            "/base/open_api/v1.3/campaign/get/"
            "?advertiser_id=71&filtering=%7B%22campaign_ids%22%3A%5B%2217%22%5D%7D");
}

}  // namespace
}  // namespace unlinkd::adapters
