// The lagging view of --visibility-delay as a pure object in virtual time:
// a write becomes visible exactly when due, and never before a write that
// was applied earlier, even when each delay is drawn from a range.
#include "sandbox/delayed_view.hpp"

#include <algorithm>
#include <chrono>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "sandbox/state_generator.hpp"

namespace unlinkd::sandbox {
namespace {

using namespace std::chrono_literals;
using mono_time = delayed_view::mono_time;

class delayed_view_test : public ::testing::Test {
 protected:
  void SetUp() override {
    world_ = generate_state({.accounts = 60, .seed = 9});
    for (const auto& p : world_.partner_shares) {
      if (p.bc_id == world_.business_centers[0].bc_id && p.type == asset_type::advertiser) {
        shares_.push_back(p);
      }
    }
    ASSERT_GE(shares_.size(), 3U);
    for (const auto& t : world_.tokens) {
      if (t.token.starts_with("sbx-admin-")) {
        admin_ = t;
      }
    }
    ASSERT_FALSE(admin_.token.empty());
  }

  // Records the unlink of shares_[i] as applied at `at`.
  void unlink(delayed_view& view, std::size_t i, mono_time at) {
    const auto& s = shares_[i];
    auto params = request_params::from_body(
        boost::json::object{{"bc_id", s.bc_id},
                            {"partner_id", s.partner_id},
                            {"asset_type", "ADVERTISER"},
                            {"asset_ids", boost::json::array{boost::json::value(s.asset_id)}}});
    view.record(*find_endpoint("/bc/partner/asset/delete/"), std::move(params), admin_, at);
  }

  bool shared(delayed_view& view, std::size_t i, mono_time at) {
    const auto& s = shares_[i];
    return std::ranges::any_of(view.visible_at(at).partner_shares, [&](const partner_share& p) {
      return p.bc_id == s.bc_id && p.partner_id == s.partner_id && p.asset_id == s.asset_id;
    });
  }

  sandbox_state world_;
  std::vector<partner_share> shares_;
  access_token admin_;
  const mono_time t0_{std::chrono::hours(10)};
};

TEST_F(delayed_view_test, a_write_is_visible_exactly_when_due) {
  delayed_view view(world_, {2s, 2s}, 1);
  ASSERT_TRUE(view.enabled());
  unlink(view, 0, t0_);
  EXPECT_EQ(view.pending(), 1U);
  EXPECT_TRUE(shared(view, 0, t0_));
  EXPECT_TRUE(shared(view, 0, t0_ + 1999ms));
  EXPECT_FALSE(shared(view, 0, t0_ + 2s));
  EXPECT_EQ(view.pending(), 0U);
  EXPECT_TRUE(shared(view, 1, t0_ + 2s)) << "only the write's own relationship changed";
}

TEST_F(delayed_view_test, writes_become_visible_in_the_order_they_were_applied) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    delayed_view view(world_, {100ms, 3s}, seed);
    unlink(view, 0, t0_);
    unlink(view, 1, t0_ + 10ms);
    unlink(view, 2, t0_ + 20ms);
    bool saw_all_shared = false;
    for (auto t = t0_; t <= t0_ + 3100ms; t += 5ms) {
      const bool a = shared(view, 0, t);
      const bool b = shared(view, 1, t);
      const bool c = shared(view, 2, t);
      saw_all_shared = saw_all_shared || (a && b && c);
      ASSERT_FALSE(!b && a) << "the second write showed before the first, seed " << seed;
      ASSERT_FALSE(!c && b) << "the third write showed before the second, seed " << seed;
    }
    EXPECT_TRUE(saw_all_shared);
    EXPECT_FALSE(shared(view, 2, t0_ + 3100ms)) << "every delay is at most 3 s after its write";
  }
}

TEST_F(delayed_view_test, reset_forgets_pending_writes) {
  delayed_view view(world_, {1s, 1s}, 1);
  unlink(view, 0, t0_);
  view.reset(world_);
  EXPECT_EQ(view.pending(), 0U);
  EXPECT_TRUE(shared(view, 0, t0_ + 5s));
}

TEST_F(delayed_view_test, without_a_delay_the_view_keeps_no_copy) {
  delayed_view view(world_, {}, 1);
  EXPECT_FALSE(view.enabled());
  unlink(view, 0, t0_);
  EXPECT_EQ(view.pending(), 0U);
}

}  // namespace
}  // namespace unlinkd::sandbox
