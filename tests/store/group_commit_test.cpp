// Group commit: many coroutines commit at once; each resolves only after the
// group holding its transition is durable, groups are far fewer than
// transitions, and the io_context thread never waits on the database.

#include <set>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "tests/store/store_test_support.hpp"

namespace unlinkd::store::test {
namespace {

using namespace std::chrono_literals;

constexpr account_state pipeline[] = {
    account_state::pending, account_state::preflight, account_state::backup, account_state::pause,
    account_state::unlink,  account_state::verify,    account_state::done};
constexpr pipeline_step steps[] = {
    pipeline_step::preflight, pipeline_step::preflight, pipeline_step::backup, pipeline_step::pause,
    pipeline_step::unlink,    pipeline_step::verify,    pipeline_step::verify};

// Account `id`'s transition from pipeline[i] to pipeline[i + 1].
transition pipeline_transition(std::int64_t batch, const std::string& id, std::size_t i) {
  transition t;
  t.batch_id = batch;
  t.account_id = id;
  t.expected = pipeline[i];
  t.to = pipeline[i + 1];
  t.step = steps[i + 1];
  return t;
}

TEST(store_group_commit, a_thousand_producers_commit_through_few_groups) {
  temp_dir dir;
  captured_log log;
  const auto path = dir.file("unlinkd.db");
  auto s = open_store(path, *log.logger);
  constexpr std::size_t producers = 1000;
  auto r = s->ingest_blocking(make_request(make_manifest("b1", producers, 1)));
  const auto batch = std::get<ingest_accepted>(r.value()).batch_id;
  const auto groups_before = s->groups_committed();

  boost::asio::io_context io;
  std::size_t applied = 0;
  std::size_t done = 0;
  for (std::size_t p = 0; p < producers; ++p) {
    boost::asio::co_spawn(
        io,
        [&, id = std::to_string(1 + p)]() -> boost::asio::awaitable<void> {
          for (std::size_t i = 0; i + 1 < std::size(pipeline); ++i) {
            transition t = pipeline_transition(batch, id, i);
            t.attempts = static_cast<std::uint32_t>(i);
            auto outcome = co_await s->commit(std::move(t));
            if (outcome && *outcome == commit_outcome::applied) {
              ++applied;
            }
          }
          ++done;
        },
        [](const std::exception_ptr& e) {
          if (e) {
            std::rethrow_exception(e);
          }
        });
  }
  io.run_for(60s);
  ASSERT_EQ(done, producers);
  constexpr std::size_t transitions = producers * (std::size(pipeline) - 1);
  EXPECT_EQ(applied, transitions);
  const auto groups = s->groups_committed() - groups_before;
  EXPECT_LT(groups, transitions / 10) << "group commit should batch transitions";
  EXPECT_EQ(s->counts(), (count_map{{{batch, account_state::done, pipeline_step::verify},
                                     static_cast<std::int64_t>(producers)}}));
  EXPECT_EQ(full_count(path), s->counts());
  auto events = run(io, s->account_events(batch, "500")).value();
  ASSERT_EQ(events.size(), std::size(pipeline) - 1);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].from_state, to_string(pipeline[i]));
    EXPECT_EQ(events[i].to_state, to_string(pipeline[i + 1]));
  }
}

// Runs accounts first..first+count-1 through the pipeline at once: all
// commit their first transition together, then the p-th waits p ms before
// each of the others (writes that arrive apart, as an engine's do). Returns
// the groups it took.
std::size_t groups_for(store& s, std::int64_t batch, std::size_t first, std::size_t count) {
  const auto before = s.groups_committed();
  boost::asio::io_context io;
  std::size_t done = 0;
  for (std::size_t p = 0; p < count; ++p) {
    boost::asio::co_spawn(
        io,
        [&, p, id = std::to_string(first + p)]() -> boost::asio::awaitable<void> {
          boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
          for (std::size_t i = 0; i + 1 < std::size(pipeline); ++i) {
            pause.expires_after(std::chrono::milliseconds(i == 0 ? 0 : p));
            co_await pause.async_wait(boost::asio::use_awaitable);
            transition t = pipeline_transition(batch, id, i);  // named: see GCC bug 101367
            (void)co_await s.commit(std::move(t));
          }
          ++done;
        },
        [](const std::exception_ptr& e) {
          if (e) {
            std::rethrow_exception(e);
          }
        });
  }
  io.run_for(120s);
  EXPECT_EQ(done, count);
  return s.groups_committed() - before;
}

TEST(store_group_commit, gathering_lets_busy_writers_share_groups_and_never_holds_a_lone_one) {
  temp_dir dir;
  captured_log log;
  store_options gathered;
  gathered.gather = 400ms;  // far above a commit's time, even on a loaded CI disk
  auto s = open_store(dir.file("unlinkd.db"), *log.logger, gathered);
  auto r = s->ingest_blocking(make_request(make_manifest("b1", 21, 1)));
  const auto batch = std::get<ingest_accepted>(r.value()).batch_id;
  constexpr std::size_t transitions = std::size(pipeline) - 1;
  // One account alone: each group holds its one write and none waits (a
  // wait before every group would take 6 x 400 ms).
  const auto lone_start = std::chrono::steady_clock::now();
  EXPECT_EQ(groups_for(*s, batch, 1, 1), transitions);
  EXPECT_LT(std::chrono::steady_clock::now() - lone_start, 2s) << "a lone writer waited";
  // Twenty arriving 1 ms apart: ungathered they take about 20 x 6 groups;
  // once a group held several, the next gathers 400 ms of arrivals.
  EXPECT_LE(groups_for(*s, batch, 2, 20), 5 * transitions)
      << "twenty accounts committing together should share groups";
  EXPECT_EQ(s->counts(), (count_map{{{batch, account_state::done, pipeline_step::verify}, 21}}));
}

TEST(store_group_commit, racing_transitions_on_one_account_apply_exactly_once) {
  temp_dir dir;
  captured_log log;
  auto s = open_store(dir.file("unlinkd.db"), *log.logger);
  auto r = s->ingest_blocking(make_request(make_manifest("b1", 1, 1)));
  const auto batch = std::get<ingest_accepted>(r.value()).batch_id;

  boost::asio::io_context io;
  std::vector<commit_outcome> outcomes;
  for (int w = 0; w < 64; ++w) {
    boost::asio::co_spawn(
        io,
        [&, w]() -> boost::asio::awaitable<void> {
          transition t;
          t.batch_id = batch;
          t.account_id = "1";
          t.expected = account_state::pending;
          t.to = account_state::preflight;
          t.attempts = static_cast<std::uint32_t>(w);
          outcomes.push_back((co_await s->commit(std::move(t))).value());
        },
        [](const std::exception_ptr& e) {
          if (e) {
            std::rethrow_exception(e);
          }
        });
  }
  io.run_for(30s);
  ASSERT_EQ(outcomes.size(), 64U);
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), commit_outcome::applied), 1);
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), commit_outcome::stale), 63);
  EXPECT_EQ(s->counts(),
            (count_map{{{batch, account_state::preflight, pipeline_step::preflight}, 1}}));
}

TEST(store_group_commit, the_io_thread_runs_on_while_a_large_ingest_commits) {
  temp_dir dir;
  captured_log log;
  auto s = open_store(dir.file("unlinkd.db"), *log.logger);
  boost::asio::io_context io;
  // The timer is started after the ingest was queued; if the io thread
  // waited for the ingest, the timer could only fire after it.
  bool ingest_done = false;
  bool timer_fired_first = false;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        auto request = make_request(make_manifest("big", 50'000, 1));
        auto r = co_await s->ingest(std::move(request));
        EXPECT_TRUE(r && std::holds_alternative<ingest_accepted>(*r));
        ingest_done = true;
      },
      [](const std::exception_ptr& e) {
        if (e) {
          std::rethrow_exception(e);
        }
      });
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        boost::asio::steady_timer t(io, 1ms);
        co_await t.async_wait(boost::asio::use_awaitable);
        timer_fired_first = !ingest_done;
      },
      [](const std::exception_ptr& e) {
        if (e) {
          std::rethrow_exception(e);
        }
      });
  io.run_for(60s);
  EXPECT_TRUE(ingest_done);
  EXPECT_TRUE(timer_fired_first);
}

TEST(store_group_commit, writes_queued_at_shutdown_are_committed_before_it_returns) {
  temp_dir dir;
  captured_log log;
  const auto path = dir.file("unlinkd.db");
  std::int64_t batch = 0;
  {
    auto s = open_store(path, *log.logger);
    auto r = s->ingest_blocking(make_request(make_manifest("b1", 200, 1)));
    batch = std::get<ingest_accepted>(r.value()).batch_id;
    boost::asio::io_context io;
    for (int i = 1; i <= 200; ++i) {
      boost::asio::co_spawn(
          io,
          [&, i]() -> boost::asio::awaitable<void> {
            transition t;
            t.batch_id = batch;
            t.account_id = std::to_string(i);
            t.expected = account_state::pending;
            t.to = account_state::preflight;
            (void)co_await s->commit(std::move(t));
          },
          [](const std::exception_ptr& e) {
            if (e) {
              std::rethrow_exception(e);
            }
          });
    }
    io.poll();  // every coroutine has queued its commit; none has resumed
    s.reset();  // drains the queue
  }
  EXPECT_EQ(full_count(path),
            (count_map{{{batch, account_state::preflight, pipeline_step::preflight}, 200}}));
}

}  // namespace
}  // namespace unlinkd::store::test
