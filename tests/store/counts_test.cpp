// The in-memory counts always equal a full count of the file: after random
// transitions (applied and stale, in groups), after a failed ingest, while
// another thread reads them, and after a reopen.

#include <atomic>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "tests/store/store_test_support.hpp"

namespace unlinkd::store::test {
namespace {

using namespace std::chrono_literals;

std::int64_t total(const count_map& m) {
  std::int64_t n = 0;
  for (const auto& [k, v] : m) {
    n += v;
  }
  return n;
}

TEST(store_counts, equal_a_full_count_through_random_transitions_and_a_reopen) {
  temp_dir dir;
  captured_log log;
  const auto path = dir.file("unlinkd.db");
  std::mt19937 rng(20261126);
  std::vector<std::int64_t> batches;
  {
    auto s = open_store(path, *log.logger);
    for (int b = 0; b < 3; ++b) {
      auto r = s->ingest_blocking(
          make_request(make_manifest("b" + std::to_string(b), 200, std::uint64_t{1000} * (b + 1))));
      batches.push_back(std::get<ingest_accepted>(r.value()).batch_id);
    }
    // What the test believes each account holds; sometimes deliberately wrong.
    std::map<std::pair<std::int64_t, std::string>, account_state> believed;
    for (std::size_t b = 0; b < batches.size(); ++b) {
      for (int i = 0; i < 200; ++i) {
        believed[{batches[b], std::to_string(1000 * (b + 1) + i)}] = account_state::pending;
      }
    }
    std::vector<std::pair<std::int64_t, std::string>> keys;
    keys.reserve(believed.size());
    for (const auto& [k, v] : believed) {
      keys.push_back(k);
    }

    boost::asio::io_context io;
    for (int round = 0; round < 20; ++round) {
      std::size_t outstanding = 0;
      for (int i = 0; i < 100; ++i) {
        const auto& key = keys[rng() % keys.size()];
        transition t;
        t.batch_id = key.first;
        t.account_id = key.second;
        const bool stale = rng() % 5 == 0;
        t.expected =
            stale ? all_account_states[rng() % std::size(all_account_states)] : believed[key];
        t.to = all_account_states[rng() % std::size(all_account_states)];
        t.step = all_pipeline_steps[rng() % std::size(all_pipeline_steps)];
        ++outstanding;
        boost::asio::co_spawn(
            io,
            [&, t, key]() mutable -> boost::asio::awaitable<void> {
              const auto to = t.to;
              auto r = co_await s->commit(std::move(t));
              if (r && *r == commit_outcome::applied) {
                believed[key] = to;
              }
              --outstanding;
            },
            [](const std::exception_ptr& e) {
              if (e) {
                std::rethrow_exception(e);
              }
            });
      }
      io.restart();
      io.run_for(30s);
      ASSERT_EQ(outstanding, 0U);
      ASSERT_EQ(s->counts(), full_count(path)) << "round " << round;
    }
    // A refused ingest changes no count.
    auto busy = s->ingest_blocking(make_request(make_manifest("b9", 5, 1000)));
    ASSERT_TRUE(std::holds_alternative<ingest_account_busy>(busy.value()));
    ASSERT_EQ(s->counts(), full_count(path));
  }
  auto s = open_store(path, *log.logger);
  EXPECT_EQ(s->counts(), full_count(path));
  EXPECT_EQ(total(s->counts()), 600);
  EXPECT_EQ(total(s->counts(batches[1])), 200);
}

TEST(store_counts, a_reader_on_another_thread_always_sees_every_account_once) {
  temp_dir dir;
  captured_log log;
  const auto path = dir.file("unlinkd.db");
  auto s = open_store(path, *log.logger);
  auto r = s->ingest_blocking(make_request(make_manifest("b1", 500, 1)));
  const auto batch = std::get<ingest_accepted>(r.value()).batch_id;

  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::atomic<int> snapshots{0};
  std::thread reader([&] {
    while (!stop) {
      // A snapshot is taken between groups, never in the middle of one.
      if (total(s->counts(batch)) != 500) {
        ++bad;
      }
      ++snapshots;
    }
  });
  boost::asio::io_context io;
  std::size_t finished = 0;
  for (int i = 1; i <= 500; ++i) {
    boost::asio::co_spawn(
        io,
        [&, id = std::to_string(i)]() -> boost::asio::awaitable<void> {
          account_state from = account_state::pending;
          for (auto to : {account_state::preflight, account_state::backup, account_state::done}) {
            transition t;
            t.batch_id = batch;
            t.account_id = id;
            t.expected = from;
            t.to = to;
            (void)co_await s->commit(std::move(t));
            from = to;
          }
          ++finished;
        },
        [](const std::exception_ptr& e) {
          if (e) {
            std::rethrow_exception(e);
          }
        });
  }
  io.run_for(60s);
  stop = true;
  reader.join();
  ASSERT_EQ(finished, 500U);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(snapshots.load(), 0);
  EXPECT_EQ(s->counts(), full_count(path));
}

}  // namespace
}  // namespace unlinkd::store::test
