// The scheduler end to end over a real SQLite store (temp folder) and the
// scripted fake platform, in virtual time: every mode's happy path, fairness
// between batches, retries, holds, the unknown-outcome rule, the backup gate,
// operator controls, the circuit breaker, dry runs, and stopping the
// scheduler at many points then finishing on the same database file.
#include "scheduler/engine.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "store/store.hpp"
#include "tests/scheduler/fake_platform.hpp"

namespace unlinkd::scheduler {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using adapters::error_class;
using store::account_state;
using store::batch_state;
using store::pipeline_step;
using test::api_error;
using test::fake_platform;

void rethrow(const std::exception_ptr& e) {
  if (e) {
    std::rethrow_exception(e);
  }
}

class engine_test : public ::testing::Test {
 protected:
  engine_test() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "unlinkd-engine-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    dir_ = pattern;
    profile_.name = "acme";
    profile_.app_id = "7000000000000000001";
    other_profile_.name = "other";
    other_profile_.app_id = "7000000000000000002";
    open();
  }

  ~engine_test() override {
    close();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

 public:
  engine_test(const engine_test&) = delete;
  engine_test& operator=(const engine_test&) = delete;

 protected:
  // One life of the daemon: an io_context, the store on the file, an engine.
  void open(engine_options options = {}) {
    io_ = std::make_unique<asio::io_context>();
    store::store_options so;
    so.clock = [] { return clock::utc_now(); };
    auto s = store::store::open(dir_ + "/unlinkd.db", so, log_);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    store_ = std::move(*s);
    platform_.set_executor(io_->get_executor());
    options.seed = 7;
    options.idle_poll = 500ms;
    options_ = options;
    engine_ = std::make_unique<engine>(
        io_->get_executor(), *store_, platform_,
        [this](const store::batch_record& b) -> std::optional<adapters::call_context> {
          const config::credential_profile* p = b.credentials == "acme"    ? &profile_
                                                : b.credentials == "other" ? &other_profile_
                                                                           : nullptr;
          if (p == nullptr) {
            return std::nullopt;
          }
          adapters::call_context ctx;
          ctx.credential = p;
          ctx.base_url = "http://127.0.0.1:1";
          return ctx;
        },
        options, log_);
    running_ = true;
    asio::co_spawn(*io_, engine_->run(), [this](const std::exception_ptr& e) {
      running_ = false;
      rethrow(e);
    });
  }

  // Ends this life in order: the store (it posts its last completions), the
  // engine (its timer needs the io_context), then the io_context, which
  // drops every coroutine still suspended.
  void close() {
    if (!io_) {
      return;
    }
    store_.reset();
    engine_.reset();
    io_.reset();
  }

  // A clean stop: steps in flight finish.
  void stop() {
    engine_->stop();
    ASSERT_TRUE(run_until([this] { return !running_; }, 1h));
    close();
  }

  // Time stands still while a store thread works for the engine: under load
  // a commit may take real milliseconds, and a jump then would age timers
  // and deadlines by seconds the engine never waited.
  bool run_until(const std::function<bool()>& done, clock::duration limit) {
    return run_virtual(*io_, done, limit,
                       [this] { return store_ && store_->jobs_in_flight() > 0; });
  }

  // A manifest of `n` accounts of `mode` (advertisers with two active
  // campaigns each, to be paused).
  config::manifest manifest(const std::string& name, std::size_t n,
                            config::unlink_mode mode = config::unlink_mode::partner_share,
                            const std::string& credentials = "acme") {
    config::manifest m;
    m.batch = name;
    m.credentials = credentials;
    m.business_center_id = "7012345678901234567";
    for (std::size_t i = 0; i < n; ++i) {
      config::account a;
      a.id = std::to_string(7100000000000000000ULL + next_id_++);
      a.mode = mode;
      a.type = config::account_type_of(mode);
      a.partner_id = "7099999999999999999";
      a.members = {"6900000000000000001"};
      a.advertiser_id = "7123456789012345678";
      a.active_campaigns = config::campaign_policy::pause;
      a.backup.required = true;
      if (a.type == config::account_type::advertiser) {
        platform_.world[a.id].active_campaigns = {a.id + "1", a.id + "2"};
      } else {
        platform_.world[a.id];
      }
      m.accounts.push_back(std::move(a));
    }
    return m;
  }

  std::int64_t ingest(config::manifest m) {
    store::ingest_request r;
    r.sha256 = "sha-" + m.batch;
    r.source_file = m.batch + ".yaml";
    r.submitter_uid = 1000;
    r.manifest = std::move(m);
    auto outcome = store_->ingest_blocking(std::move(r));
    EXPECT_TRUE(outcome.has_value());
    const auto* accepted = std::get_if<store::ingest_accepted>(&*outcome);
    EXPECT_NE(accepted, nullptr) << store::describe(*outcome);
    engine_->poke();
    return accepted == nullptr ? 0 : accepted->batch_id;
  }

  std::int64_t count(std::int64_t batch, account_state s) const {
    std::int64_t n = 0;
    for (const auto& [key, c] : store_->counts(batch)) {
      n += key.state == s ? c : 0;
    }
    return n;
  }

  std::int64_t total(std::int64_t batch) const {
    std::int64_t n = 0;
    for (const auto& [key, c] : store_->counts(batch)) {
      n += c;
    }
    return n;
  }

  bool all_ended(std::int64_t batch) const {
    return count(batch, account_state::done) + count(batch, account_state::failed) +
               count(batch, account_state::cancelled) ==
           total(batch);
  }

  // Blocking reads through the store's reader, for assertions.
  template <class T>
  T wait_for(asio::awaitable<T> op) {
    std::optional<T> out;
    asio::co_spawn(*io_, std::move(op), [&](const std::exception_ptr& e, T v) {
      rethrow(e);
      out = std::move(v);
    });
    if (!run_until([&] { return out.has_value(); }, 1min)) {
      throw std::runtime_error("a store read did not answer within a virtual minute");
    }
    return std::move(*out);
  }

  batch_state state_of_batch(std::int64_t id) {
    for (const auto& b : wait_for(store_->batches()).value()) {
      if (b.id == id) {
        return b.state;
      }
    }
    return batch_state::queued;
  }

  store::account_record account(std::int64_t batch, const std::string& id) {
    auto found = wait_for(store_->find_account(batch, id));
    EXPECT_TRUE(found.has_value() && found->has_value());
    return **found;
  }

  control_result control(asio::awaitable<control_result> op) { return wait_for(std::move(op)); }

  virtual_time time_;
  std::string dir_;
  spdlog::logger log_{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<store::store> store_;
  fake_platform platform_{asio::any_io_executor{}};
  config::credential_profile profile_;
  config::credential_profile other_profile_;
  std::unique_ptr<engine> engine_;
  engine_options options_;
  bool running_ = false;
  std::uint64_t next_id_ = 1;
};

TEST_F(engine_test, every_mode_runs_from_preflight_to_verify) {
  auto m = manifest("every-mode", 1, config::unlink_mode::partner_share);
  for (const auto mode : {config::unlink_mode::member_access, config::unlink_mode::bc_asset,
                          config::unlink_mode::tiktok_binding}) {
    auto more = manifest("x", 1, mode);
    m.accounts.push_back(more.accounts.front());
  }
  const auto batch = ingest(m);
  ASSERT_TRUE(run_until([&] { return all_ended(batch); }, 1h));
  EXPECT_EQ(count(batch, account_state::done), 4);
  ASSERT_TRUE(run_until([&] { return state_of_batch(batch) == batch_state::completed; }, 1min));
  for (const auto& a : m.accounts) {
    const auto& remote = platform_.world.at(a.id);
    EXPECT_FALSE(remote.linked) << a.id;
    EXPECT_EQ(remote.unlink_calls, 1U) << a.id;
    const auto stored = account(batch, a.id);
    ASSERT_TRUE(stored.backup.has_value()) << a.id;
    EXPECT_EQ(stored.backup->digest, "digest-of-" + a.id);
    EXPECT_TRUE(stored.unlink_sent_at.has_value());
    // The fake's counts: preflight 3, backup 5, a pause 1 per 20 campaigns, unlink 1, verify 1.
    EXPECT_EQ(stored.api_calls, a.type == config::account_type::advertiser ? 11U : 10U) << a.id;
    ASSERT_TRUE(stored.started_at && stored.ended_at);
    EXPECT_LE(*stored.started_at, *stored.ended_at);
    if (a.type == config::account_type::advertiser) {
      EXPECT_EQ(stored.campaigns_paused.size(), 2U) << a.id;
      EXPECT_TRUE(remote.active_campaigns.empty());
    }
  }
  EXPECT_EQ(platform_.count(pipeline_step::pause), 2U) << "only the advertisers had campaigns";
  stop();
}

TEST_F(engine_test, a_tiny_batch_is_not_starved_by_a_huge_one) {
  close();
  engine_options four;
  four.concurrency = 4;
  open(four);
  platform_.latency = 1s;
  const auto huge = ingest(manifest("huge", 200));
  ASSERT_TRUE(run_until([&] { return count(huge, account_state::done) >= 4; }, 1h));
  const auto tiny = ingest(manifest("tiny", 4));
  ASSERT_TRUE(run_until([&] { return all_ended(tiny); }, 10h));
  EXPECT_LT(count(huge, account_state::done), 60)
      << "the tiny batch waited for most of the huge one";
  ASSERT_TRUE(run_until([&] { return all_ended(huge); }, 10h));
  stop();
}

TEST_F(engine_test, retryable_errors_back_off_and_exhausted_attempts_fail_with_the_apis_words) {
  const auto m = manifest("retries", 2);
  const auto& flaky = m.accounts[0].id;
  const auto& broken = m.accounts[1].id;
  platform_.script(
      flaky, pipeline_step::backup,
      {{api_error(error_class::retryable, 50002)}, {api_error(error_class::retryable, 50002)}});
  platform_.always_fail(broken, pipeline_step::preflight,
                        api_error(error_class::retryable, 51001, "service busy"));
  const auto batch = ingest(m);
  ASSERT_TRUE(run_until([&] { return all_ended(batch); }, 10h));
  EXPECT_EQ(account(batch, flaky).state, account_state::done);
  const auto failed = account(batch, broken);
  EXPECT_EQ(failed.state, account_state::failed);
  EXPECT_EQ(failed.step, pipeline_step::preflight);
  ASSERT_TRUE(failed.last_error.has_value());
  EXPECT_EQ(failed.last_error->code, 51001);
  EXPECT_EQ(failed.last_error->request_id, "2026112612000000FAKE51001");
  std::size_t preflights = 0;
  for (const auto& c : platform_.calls) {
    preflights += c.account == broken && c.step == pipeline_step::preflight ? 1 : 0;
  }
  EXPECT_EQ(preflights, 8U) << "max_attempts of the daemon's default policy";
  stop();
}

TEST_F(engine_test, a_credential_error_holds_its_batches_and_resume_finishes_them) {
  const auto held = ingest(manifest("held", 6));
  const auto other = ingest(manifest("other", 3, config::unlink_mode::partner_share, "other"));
  // The first preflight of the held batch is refused: the token was revoked.
  const auto first = manifest("dummy", 0);
  (void)first;
  for (std::uint64_t i = 1; i <= 6; ++i) {
    platform_.script(std::to_string(7100000000000000000ULL + i), pipeline_step::preflight,
                     {{api_error(error_class::credential, 40105, "token revoked")}});
  }
  ASSERT_TRUE(run_until([&] { return all_ended(other); }, 10h));
  EXPECT_EQ(count(other, account_state::done), 3) << "another credential's batch went on";
  ASSERT_TRUE(run_until([&] { return count(held, account_state::needs_attention) == 6; }, 1h));
  const auto holds = wait_for(store_->credential_holds()).value();
  ASSERT_EQ(holds.size(), 1U);
  EXPECT_EQ(holds[0].profile, "acme");
  EXPECT_NE(holds[0].reason.find("unlinkctl resume held"), std::string::npos);
  const auto result = control(engine_->resume("held", 0));
  EXPECT_EQ(result.status, control_status::done) << result.message;
  ASSERT_TRUE(run_until([&] { return all_ended(held); }, 10h));
  EXPECT_EQ(count(held, account_state::done), 6);
  stop();
}

TEST_F(engine_test, a_lost_unlink_reply_whose_write_took_is_verified_not_resent) {
  platform_.visibility_delay = 5min;
  const auto m = manifest("lost-applied", 1);
  platform_.script(m.accounts[0].id, pipeline_step::unlink,
                   {{api_error(error_class::unknown_outcome, 0, "connection reset"), true}});
  const auto batch = ingest(m);
  ASSERT_TRUE(run_until([&] { return all_ended(batch); }, 10h));
  EXPECT_EQ(count(batch, account_state::done), 1);
  EXPECT_EQ(platform_.world.at(m.accounts[0].id).unlink_calls, 1U);
  stop();
}

TEST_F(engine_test, a_lost_unlink_that_did_not_take_is_resent_once_after_verify_deadline) {
  const auto m = manifest("lost-not-applied", 1);
  const auto& id = m.accounts[0].id;
  platform_.script(id, pipeline_step::unlink,
                   {{api_error(error_class::unknown_outcome, 0, "connection reset"), false}});
  std::optional<clock::time_point> first_unlink;
  std::optional<clock::time_point> second_unlink;
  platform_.on_call = [&](const std::string&, pipeline_step step) {
    if (step == pipeline_step::unlink) {
      (first_unlink ? second_unlink : first_unlink) = clock::now();
    }
  };
  const auto batch = ingest(m);
  ASSERT_TRUE(run_until([&] { return all_ended(batch); }, 10h));
  EXPECT_EQ(count(batch, account_state::done), 1);
  EXPECT_EQ(platform_.world.at(id).unlink_calls, 2U);
  EXPECT_EQ(platform_.world.at(id).unlinks_applied, 1U);
  ASSERT_TRUE(first_unlink && second_unlink);
  EXPECT_GE(*second_unlink - *first_unlink, 30min) << "resent before verify_deadline";
  // The resend names what the last verify still read, so the adapter sends
  // only that (a member_access account's removed members are not resent).
  const auto& told = platform_.world.at(id).unlink_resend_only;
  ASSERT_EQ(told.size(), 2U);
  EXPECT_FALSE(told[0].has_value());
  ASSERT_TRUE(told[1].has_value());
  EXPECT_EQ(*told[1], std::vector<std::string>{id});
  stop();
}

TEST_F(engine_test, retryable_errors_on_the_resend_still_end_done_and_unlink_once) {
  // Found by the reliability suite's Faults scenario. A resend the API
  // refused is sent again after a backoff, not verified for another
  // verify_deadline (after a read, which names what to send); a resend whose
  // reply is lost is verified and sent once more, up to max_unlink_sends.
  const auto m = manifest("faulty-resend", 2);
  const auto& refused = m.accounts[0].id;
  const auto& lost_twice = m.accounts[1].id;
  const auto reset = api_error(error_class::unknown_outcome, 0, "connection reset");
  platform_.script(refused, pipeline_step::unlink,
                   {{reset, false}, {api_error(error_class::retryable, 50002), false}});
  platform_.script(lost_twice, pipeline_step::unlink, {{reset, false}, {reset, false}});
  const auto started = clock::utc_now();
  const auto batch = ingest(m);
  ASSERT_TRUE(run_until([&] { return all_ended(batch); }, 10h));
  EXPECT_EQ(count(batch, account_state::done), 2);
  EXPECT_EQ(platform_.world.at(refused).unlink_calls, 3U);
  EXPECT_EQ(platform_.world.at(lost_twice).unlink_calls, 3U);
  for (const auto* id : {&refused, &lost_twice}) {
    EXPECT_EQ(platform_.world.at(*id).unlinks_applied, 1U);
  }
  // The retry of the refused resend read first and sent what was listed.
  const auto& told = platform_.world.at(refused).unlink_resend_only;
  ASSERT_EQ(told.size(), 3U);
  EXPECT_TRUE(told[1].has_value() && told[2].has_value());
  const auto stored = account(batch, refused);
  EXPECT_EQ(stored.unlink_sends, 2U) << "the refused resend does not count";
  ASSERT_TRUE(stored.ended_at.has_value());
  EXPECT_LT(*stored.ended_at - started, 60min) << "waited a second verify_deadline";
  stop();
}

TEST_F(engine_test, no_unlink_without_a_verified_backup) {
  const auto m = manifest("no-backup", 2);
  for (const auto& a : m.accounts) {
    platform_.always_fail(a.id, pipeline_step::backup,
                          api_error(error_class::permanent, 40002, "cannot read the ads"));
  }
  const auto batch = ingest(m);
  ASSERT_TRUE(run_until([&] { return all_ended(batch); }, 10h));
  EXPECT_EQ(count(batch, account_state::failed), 2);
  EXPECT_EQ(platform_.count(pipeline_step::unlink), 0U);
  EXPECT_EQ(platform_.count(pipeline_step::pause), 0U);
  stop();
}

TEST_F(engine_test, pause_resume_cancel_and_retry_failed) {
  close();
  engine_options two;
  two.concurrency = 2;
  open(two);
  platform_.latency = 1s;
  const auto m = manifest("controls", 20);
  platform_.always_fail(m.accounts[0].id, pipeline_step::preflight,
                        api_error(error_class::permanent, 40001, "no permission"));
  const auto batch = ingest(m);
  ASSERT_TRUE(run_until([&] { return count(batch, account_state::done) >= 2; }, 1h));
  EXPECT_EQ(control(engine_->pause("controls", 0)).status, control_status::done);
  const auto calls_at_pause = platform_.calls.size();
  ASSERT_TRUE(run_until([] { return false; }, 10min) == false);
  EXPECT_LE(platform_.calls.size(), calls_at_pause + std::size_t{2} * 5)
      << "only steps in flight went on";
  EXPECT_EQ(control(engine_->pause("controls", 0)).status, control_status::conflict);
  const auto resumed = control(engine_->resume("controls", 0));
  EXPECT_EQ(resumed.status, control_status::done) << resumed.message;
  ASSERT_TRUE(run_until([&] { return all_ended(batch); }, 10h));
  EXPECT_EQ(count(batch, account_state::failed), 1);
  ASSERT_TRUE(run_until([&] { return state_of_batch(batch) == batch_state::completed; }, 1min));

  // retry-failed: attempts reset, the batch runs again and completes.
  platform_.always_fail(m.accounts[0].id, pipeline_step::preflight,
                        api_error(error_class::permanent, 40001, "no permission"));
  const auto retried = control(engine_->retry_failed("controls", 0));
  EXPECT_EQ(retried.status, control_status::done) << retried.message;
  ASSERT_TRUE(run_until([&] { return state_of_batch(batch) == batch_state::completed; }, 10h));
  EXPECT_GE(platform_.count(pipeline_step::preflight), 20U + 1U) << "the failed one ran again";
  EXPECT_EQ(control(engine_->cancel("controls", 0)).status, control_status::conflict)
      << "a completed batch cannot be cancelled";

  const auto c = ingest(manifest("to-cancel", 30));
  ASSERT_TRUE(run_until([&] { return count(c, account_state::done) >= 2; }, 1h));
  EXPECT_EQ(control(engine_->cancel("to-cancel", 0)).status, control_status::done);
  ASSERT_TRUE(run_until([&] { return state_of_batch(c) == batch_state::cancelled; }, 1h));
  EXPECT_GT(count(c, account_state::cancelled), 0);
  EXPECT_TRUE(all_ended(c));
  EXPECT_EQ(control(engine_->cancel("nope", 0)).status, control_status::not_found);
  stop();
}

TEST_F(engine_test, the_circuit_breaker_pauses_a_batch_that_keeps_failing) {
  const auto m = manifest("breaker", 80);
  for (std::size_t i = 0; i < m.accounts.size(); i += 3) {  // a third fail
    platform_.always_fail(m.accounts[i].id, pipeline_step::preflight,
                          api_error(error_class::permanent, 40002, "not in the BC"));
  }
  const auto batch = ingest(m);
  ASSERT_TRUE(run_until([&] { return state_of_batch(batch) == batch_state::paused; }, 10h));
  const auto batches = wait_for(store_->batches()).value();
  EXPECT_NE(batches.front().state_reason.find("circuit breaker"), std::string::npos);
  EXPECT_FALSE(all_ended(batch)) << "it paused before the end";
  stop();
}

TEST_F(engine_test, a_dry_run_makes_no_mutating_call_and_plans_every_account) {
  auto m = manifest("dry", 5);
  m.dry_run = true;
  const auto batch = ingest(m);
  ASSERT_TRUE(run_until([&] { return all_ended(batch); }, 1h));
  EXPECT_EQ(count(batch, account_state::done), 5);
  EXPECT_EQ(platform_.count(pipeline_step::unlink), 0U);
  EXPECT_EQ(platform_.count(pipeline_step::pause), 0U);
  EXPECT_EQ(platform_.count(pipeline_step::backup), 0U);
  for (const auto& a : m.accounts) {
    EXPECT_TRUE(platform_.world.at(a.id).linked);
    const auto stored = account(batch, a.id);
    EXPECT_EQ(stored.api_calls, 3U) << "the fake's preflight sends 3";
    ASSERT_TRUE(stored.plan.has_value()) << a.id;
    EXPECT_EQ(stored.plan->action, "unlink");
    EXPECT_GT(stored.plan->estimated_api_calls, 3U + 1U + 1U) << "preflight, unlink, verify";
    // The Basic tier's 10 calls a second.
    EXPECT_EQ(stored.plan->estimated_time,
              std::chrono::milliseconds{100 * stored.plan->estimated_api_calls});
  }
  stop();
}

// Stop the scheduler at the Nth platform call (abruptly: no drain), reopen
// the same database file, finish; for many N. Every account ends in exactly
// one terminal state and no relationship is removed twice.
TEST_F(engine_test, stopped_at_any_point_it_finishes_without_unlinking_twice) {
  const auto m = manifest("crashes", 12);
  const auto batch = ingest(m);
  std::size_t calls = 0;
  bool crashed = false;
  for (std::size_t cut : {3U, 9U, 17U, 26U, 31U, 40U, 47U, 55U, 63U, 70U}) {
    platform_.on_call = [&, cut](const std::string&, pipeline_step) {
      crashed = crashed || ++calls >= cut;
    };
    ASSERT_TRUE(run_until([&] { return crashed || all_ended(batch); }, 10h));
    close();  // no drain: coroutines in flight are dropped
    crashed = false;
    open();
  }
  platform_.on_call = nullptr;
  ASSERT_TRUE(run_until([&] { return all_ended(batch); }, 20h));
  EXPECT_EQ(count(batch, account_state::done), 12);
  for (const auto& a : m.accounts) {
    EXPECT_LE(platform_.world.at(a.id).unlinks_applied, 1U) << a.id;
    EXPECT_FALSE(platform_.world.at(a.id).linked) << a.id;
  }
  stop();
}

}  // namespace
}  // namespace unlinkd::scheduler
