// claim_ready: pages of due, runnable accounts of queued or running batches,
// oldest first, and never the same account twice while it is handed out.

#include <set>

#include <gtest/gtest.h>

#include "tests/store/store_test_support.hpp"

namespace unlinkd::store::test {
namespace {

using namespace std::chrono_literals;

class store_claims : public ::testing::Test {
 protected:
  void SetUp() override {
    store_options o;
    o.clock = clock_.fn();
    store_ = open_store(dir_.file("unlinkd.db"), *log_.logger, o);
    batch_ = ingest("b1", 10, 100);
  }
  std::int64_t ingest(const std::string& name, std::size_t n, std::uint64_t first) {
    auto r = store_->ingest_blocking(make_request(make_manifest(name, n, first)));
    return std::get<ingest_accepted>(r.value()).batch_id;
  }
  std::vector<std::string> claim(std::size_t limit) {
    auto page = run(io_, store_->claim_ready(limit, clock_.now())).value();
    std::vector<std::string> ids;
    for (const auto& a : page) {
      ids.push_back(a.settings.id);
    }
    return ids;
  }
  commit_outcome move(const std::string& id, account_state from, account_state to,
                      std::optional<time_point> next = std::nullopt, bool release = true) {
    transition t;
    t.batch_id = batch_;
    t.account_id = id;
    t.expected = from;
    t.to = to;
    t.step = pipeline_step::preflight;
    t.next_attempt_at = next;
    t.release_claim = release;
    return run(io_, store_->commit(t)).value();
  }

  temp_dir dir_;
  captured_log log_;
  manual_clock clock_;
  boost::asio::io_context io_;
  std::unique_ptr<store> store_;
  std::int64_t batch_ = 0;
};

TEST_F(store_claims, pages_never_repeat_an_account_that_is_handed_out) {
  const auto first = claim(4);
  const auto second = claim(4);
  const auto third = claim(4);
  EXPECT_EQ(first.size(), 4U);
  EXPECT_EQ(second.size(), 4U);
  EXPECT_EQ(third.size(), 2U);
  std::set<std::string> all(first.begin(), first.end());
  all.insert(second.begin(), second.end());
  all.insert(third.begin(), third.end());
  EXPECT_EQ(all.size(), 10U);
  EXPECT_TRUE(claim(4).empty());
}

TEST_F(store_claims, a_commit_hands_the_account_back_unless_told_to_keep_it) {
  auto page = claim(10);
  ASSERT_EQ(page.size(), 10U);
  // Committed and released: ready again at once (next attempt unchanged).
  EXPECT_EQ(move("100", account_state::pending, account_state::preflight), commit_outcome::applied);
  // Committed but kept: the caller goes on with it.
  EXPECT_EQ(move("101", account_state::pending, account_state::preflight, std::nullopt, false),
            commit_outcome::applied);
  // A stale commit releases too: the caller's view was wrong, it gives up.
  EXPECT_EQ(move("102", account_state::backup, account_state::pause), commit_outcome::stale);
  auto again = claim(10);
  std::sort(again.begin(), again.end());
  EXPECT_EQ(again, (std::vector<std::string>{"100", "102"}));
  // An explicit release.
  ASSERT_TRUE(run(io_, store_->release(batch_, "105")));
  EXPECT_EQ(claim(10), (std::vector<std::string>{"105"}));
}

TEST_F(store_claims, only_due_runnable_accounts_of_active_batches_are_claimed) {
  // 100: retry later; 101: waits for a person; 102: done; 103: failed.
  EXPECT_EQ(move("100", account_state::pending, account_state::preflight, clock_.now() + 10s),
            commit_outcome::applied);
  EXPECT_EQ(move("101", account_state::pending, account_state::needs_attention),
            commit_outcome::applied);
  EXPECT_EQ(move("102", account_state::pending, account_state::done), commit_outcome::applied);
  EXPECT_EQ(move("103", account_state::pending, account_state::failed), commit_outcome::applied);
  auto page = claim(100);
  EXPECT_EQ(page.size(), 6U);
  for (const auto& id : page) {
    EXPECT_TRUE(id != "100" && id != "101" && id != "102" && id != "103") << id;
  }
  clock_.advance(10s);
  EXPECT_EQ(claim(100), (std::vector<std::string>{"100"}));

  // A paused batch's accounts wait; a running one's are claimed.
  const auto other = ingest("b2", 3, 200);
  batch_transition pause{other, batch_state::queued, batch_state::paused, "operator", {}};
  ASSERT_EQ(run(io_, store_->commit(pause)).value(), commit_outcome::applied);
  EXPECT_TRUE(claim(100).empty());
  batch_transition resume{other, batch_state::paused, batch_state::running, "", {}};
  ASSERT_EQ(run(io_, store_->commit(resume)).value(), commit_outcome::applied);
  EXPECT_EQ(claim(100).size(), 3U);
}

TEST_F(store_claims, the_oldest_due_come_first_across_states) {
  // Spread next attempts so that the order is by time, not by state.
  const auto t0 = clock_.now();
  EXPECT_EQ(move("104", account_state::pending, account_state::verify, t0 - 50s),
            commit_outcome::applied);
  EXPECT_EQ(move("107", account_state::pending, account_state::backup, t0 - 40s),
            commit_outcome::applied);
  EXPECT_EQ(move("100", account_state::pending, account_state::pending, t0 - 30s),
            commit_outcome::applied);
  EXPECT_EQ(claim(3), (std::vector<std::string>{"104", "107", "100"}));
  const auto page = run(io_, store_->claim_ready(1, t0)).value();
  ASSERT_EQ(page.size(), 1U);
  EXPECT_EQ(page[0].state, account_state::pending);
  EXPECT_EQ(page[0].settings.partner_id, "7099999999999999999");
}

TEST_F(store_claims, many_concurrent_claimers_share_out_every_account_once) {
  ingest("b2", 990, 1000);  // 1,000 ready accounts in all
  std::vector<std::string> seen;
  int finished = 0;
  for (int c = 0; c < 50; ++c) {
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> {
          for (;;) {
            auto page = co_await store_->claim_ready(7, clock_.now());
            if (!page || page->empty()) {
              break;
            }
            for (const auto& a : *page) {
              seen.push_back(a.settings.id);
            }
          }
          ++finished;
        },
        [](const std::exception_ptr& e) {
          if (e) {
            std::rethrow_exception(e);
          }
        });
  }
  io_.run_for(30s);
  ASSERT_EQ(finished, 50);
  EXPECT_EQ(seen.size(), 1000U);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 1000U);
}

}  // namespace
}  // namespace unlinkd::store::test

namespace unlinkd::store::test {
namespace {

// The scheduler claims batch by batch: a claim for one batch never hands out
// another's accounts, and the number of unlinks sent survives a reopen.
TEST_F(store_claims, a_claim_for_one_batch_takes_only_its_accounts) {
  const auto other = ingest("b2", 5, 500);
  auto page = run(io_, store_->claim_ready(100, clock_.now(), other)).value();
  ASSERT_EQ(page.size(), 5U);
  for (const auto& a : page) {
    EXPECT_EQ(a.batch_id, other);
  }
  EXPECT_EQ(claim(100).size(), 10U) << "the first batch's ten are still there for anyone";
}

TEST_F(store_claims, the_unlinks_sent_are_kept) {
  const auto id = claim(1).at(0);
  transition t;
  t.batch_id = batch_;
  t.account_id = id;
  t.expected = account_state::pending;
  t.to = account_state::unlink;
  t.step = pipeline_step::unlink;
  t.unlink_sends = 2;
  ASSERT_EQ(run(io_, store_->commit(t)).value(), commit_outcome::applied);
  const auto stored = run(io_, store_->find_account(batch_, id)).value();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->unlink_sends, 2U);
}

}  // namespace
}  // namespace unlinkd::store::test
