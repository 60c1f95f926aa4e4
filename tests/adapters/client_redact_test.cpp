// No token or secret survives redaction, and nothing else is touched.
#include <gtest/gtest.h>

#include "adapters/redact.hpp"

namespace unlinkd::adapters {
namespace {

TEST(client_redact, the_secret_of_oauth2_advertiser_get_is_hidden) {
  EXPECT_EQ(redact_url("/open_api/v1.3/oauth2/advertiser/get/?app_id=7&secret=s3cr3t-value"),
            "/open_api/v1.3/oauth2/advertiser/get/?app_id=7&secret=[redacted]");
  EXPECT_EQ(redact_url("https://h/p?secret=abc&app_id=7#frag"),
            "https://h/p?secret=[redacted]&app_id=7#frag");
}

TEST(client_redact, every_credential_parameter_in_any_case) {
  EXPECT_EQ(redact_url("/x?Access_Token=t1&APP_SECRET=t2&auth_code=t3&refresh_token=t4&token=t5"),
            "/x?Access_Token=[redacted]&APP_SECRET=[redacted]&auth_code=[redacted]&refresh_token=["
            "redacted]"
            "&token=[redacted]");
  EXPECT_TRUE(is_secret_parameter("SECRET"));
  EXPECT_FALSE(is_secret_parameter("secretary"));
  EXPECT_FALSE(is_secret_parameter("advertiser_id"));
}

TEST(client_redact, urls_without_secrets_are_unchanged) {
  for (const char* url : {"/bc/get/", "/bc/get/?", "/x?a=1&b=2", "/x?flag&a=", "/x?=v"}) {
    EXPECT_EQ(redact_url(url), url);
  }
}

TEST(client_redact, values_are_replaced_wherever_they_appear) {
  const std::vector<std::string_view> secrets{"tok-123456", "sec-987"};
  EXPECT_EQ(redact_values("Token tok-123456 and tok-123456, secret sec-987.", secrets),
            "Token [redacted] and [redacted], secret [redacted].");
  EXPECT_EQ(redact_values("nothing here", secrets), "nothing here");
}

TEST(client_redact, empty_and_tiny_values_do_not_shred_the_text) {
  const std::vector<std::string_view> secrets{"", "a", "abc"};
  EXPECT_EQ(redact_values("a cab abc", secrets), "a cab abc");
}

TEST(client_redact, a_secret_containing_the_mark_terminates) {
  const std::vector<std::string_view> secrets{"[redacted]x"};
  EXPECT_EQ(redact_values("[redacted]x[redacted]x", secrets), "[redacted][redacted]");
}

}  // namespace
}  // namespace unlinkd::adapters
