// The value syntaxes of PRODUCT.md §2 and §6, at their edges.

#include "config/scalars.hpp"

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace {

using namespace unlinkd::config;
using namespace std::chrono_literals;

TEST(is_valid_id, accepts_1_to_20_digits_without_a_leading_zero) {
  EXPECT_TRUE(is_valid_id("1"));
  EXPECT_TRUE(is_valid_id("9"));
  EXPECT_TRUE(is_valid_id("7123456789012345678"));   // 19 digits
  EXPECT_TRUE(is_valid_id("99999999999999999999"));  // 20 digits, past uint64
  EXPECT_TRUE(is_valid_id("10"));
}

TEST(is_valid_id, refuses_everything_else) {
  EXPECT_FALSE(is_valid_id(""));
  EXPECT_FALSE(is_valid_id("0"));
  EXPECT_FALSE(is_valid_id("0123"));
  EXPECT_FALSE(is_valid_id("123456789012345678901"));  // 21 digits
  EXPECT_FALSE(is_valid_id("+123"));
  EXPECT_FALSE(is_valid_id("-123"));
  EXPECT_FALSE(is_valid_id("0x1F"));
  EXPECT_FALSE(is_valid_id("1e18"));
  EXPECT_FALSE(is_valid_id("1.0"));
  EXPECT_FALSE(is_valid_id("1_000"));
  EXPECT_FALSE(is_valid_id(" 123"));
  EXPECT_FALSE(is_valid_id("123 "));
  EXPECT_FALSE(is_valid_id("12a3"));
  EXPECT_FALSE(is_valid_id("\xD9\xA3"));  // ARABIC-INDIC DIGIT THREE
  EXPECT_FALSE(
      is_valid_id(std::string("12\0"
                              "3",
                              4)));
}

TEST(batch_name, follows_the_pattern) {
  EXPECT_TRUE(is_valid_batch_name("a"));
  EXPECT_TRUE(is_valid_batch_name("0"));
  EXPECT_TRUE(is_valid_batch_name("acme-offboarding-2026-11"));
  EXPECT_TRUE(is_valid_batch_name("a.b_c-d"));
  EXPECT_TRUE(is_valid_batch_name(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_batch_name(std::string(65, 'a')));
  EXPECT_FALSE(is_valid_batch_name(""));
  EXPECT_FALSE(is_valid_batch_name("Acme"));
  EXPECT_FALSE(is_valid_batch_name("acmE"));
  EXPECT_FALSE(is_valid_batch_name("-acme"));
  EXPECT_FALSE(is_valid_batch_name(".acme"));
  EXPECT_FALSE(is_valid_batch_name("_acme"));
  EXPECT_FALSE(is_valid_batch_name("acme offboarding"));
  EXPECT_FALSE(is_valid_batch_name("acme/offboarding"));
  EXPECT_FALSE(is_valid_batch_name("caf\xC3\xA9"));
}

TEST(profile_name, allows_upper_case_but_not_a_leading_symbol) {
  EXPECT_TRUE(is_valid_profile_name("acme-bc"));
  EXPECT_TRUE(is_valid_profile_name("Acme_BC.eu-1"));
  EXPECT_TRUE(is_valid_profile_name("A"));
  EXPECT_TRUE(is_valid_profile_name(std::string(64, 'Z')));
  EXPECT_FALSE(is_valid_profile_name(std::string(65, 'Z')));
  EXPECT_FALSE(is_valid_profile_name(""));
  EXPECT_FALSE(is_valid_profile_name("-acme"));
  EXPECT_FALSE(is_valid_profile_name(".acme"));
  EXPECT_FALSE(is_valid_profile_name("acme bc"));
  EXPECT_FALSE(is_valid_profile_name("acme:bc"));
  EXPECT_FALSE(is_valid_profile_name("acme/bc"));
}

TEST(parse_unsigned, reads_plain_decimal_integers) {
  EXPECT_EQ(parse_unsigned("0"), 0U);
  EXPECT_EQ(parse_unsigned("7"), 7U);
  EXPECT_EQ(parse_unsigned("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(parse_unsigned("18446744073709551616"));
  EXPECT_FALSE(parse_unsigned(""));
  EXPECT_FALSE(parse_unsigned("00"));
  EXPECT_FALSE(parse_unsigned("01"));
  EXPECT_FALSE(parse_unsigned("-1"));
  EXPECT_FALSE(parse_unsigned("+1"));
  EXPECT_FALSE(parse_unsigned("1.0"));
  EXPECT_FALSE(parse_unsigned("1e3"));
  EXPECT_FALSE(parse_unsigned(" 1"));
}

TEST(parse_duration, reads_one_integer_and_one_unit) {
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("2s"), 2s);
  EXPECT_EQ(parse_duration("10m"), 10min);
  EXPECT_EQ(parse_duration("1h"), 1h);
  EXPECT_EQ(parse_duration("0s"), 0ms);
  EXPECT_EQ(parse_duration("0ms"), 0ms);
  EXPECT_EQ(parse_duration("90s"), 90s);
}

TEST(parse_duration, refuses_other_forms) {
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("30"));   // no unit
  EXPECT_FALSE(parse_duration("s"));    // no number
  EXPECT_FALSE(parse_duration("1d"));   // not a unit
  EXPECT_FALSE(parse_duration("1S"));   // units are lower case
  EXPECT_FALSE(parse_duration("1 s"));  // one token
  EXPECT_FALSE(parse_duration("1min"));
  EXPECT_FALSE(parse_duration("1m30s"));  // one unit
  EXPECT_FALSE(parse_duration("1.5s"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("+1s"));
  EXPECT_FALSE(parse_duration("01s"));  // leading zero
  EXPECT_FALSE(parse_duration(" 1s"));
  EXPECT_FALSE(parse_duration("1s "));
}

TEST(parse_duration, refuses_overflow_instead_of_wrapping) {
  // 2^63 - 1 ms fits; one more does not; hours overflow much sooner.
  EXPECT_EQ(parse_duration("9223372036854775807ms"),
            std::chrono::milliseconds(std::numeric_limits<std::int64_t>::max()));
  EXPECT_FALSE(parse_duration("9223372036854775808ms"));
  EXPECT_FALSE(parse_duration("18446744073709551615ms"));
  EXPECT_FALSE(parse_duration("99999999999999999999h"));
  EXPECT_EQ(parse_duration("2562047788015h"), std::chrono::hours(2562047788015));
  EXPECT_FALSE(parse_duration("2562047788016h"));
}

TEST(parse_date, reads_real_calendar_days) {
  using namespace std::chrono;
  EXPECT_EQ(parse_date("2026-01-31"), year_month_day(year{2026}, January, day{31}));
  EXPECT_EQ(parse_date("2024-02-29"), year_month_day(year{2024}, February, day{29}));
  EXPECT_EQ(parse_date("2000-02-29"), year_month_day(year{2000}, February, day{29}));
  EXPECT_EQ(parse_date("0001-01-01"), year_month_day(year{1}, January, day{1}));
  EXPECT_EQ(parse_date("9999-12-31"), year_month_day(year{9999}, December, day{31}));
}

TEST(parse_date, refuses_impossible_days_and_other_forms) {
  EXPECT_FALSE(parse_date("2025-02-29"));  // not a leap year
  EXPECT_FALSE(parse_date("1900-02-29"));  // not a leap year either
  EXPECT_FALSE(parse_date("2025-02-30"));
  EXPECT_FALSE(parse_date("2025-04-31"));
  EXPECT_FALSE(parse_date("2025-13-01"));
  EXPECT_FALSE(parse_date("2025-00-10"));
  EXPECT_FALSE(parse_date("2025-01-00"));
  EXPECT_FALSE(parse_date("2025-1-01"));
  EXPECT_FALSE(parse_date("25-01-01"));
  EXPECT_FALSE(parse_date("2025/01/01"));
  EXPECT_FALSE(parse_date("2025-01-01T00:00:00Z"));
  EXPECT_FALSE(parse_date("2025-01-0a"));
  EXPECT_FALSE(parse_date("+025-01-01"));
  EXPECT_FALSE(parse_date("2025-+1-01"));
  EXPECT_FALSE(parse_date(""));
}

TEST(format_date, is_the_inverse_of_parse_date) {
  for (const char* text : {"2026-01-31", "2024-02-29", "0001-01-01", "9999-12-31"}) {
    const auto day = parse_date(text);
    ASSERT_TRUE(day) << text;
    EXPECT_EQ(format_date(*day), text);
  }
}

TEST(parse_byte_size, reads_bytes_with_binary_units) {
  EXPECT_EQ(parse_byte_size("0"), 0U);
  EXPECT_EQ(parse_byte_size("1048576"), 1048576U);
  EXPECT_EQ(parse_byte_size("512B"), 512U);
  EXPECT_EQ(parse_byte_size("64KiB"), 64U * 1024U);
  EXPECT_EQ(parse_byte_size("16MiB"), 16U * 1024U * 1024U);
  EXPECT_EQ(parse_byte_size("1GiB"), 1024U * 1024U * 1024U);
  EXPECT_EQ(parse_byte_size("17179869183GiB"), 17179869183ULL << 30U);
}

TEST(parse_byte_size, refuses_decimal_units_and_overflow) {
  EXPECT_FALSE(parse_byte_size(""));
  EXPECT_FALSE(parse_byte_size("MiB"));
  EXPECT_FALSE(parse_byte_size("16MB"));  // only binary units
  EXPECT_FALSE(parse_byte_size("16mib"));
  EXPECT_FALSE(parse_byte_size("16 MiB"));
  EXPECT_FALSE(parse_byte_size("1TiB"));
  EXPECT_FALSE(parse_byte_size("1.5MiB"));
  EXPECT_FALSE(parse_byte_size("-1"));
  EXPECT_FALSE(parse_byte_size("016MiB"));
  EXPECT_FALSE(parse_byte_size("17179869184GiB"));  // 2^64: overflow
  EXPECT_FALSE(parse_byte_size("18446744073709551616"));
}

TEST(is_acceptable_url, accepts_https_anywhere_and_http_to_loopback) {
  EXPECT_TRUE(is_acceptable_url("https://hooks.agency.example/unlinkd"));
  EXPECT_TRUE(is_acceptable_url("https://hooks.agency.example"));
  EXPECT_TRUE(is_acceptable_url("https://hooks.agency.example:8443/x?team=ops#frag"));
  EXPECT_TRUE(is_acceptable_url("https://[2001:db8::1]:443/x"));
  EXPECT_TRUE(is_acceptable_url("https://10.0.0.1/x"));
  EXPECT_TRUE(is_acceptable_url("http://127.0.0.1:8080/relay"));
  EXPECT_TRUE(is_acceptable_url("http://127.1.2.3/relay"));
  EXPECT_TRUE(is_acceptable_url("http://localhost/relay"));
  EXPECT_TRUE(is_acceptable_url("http://localhost:9000"));
  EXPECT_TRUE(is_acceptable_url("http://[::1]:9000/relay"));
  EXPECT_TRUE(is_acceptable_url("http://[::1]/relay"));
}

TEST(is_acceptable_url, refuses_plain_http_elsewhere) {
  EXPECT_FALSE(is_acceptable_url("http://hooks.agency.example/unlinkd"));
  EXPECT_FALSE(is_acceptable_url("http://10.0.0.1/x"));
  EXPECT_FALSE(is_acceptable_url("http://[::2]/x"));
  EXPECT_FALSE(is_acceptable_url("http://128.0.0.1/x"));
  // Look-alikes of loopback hosts.
  EXPECT_FALSE(is_acceptable_url("http://127.0.0.1.evil.example/x"));
  EXPECT_FALSE(is_acceptable_url("http://localhost.evil.example/x"));
  EXPECT_FALSE(is_acceptable_url("http://127.0.0/x"));
  EXPECT_FALSE(is_acceptable_url("http://127.0.0.256/x"));
  EXPECT_FALSE(is_acceptable_url("http://127.0.0.01/x"));
  EXPECT_FALSE(is_acceptable_url("http://127.0.0.1./x"));
  EXPECT_FALSE(is_acceptable_url("http://127..0.1/x"));
}

TEST(is_acceptable_url, refuses_what_is_not_a_usable_url) {
  EXPECT_FALSE(is_acceptable_url(""));
  EXPECT_FALSE(is_acceptable_url("hooks.agency.example/unlinkd"));
  EXPECT_FALSE(is_acceptable_url("ftp://hooks.agency.example/"));
  EXPECT_FALSE(is_acceptable_url("HTTPS://hooks.agency.example/"));
  EXPECT_FALSE(is_acceptable_url("https://"));
  EXPECT_FALSE(is_acceptable_url("https:///path"));
  EXPECT_FALSE(is_acceptable_url("https://user:password@hooks.agency.example/"));
  EXPECT_FALSE(is_acceptable_url("https://token@hooks.agency.example/"));
  EXPECT_FALSE(is_acceptable_url("https://hooks.agency.example:0/"));
  EXPECT_FALSE(is_acceptable_url("https://hooks.agency.example:65536/"));
  EXPECT_FALSE(is_acceptable_url("https://hooks.agency.example:/"));
  EXPECT_FALSE(is_acceptable_url("https://hooks.agency.example:http/"));
  EXPECT_FALSE(is_acceptable_url("https://hooks agency.example/"));
  EXPECT_FALSE(is_acceptable_url("https://hooks.agency.example/a b"));
  EXPECT_FALSE(is_acceptable_url("https://hooks.agency.example/\x7F"));
  EXPECT_FALSE(is_acceptable_url("https://hooks_agency.example/"));
  EXPECT_FALSE(is_acceptable_url("https://[::1/"));
  EXPECT_FALSE(is_acceptable_url("https://[]/"));
  EXPECT_FALSE(is_acceptable_url("https://[::1]x/"));
  EXPECT_FALSE(is_acceptable_url("https://" + std::string(2041, 'a') + ".example"));
}

TEST(is_loopback_endpoint, accepts_loopback_host_and_port) {
  EXPECT_TRUE(is_loopback_endpoint("127.0.0.1:9464"));
  EXPECT_TRUE(is_loopback_endpoint("127.255.255.254:1"));
  EXPECT_TRUE(is_loopback_endpoint("localhost:65535"));
  EXPECT_TRUE(is_loopback_endpoint("[::1]:9464"));
}

TEST(is_loopback_endpoint, refuses_other_hosts_and_bad_ports) {
  EXPECT_FALSE(is_loopback_endpoint("0.0.0.0:9464"));
  EXPECT_FALSE(is_loopback_endpoint("10.0.0.1:9464"));
  EXPECT_FALSE(is_loopback_endpoint("[::]:9464"));
  EXPECT_FALSE(is_loopback_endpoint(":9464"));
  EXPECT_FALSE(is_loopback_endpoint("127.0.0.1"));
  EXPECT_FALSE(is_loopback_endpoint("127.0.0.1:"));
  EXPECT_FALSE(is_loopback_endpoint("127.0.0.1:0"));
  EXPECT_FALSE(is_loopback_endpoint("127.0.0.1:65536"));
  EXPECT_FALSE(is_loopback_endpoint("127.0.0.1:09464"));
  EXPECT_FALSE(is_loopback_endpoint("::1:9464"));
  EXPECT_FALSE(is_loopback_endpoint("localhost.example:9464"));
  EXPECT_FALSE(is_loopback_endpoint(""));
}

TEST(edit_distance, is_levenshtein) {
  EXPECT_EQ(edit_distance("", ""), 0U);
  EXPECT_EQ(edit_distance("abc", ""), 3U);
  EXPECT_EQ(edit_distance("", "abc"), 3U);
  EXPECT_EQ(edit_distance("label", "label"), 0U);
  EXPECT_EQ(edit_distance("lable", "label"), 2U);  // a transposition is two edits
  EXPECT_EQ(edit_distance("unlnk", "unlink"), 1U);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3U);
  EXPECT_EQ(edit_distance("flaw", "lawn"), 2U);
  EXPECT_EQ(edit_distance("concurency", "concurrency"), 1U);
  EXPECT_EQ(edit_distance("Label", "label"), 1U);  // case-sensitive here; callers fold case
  EXPECT_EQ(edit_distance("abc", "xyz"), 3U);
}

TEST(edit_distance, is_symmetric) {
  for (const auto& [a, b] :
       {std::pair{"reports_since", "reports_until"}, std::pair{"max_backoff", "initial_backoff"},
        std::pair{"a", "abcdef"}}) {
    EXPECT_EQ(edit_distance(a, b), edit_distance(b, a)) << a << " / " << b;
  }
}

}  // namespace
