// --visibility-delay against the real process: the write answers at once
// and is judged on the authoritative state (a second unlink gets 40002 at
// once), while the verify read keeps showing the relationship until the
// delay has passed.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "config/manifest_parser.hpp"
#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

const std::string api = "/open_api/v1.3";
const std::string admin_token = "sbx-admin-4";

class sandbox_visibility : public ::testing::Test {
 protected:
  void start(const std::string& delay) {
    std::vector<std::string> args{"--accounts",     "30",           "--seed",     "4",
                                  "--manifest-out", "{dir}/m.yaml", "--no-limits"};
    if (!delay.empty()) {
      args.insert(args.end(), {"--visibility-delay", delay});
    }
    sandbox_ = std::make_unique<sandbox_process>(args);
    client_ = std::make_unique<http_client>(sandbox_->port());
    std::ifstream in(sandbox_->dir() + "/m.yaml");
    std::ostringstream text;
    text << in.rdbuf();
    auto parsed = config::parse_manifest(text.str(), "m.yaml", {}, config::utc_today());
    ASSERT_TRUE(parsed.value.has_value()) << parsed.problems.to_text();
    manifest_ = std::move(*parsed.value);
    for (const auto& a : manifest_.accounts) {
      if (a.mode == config::unlink_mode::partner_share) {
        share_ = a;
        return;
      }
    }
    FAIL() << "no partner_share account in the generated manifest";
  }

  std::int64_t unlink() {
    const json::object body{{"bc_id", manifest_.business_center_id},
                            {"partner_id", share_.partner_id},
                            {"asset_type", "ADVERTISER"},
                            {"asset_ids", json::array{json::value(share_.id)}}};
    return client_->post(api + "/bc/partner/asset/delete/", json::serialize(body), admin_token)
        .json()
        .at("code")
        .as_int64();
  }

  // The verify read of partner_share (PRODUCT.md §4): does it list the partner?
  bool read_shows_partner() {
    const auto reply =
        client_
            ->get(api + "/bc/asset/partner/get/?bc_id=" + manifest_.business_center_id +
                      "&asset_type=ADVERTISER&asset_id=" + share_.id,
                  admin_token)
            .json();
    EXPECT_EQ(reply.at("code").as_int64(), 0) << json::serialize(reply);
    return std::ranges::any_of(reply.at("data").at("list").as_array(), [&](const json::value& p) {
      return p.at("bc_id").as_string() == share_.partner_id;
    });
  }

  bool authoritative_shows_partner() {
    return !client_->get("/_sandbox/state?asset_id=" + share_.id)
                .json()
                .at("shared_with_partners")
                .as_array()
                .empty();
  }

  std::unique_ptr<sandbox_process> sandbox_;
  std::unique_ptr<http_client> client_;
  config::manifest manifest_;
  config::account share_;
};

TEST_F(sandbox_visibility, reads_lag_a_write_by_the_delay) {
  start("2s");
  ASSERT_TRUE(read_shows_partner());
  const auto sent = steady::now();
  ASSERT_EQ(unlink(), 0);
  EXPECT_FALSE(authoritative_shows_partner()) << "the write is applied at once";
  EXPECT_TRUE(read_shows_partner()) << "reads do not see it yet";
  EXPECT_EQ(unlink(), 40002) << "a second unlink is judged on the authoritative state";
  EXPECT_EQ(client_->get("/_sandbox/stats").json().at("visibility").at("pending_writes").as_int64(),
            1);

  // Poll the way verify does, up to a deadline.
  const auto deadline = sent + 20s;
  while (read_shows_partner()) {
    ASSERT_LT(steady::now(), deadline) << "the write never became visible";
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(steady::now() - sent, 2s) << "the read showed the write before the delay passed";
  const auto stats = client_->get("/_sandbox/stats").json();
  EXPECT_EQ(stats.at("visibility").at("pending_writes").as_int64(), 0);
  EXPECT_EQ(stats.at("accounts").at(share_.id).at("mutations_applied").as_int64(), 1);
}

TEST_F(sandbox_visibility, without_a_delay_reads_see_a_write_at_once) {
  start("");
  ASSERT_TRUE(read_shows_partner());
  ASSERT_EQ(unlink(), 0);
  EXPECT_FALSE(read_shows_partner());
}

TEST_F(sandbox_visibility, reset_shows_the_initial_world_to_reads_too) {
  start("30s");
  ASSERT_EQ(unlink(), 0);
  ASSERT_EQ(client_->post("/_sandbox/reset", "").status, 200U);
  EXPECT_TRUE(authoritative_shows_partner());
  EXPECT_TRUE(read_shows_partner());
  EXPECT_EQ(unlink(), 0) << "after a reset the relationship is there to remove again";
}

TEST(sandbox_visibility_option, a_bad_delay_is_refused_with_the_expected_form) {
  EXPECT_ANY_THROW(sandbox_process({"--visibility-delay", "soon"}));
  EXPECT_ANY_THROW(sandbox_process({"--visibility-delay", "5s..1s"}));
}

}  // namespace
}  // namespace unlinkd::test
