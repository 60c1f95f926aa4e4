// A writer process killed with SIGKILL in the middle of committing: the file
// is intact on reopen and holds at least every commit the process had
// acknowledged (an acknowledgement is written only after the commit resolved).

#include <csignal>
#include <cstring>
#include <map>

#include <gtest/gtest.h>
#include <poll.h>
#include <spdlog/sinks/null_sink.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/store/store_test_support.hpp"

namespace unlinkd::store::test {
namespace {

using namespace std::chrono_literals;

constexpr int accounts = 100;

// The child: commits attempts = 1, 2, 3, ... on every account, from one
// coroutine per account, and after each commit writes "account attempts\n"
// to `ack_fd`. It runs until killed.
[[noreturn]] void run_writer(const std::string& path, int ack_fd) {
  auto log =
      std::make_shared<spdlog::logger>("child", std::make_shared<spdlog::sinks::null_sink_mt>());
  auto opened = store::open(path, {}, *log);
  if (!opened) {
    _exit(3);
  }
  auto& s = **opened;
  auto r = s.ingest_blocking(make_request(make_manifest("crash", accounts, 1)));
  if (!r || !std::holds_alternative<ingest_accepted>(*r)) {
    _exit(4);
  }
  const auto batch = std::get<ingest_accepted>(*r).batch_id;
  boost::asio::io_context io;
  for (int a = 1; a <= accounts; ++a) {
    boost::asio::co_spawn(
        io,
        [&, a]() -> boost::asio::awaitable<void> {
          for (std::uint32_t n = 1;; ++n) {
            transition t;
            t.batch_id = batch;
            t.account_id = std::to_string(a);
            t.expected = account_state::backup;
            t.to = account_state::backup;
            t.step = pipeline_step::backup;
            if (n == 1) {
              t.expected = account_state::pending;
            }
            t.attempts = n;
            t.event.detail = std::string(200, 'x');  // bigger groups, more pages
            auto outcome = co_await s.commit(std::move(t));
            if (!outcome || *outcome != commit_outcome::applied) {
              _exit(5);
            }
            const std::string line = std::to_string(a) + " " + std::to_string(n) + "\n";
            if (write(ack_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
              _exit(6);
            }
          }
        },
        [](const std::exception_ptr& e) {
          if (e) {
            _exit(8);
          }
        });
  }
  io.run();
  _exit(7);
}

TEST(store_crash, sigkill_mid_commit_leaves_an_intact_file_with_every_acknowledged_commit) {
  temp_dir dir;
  const auto path = dir.file("unlinkd.db");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();  // before this process opens any database
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    run_writer(path, fds[1]);
  }
  close(fds[1]);

  // Read acknowledgements until enough commits have landed, then kill.
  std::map<int, std::uint32_t> acked;
  std::size_t acks = 0;
  std::string pending;
  bool killed = false;
  char buf[4096];
  // A child that hangs is killed at the deadline and fails the test below.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 100) == 0) {
      if (std::chrono::steady_clock::now() > deadline && !killed) {
        kill(child, SIGKILL);
        killed = true;
      }
      continue;
    }
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) {
      break;  // EOF: the child is gone and the pipe drained
    }
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t nl = 0;
    while ((nl = pending.find('\n')) != std::string::npos) {
      int account = 0;
      unsigned attempts = 0;
      ASSERT_EQ(std::sscanf(pending.substr(0, nl).c_str(), "%d %u", &account, &attempts), 2);
      acked[account] = std::max(acked[account], static_cast<std::uint32_t>(attempts));
      ++acks;
      pending.erase(0, nl + 1);
    }
    if (!killed && acks >= 3000) {
      ASSERT_EQ(kill(child, SIGKILL), 0);
      killed = true;
    }
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited by itself with status "
                                   << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
  ASSERT_GE(acks, 3000U);

  EXPECT_EQ(check_integrity(path).value(), "ok");
  captured_log log;
  auto s = open_store(path, *log.logger);
  EXPECT_EQ(s->counts(), full_count(path));
  boost::asio::io_context io;
  for (const auto& [account, attempts] : acked) {
    auto a = run(io, s->find_account(1, std::to_string(account))).value();
    ASSERT_TRUE(a);
    // At least what was acknowledged; one more if its commit landed and the
    // process died before writing the acknowledgement.
    EXPECT_GE(a->attempts, attempts) << "account " << account;
    EXPECT_LE(a->attempts, attempts + 1) << "account " << account;
  }
}

}  // namespace
}  // namespace unlinkd::store::test
