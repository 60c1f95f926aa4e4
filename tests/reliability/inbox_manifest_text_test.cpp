// inbox_manifest_text on a manifest as unlinkd-sandbox writes it: the pieces
// it cuts are manifests unlinkd's own parser accepts, with the accounts and
// batch name asked for; a manifest cut at an account's boundary is valid too
// (the premise of the Inbox scenario's half-written file).
#include "tests/reliability/inbox_manifest_text.hpp"

#include <gtest/gtest.h>

#include "config/manifest_parser.hpp"

namespace unlinkd::reliability {
namespace {

constexpr const char* generated = R"(# Written by unlinkd-sandbox --manifest-out.
version: 1
batch: sandbox-5
credentials: sandbox-admin
business_center_id: "7000005000000000100"
defaults:
  active_campaigns: pause
  verify_deadline: 2m
accounts:
  - id: "7100005000000000001"
    type: advertiser
    unlink: partner_share
    partner_id: "7000005000000000200"
  - id: "7100005000000000004"
    type: advertiser
    unlink: member_access
    members: ["6900005000000000003", "6900005000000000004"]
  - id: "7200005000000000006"
    type: tiktok_account
    unlink: bc_asset
)";

config::manifest_result parse(const std::string& text) {
  return config::parse_manifest(text, "cut.yaml", config::manifest_options{},
                                std::chrono::year_month_day{std::chrono::year{2026} / 11 / 26});
}

TEST(inbox_manifest_text, cuts_valid_manifests_with_the_accounts_asked_for) {
  const auto text = inbox_manifest_text::split(generated);
  ASSERT_TRUE(text) << text.error();
  EXPECT_EQ(text->accounts(), 3U);
  const auto one = parse(text->with_accounts("inbox-0001", 1, 1));
  ASSERT_TRUE(one.value) << one.problems.to_text();
  EXPECT_EQ(one.value->batch, "inbox-0001");
  ASSERT_EQ(one.value->accounts.size(), 1U);
  EXPECT_EQ(one.value->accounts[0].id, "7100005000000000004");
  const auto two = parse(text->with_accounts("inbox-two", 1, 2));
  ASSERT_TRUE(two.value) << two.problems.to_text();
  EXPECT_EQ(two.value->accounts.size(), 2U);
  EXPECT_EQ(text->with_accounts("sandbox-5", 0, 3), generated);
}

TEST(inbox_manifest_text, a_head_alone_is_not_a_manifest) {
  const auto text = inbox_manifest_text::split(generated);
  ASSERT_TRUE(text) << text.error();
  EXPECT_FALSE(parse(text->head("inbox-big")).value);
}

TEST(inbox_manifest_text, refuses_text_without_an_account_list) {
  EXPECT_FALSE(inbox_manifest_text::split("version: 1\nbatch: x\n"));
  EXPECT_FALSE(inbox_manifest_text::split("version: 1\nbatch: x\naccounts:\n"));
  EXPECT_FALSE(inbox_manifest_text::split("version: 1\nbatch: x\naccounts:\n- id: 1\n"));
}

}  // namespace
}  // namespace unlinkd::reliability
