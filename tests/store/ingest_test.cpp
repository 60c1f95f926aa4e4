// Ingest: a manifest becomes its batch and all its accounts in one
// transaction; the same bytes, a reused name and an account still busy in an
// unfinished batch are refused, each naming what it collides with.

#include <gtest/gtest.h>

#include "config/manifest_identity.hpp"
#include "config/manifest_parser.hpp"
#include "store/sqlite_database.hpp"
#include "tests/store/store_test_support.hpp"

namespace unlinkd::store::test {
namespace {

class store_ingest : public ::testing::Test {
 protected:
  std::unique_ptr<store> open() {
    return open_store(dir_.file("unlinkd.db"), *log_.logger, options());
  }
  store_options options() const {
    store_options o;
    o.clock = clock_.fn();
    return o;
  }
  std::int64_t accepted(const store_result<ingest_outcome>& r) {
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    const auto* a = std::get_if<ingest_accepted>(&r.value());
    EXPECT_NE(a, nullptr) << describe(r.value());
    return a != nullptr ? a->batch_id : 0;
  }

  temp_dir dir_;
  captured_log log_;
  manual_clock clock_;
  boost::asio::io_context io_;
};

TEST_F(store_ingest, a_parsed_manifest_is_stored_with_its_resolved_settings) {
  const std::string yaml = R"(version: 1
batch: acme-offboarding-2026-11
requested_by: ops@agency.example
credentials: acme-bc
business_center_id: "7012345678901234567"
defaults:
  unlink: partner_share
  partner_id: "7099999999999999999"
  active_campaigns: pause
  backup:
    reports_since: 2025-01-01
    reports_until: 2026-10-31
limits:
  concurrency: 16
accounts:
  - id: "7123456789012345678"
    type: advertiser
    label: "Acme US"
  - id: "7123456789012345680"
    type: advertiser
    unlink: member_access
    members: ["6900000000000000001", "6900000000000000002"]
  - id: "7123456789012345681"
    type: tiktok_account
    unlink: tiktok_binding
    advertiser_id: "7123456789012345678"
)";
  auto parsed = config::parse_manifest(yaml, "acme.yaml", {}, config::utc_today());
  ASSERT_TRUE(parsed.value) << (parsed.problems.empty() ? ""
                                                        : parsed.problems.items().front().message);
  auto s = open();
  ingest_request r{*parsed.value, config::sha256_hex(yaml), "acme.yaml", 1234};
  const auto id = accepted(run(io_, s->ingest(std::move(r))));

  const count_map expected = {{{id, account_state::pending, pipeline_step::preflight}, 3}};
  EXPECT_EQ(s->counts(), expected);
  EXPECT_EQ(s->counts(id), expected);

  auto batches = run(io_, s->batches()).value();
  ASSERT_EQ(batches.size(), 1U);
  EXPECT_EQ(batches[0].name, "acme-offboarding-2026-11");
  EXPECT_EQ(batches[0].state, batch_state::queued);
  EXPECT_EQ(batches[0].submitter_uid, 1234U);
  EXPECT_EQ(batches[0].manifest_sha256, config::sha256_hex(yaml));
  EXPECT_EQ(batches[0].concurrency, 16U);
  EXPECT_EQ(batches[0].requested_by, "ops@agency.example");

  auto member = run(io_, s->find_account(id, "7123456789012345680")).value();
  ASSERT_TRUE(member);
  EXPECT_EQ(member->settings.mode, config::unlink_mode::member_access);
  EXPECT_EQ(member->settings.members,
            (std::vector<std::string>{"6900000000000000001", "6900000000000000002"}));
  EXPECT_EQ(member->settings.active_campaigns, config::campaign_policy::pause);
  EXPECT_EQ(member->settings.backup.reports_since,
            std::chrono::year{2025} / std::chrono::January / std::chrono::day{1});
  EXPECT_EQ(member->state, account_state::pending);
  EXPECT_EQ(member->next_attempt_at, clock_.now());

  auto binding = run(io_, s->find_account(id, "7123456789012345681")).value();
  ASSERT_TRUE(binding);
  EXPECT_EQ(binding->settings.type, config::account_type::tiktok_account);
  EXPECT_EQ(binding->settings.advertiser_id, "7123456789012345678");

  auto events = run(io_, s->events_after(0, 10)).value();
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, "batch_accepted");
  EXPECT_EQ(events[0].uid, 1234U);
  EXPECT_NE(events[0].detail.find("3 accounts"), std::string::npos);
}

TEST_F(store_ingest, the_same_bytes_twice_are_recognised_by_hash) {
  auto s = open();
  const auto id = accepted(s->ingest_blocking(make_request(make_manifest("b1", 3), "hash-1")));
  // Even under another name and another file name: the bytes decide.
  auto again = s->ingest_blocking(make_request(make_manifest("b1-renamed", 3, 1), "hash-1"));
  ASSERT_TRUE(again);
  const auto* dup = std::get_if<ingest_duplicate>(&*again);
  ASSERT_NE(dup, nullptr) << describe(*again);
  EXPECT_EQ(dup->batch_id, id);
  EXPECT_EQ(dup->batch_name, "b1");
  EXPECT_NE(describe(*again).find("'b1'"), std::string::npos);
  EXPECT_EQ(run(io_, s->batches()).value().size(), 1U);
}

TEST_F(store_ingest, a_batch_name_is_never_used_twice_even_after_it_finished) {
  auto s = open();
  const auto id = accepted(s->ingest_blocking(make_request(make_manifest("b1", 2), "h1")));
  batch_transition done{id, batch_state::queued, batch_state::completed, "all done", {}};
  ASSERT_EQ(run(io_, s->commit(done)).value(), commit_outcome::applied);

  auto again = s->ingest_blocking(make_request(make_manifest("b1", 2, 5), "h2"));
  ASSERT_TRUE(again);
  const auto* used = std::get_if<ingest_name_used>(&*again);
  ASSERT_NE(used, nullptr) << describe(*again);
  EXPECT_EQ(used->batch_name, "b1");
  EXPECT_NE(describe(*again).find("never reused"), std::string::npos);
}

TEST_F(store_ingest, a_dry_run_reserves_neither_the_bytes_nor_the_name) {
  auto s = open();
  auto dry = make_manifest("b1", 2);
  dry.dry_run = true;
  auto first = s->ingest_blocking(make_request(dry, "h1"));
  const auto first_id = accepted(first);
  EXPECT_EQ(std::get<ingest_accepted>(first.value()).batch_name, "b1-dry-run");
  batch_transition done{first_id, batch_state::queued, batch_state::completed, "planned", {}};
  ASSERT_EQ(run(io_, s->commit(done)).value(), commit_outcome::applied);

  // The same bytes again as a dry run: another plan, under the next free name.
  auto second = s->ingest_blocking(make_request(dry, "h1"));
  const auto second_id = accepted(second);
  EXPECT_EQ(std::get<ingest_accepted>(second.value()).batch_name, "b1-dry-run-2");
  batch_transition done2{second_id, batch_state::queued, batch_state::completed, "planned", {}};
  ASSERT_EQ(run(io_, s->commit(done2)).value(), commit_outcome::applied);

  // Then for real: same bytes, same name, accepted.
  auto real = s->ingest_blocking(make_request(make_manifest("b1", 2), "h1"));
  accepted(real);
  EXPECT_EQ(std::get<ingest_accepted>(real.value()).batch_name, "b1");
  EXPECT_EQ(run(io_, s->batches()).value().size(), 3U);
}

TEST_F(store_ingest, an_account_of_an_unfinished_batch_is_refused_naming_that_batch) {
  auto s = open();
  const auto first = accepted(s->ingest_blocking(make_request(make_manifest("b1", 10, 100), "h1")));
  // Accounts 105..114: 105..109 overlap with b1.
  auto busy = s->ingest_blocking(make_request(make_manifest("b2", 10, 105), "h2"));
  ASSERT_TRUE(busy);
  const auto* b = std::get_if<ingest_account_busy>(&*busy);
  ASSERT_NE(b, nullptr) << describe(*busy);
  EXPECT_EQ(b->batch_name, "b1");
  EXPECT_EQ(b->account_id, "105");
  // Nothing of b2 was stored: neither the batch nor its free accounts.
  EXPECT_EQ(run(io_, s->batches()).value().size(), 1U);
  EXPECT_FALSE(run(io_, s->find_account(first + 1, "110")).value());
  EXPECT_EQ(full_count(dir_.file("unlinkd.db")), s->counts());

  // Once b1 is cancelled its accounts may be offboarded by a new batch.
  batch_transition cancel{first, batch_state::queued, batch_state::cancelled, "by operator", {}};
  ASSERT_EQ(run(io_, s->commit(cancel)).value(), commit_outcome::applied);
  const auto second =
      accepted(s->ingest_blocking(make_request(make_manifest("b2", 10, 105), "h2")));
  EXPECT_NE(second, first);
  EXPECT_EQ(s->counts(second).begin()->second, 10);
}

TEST_F(store_ingest, a_manifest_that_fails_midway_leaves_nothing_behind) {
  auto s = open();
  auto m = make_manifest("b1", 50);
  m.accounts[40].id = m.accounts[3].id;  // the parser refuses this; the store must too
  auto r = s->ingest_blocking(make_request(std::move(m)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, store_errc::sql_error);
  EXPECT_NE(r.error().message.find(std::to_string(7100000000000000003ULL)), std::string::npos)
      << r.error().message;
  EXPECT_TRUE(s->counts().empty());
  EXPECT_TRUE(full_count(dir_.file("unlinkd.db")).empty());
  EXPECT_TRUE(run(io_, s->batches()).value().empty());
  // The writer goes on: the corrected manifest is accepted.
  accepted(s->ingest_blocking(make_request(make_manifest("b1", 50))));
}

TEST_F(store_ingest, batches_and_accounts_survive_a_reopen) {
  std::int64_t id = 0;
  {
    auto s = open();
    id = accepted(s->ingest_blocking(make_request(make_manifest("b1", 1000))));
  }
  auto s = open();
  EXPECT_EQ(s->counts(),
            (count_map{{{id, account_state::pending, pipeline_step::preflight}, 1000}}));
  auto page = run(io_, s->accounts(id, account_state::pending, "", 10)).value();
  ASSERT_EQ(page.size(), 10U);
  EXPECT_EQ(page[0].settings.id, "7100000000000000000");
  auto next = run(io_, s->accounts(id, std::nullopt, page.back().settings.id, 10)).value();
  ASSERT_EQ(next.size(), 10U);
  EXPECT_EQ(next[0].settings.id, "7100000000000000010");
}

}  // namespace
}  // namespace unlinkd::store::test
