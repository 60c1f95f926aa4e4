// unlinkctl as an operator runs it: the real unlinkctl binary against the
// real unlinkd, which works against the real sandbox process, all in a temp
// folder. Every wait is on a condition with a deadline.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct ctl_run {
  int exit = -1;  // -1: killed at the deadline
  std::string out;
  std::string err;
};

// Waits for `pid` until the deadline, then kills it; returns its exit code
// (-1 when it had to be killed).
int wait_or_kill(pid_t pid, std::chrono::seconds deadline) {
  const auto end = steady::now() + deadline;
  int status = 0;
  while (steady::now() < end) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(10ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

// Runs unlinkctl with `args`, its output captured in files under `dir`.
ctl_run unlinkctl(const std::string& dir, std::vector<std::string> args,
                  std::chrono::seconds deadline = 30s) {
  args.insert(args.begin(), UNLINKD_UNLINKCTL_BIN);
  const std::string out_path = dir + "/ctl.out";
  const std::string err_path = dir + "/ctl.err";
  const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const pid_t pid = spawn(args, out, err);
  ::close(out);
  ::close(err);
  ctl_run r;
  r.exit = wait_or_kill(pid, deadline);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

std::string describe(const ctl_run& r) {
  return "exit " + std::to_string(r.exit) + "\nstdout:\n" + r.out + "stderr:\n" + r.err;
}

class ctl_daemon : public ::testing::Test {
 protected:
  ctl_daemon() {
    dir_ = sandbox_.dir() + "/daemon";
    fs::create_directories(dir_);
    socket_ = dir_ + "/unlinkd.sock";
    std::ofstream(dir_ + "/unlinkd.yaml")
        << "state_dir: " << dir_ << "/state\n"
        << "inbox_dir: " << dir_ << "/state/inbox\n"
        << "credentials_file: " << sandbox_.dir() << "/credentials.yaml\n"
        << "socket: " << socket_ << "\n"
        << "drain_timeout: 5s\n";
    const int err =
        ::open((dir_ + "/stderr.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_ =
        spawn({UNLINKD_BIN, "--config", dir_ + "/unlinkd.yaml", "--log-level", "debug"}, err, err);
    ::close(err);
    manifest_ = sandbox_.dir() + "/batch.yaml";
    std::istringstream lines(slurp(manifest_));
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("batch:")) {
        batch_ = line.substr(line.find_first_not_of(' ', 6));
      }
    }
  }

  ~ctl_daemon() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      if (wait_or_kill(pid_, 20s) == -1) {
        ADD_FAILURE() << "unlinkd did not stop on SIGTERM";
      }
    }
  }

 public:
  ctl_daemon(const ctl_daemon&) = delete;
  ctl_daemon& operator=(const ctl_daemon&) = delete;

 protected:
  ctl_run ctl(std::vector<std::string> args, std::chrono::seconds deadline = 30s) {
    args.insert(args.begin(), {"--socket", socket_});
    return unlinkctl(dir_, std::move(args), deadline);
  }

  // Until `unlinkctl status` succeeds: the daemon has recovered and serves.
  bool wait_ready(std::chrono::seconds deadline = 20s) {
    const auto end = steady::now() + deadline;
    while (steady::now() < end) {
      if (fs::exists(socket_) && ctl({"status"}).exit == 0) {
        return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // Until the batch's state (from `show --json`) is `state`.
  bool wait_state(const std::string& state, std::chrono::seconds deadline = 60s) {
    const auto end = steady::now() + deadline;
    while (steady::now() < end) {
      const auto r = ctl({"--json", "show", batch_});
      if (r.exit == 0 && boost::json::parse(r.out).at("state").as_string() == state) {
        return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  std::string log() const { return slurp(dir_ + "/stderr.log"); }

  sandbox_process sandbox_{{"--accounts", "6", "--seed", "5", "--credentials-out",
                            "{dir}/credentials.yaml", "--manifest-out", "{dir}/batch.yaml",
                            "--no-limits"}};
  std::string dir_;
  std::string socket_;
  std::string manifest_;
  std::string batch_;
  pid_t pid_ = -1;
};

TEST_F(ctl_daemon, submit_inspect_and_watch_a_batch_to_the_end) {
  ASSERT_FALSE(batch_.empty()) << slurp(manifest_);
  ASSERT_TRUE(wait_ready()) << log();

  const auto submitted = ctl({"submit", manifest_});
  ASSERT_EQ(submitted.exit, 0) << describe(submitted) << log();
  EXPECT_NE(submitted.out.find(manifest_ + ": accepted as batch " + batch_ + " (id "),
            std::string::npos)
      << submitted.out;

  const auto again = ctl({"submit", manifest_});
  EXPECT_EQ(again.exit, 4) << describe(again);
  EXPECT_NE(again.err.find("(duplicate_manifest)"), std::string::npos) << again.err;

  const auto status = ctl({"status"});
  EXPECT_EQ(status.exit, 0) << describe(status);
  EXPECT_TRUE(status.out.starts_with("unlinkd: ok, ")) << status.out;
  EXPECT_NE(status.out.find("  " + batch_ + "  "), std::string::npos) << status.out;

  const auto batches = ctl({"batches"});
  EXPECT_EQ(batches.exit, 0) << describe(batches);
  EXPECT_TRUE(batches.out.starts_with("BATCH ")) << batches.out;
  EXPECT_NE(batches.out.find("\n" + batch_ + " "), std::string::npos) << batches.out;

  const auto show = ctl({"show", batch_});
  EXPECT_EQ(show.exit, 0) << describe(show);
  EXPECT_TRUE(show.out.starts_with("batch " + batch_ + " (id ")) << show.out;
  EXPECT_NE(show.out.find("accounts: 6\n"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("  source file:       batch.yaml\n"), std::string::npos)
      << "X-Manifest-Name is the file's base name\n"
      << show.out;

  // Watch to the end, its lines going to a file (not a TTY): plain lines.
  const auto watched = ctl({"watch", batch_, "--interval", "0.2"}, 120s);
  ASSERT_EQ(watched.exit, 0) << describe(watched) << log();
  EXPECT_NE(watched.out.find("] 6/6 done, 0 failed, 0 in flight, 0 waiting, "), std::string::npos)
      << watched.out;
  EXPECT_TRUE(watched.out.ends_with("ETA 0s (completed)\n")) << watched.out;
  EXPECT_EQ(watched.out.find('\r'), std::string::npos) << "no redraw outside a terminal";

  // The accounts, one page at a time (--limit 4 of 6), then all.
  const auto first_four = ctl({"accounts", batch_, "--limit", "4"});
  EXPECT_EQ(first_four.exit, 0) << describe(first_four);
  EXPECT_NE(first_four.out.find("(the first 4 accounts; more with --limit N)"), std::string::npos)
      << first_four.out;
  const auto all_json = ctl({"--json", "accounts", batch_, "--state", "done"});
  ASSERT_EQ(all_json.exit, 0) << describe(all_json);
  const auto listed = boost::json::parse(all_json.out);
  ASSERT_EQ(listed.at("accounts").as_array().size(), 6U) << all_json.out;
  EXPECT_FALSE(listed.as_object().contains("next_after"));
  const std::string account(listed.at("accounts").at(0).at("id").as_string());
  const auto table = ctl({"accounts", batch_});
  EXPECT_EQ(table.exit, 0) << describe(table);
  EXPECT_TRUE(table.out.starts_with("ACCOUNT ")) << table.out;
  EXPECT_NE(table.out.find("\n" + account + " "), std::string::npos) << table.out;

  const auto history = ctl({"history", batch_, account});
  EXPECT_EQ(history.exit, 0) << describe(history);
  EXPECT_TRUE(history.out.starts_with("account " + account + " (")) << history.out;
  EXPECT_NE(history.out.find("  state:             done\n"), std::string::npos) << history.out;
  EXPECT_NE(history.out.find("events:\nSEQ "), std::string::npos) << history.out;

  // retry on a completed batch: nothing failed, nothing to do, but allowed.
  const auto retry = ctl({"retry", batch_});
  EXPECT_EQ(retry.exit, 0) << describe(retry);
  EXPECT_EQ(retry.out, batch_ + ": 0 failed accounts of batch '" + batch_ + "' will run again\n");
  // A completed batch cannot be paused: refused, exit 4.
  ASSERT_TRUE(wait_state("completed")) << log();
  const auto pause = ctl({"pause", batch_});
  EXPECT_EQ(pause.exit, 4) << describe(pause);
  EXPECT_NE(pause.err.find("only a queued or running batch can be paused"), std::string::npos)
      << pause.err;
}

TEST_F(ctl_daemon, pause_and_resume_a_running_batch) {
  ASSERT_TRUE(wait_ready()) << log();
  // Slow every API call so the batch is still running when paused.
  http_client sandbox(sandbox_.port());
  ASSERT_EQ(sandbox.put("/_sandbox/faults", R"({"latency": {"fixed": "1s"}})").status, 200U);
  const auto submitted = ctl({"submit", manifest_});
  ASSERT_EQ(submitted.exit, 0) << describe(submitted);

  const auto paused = ctl({"pause", batch_});
  ASSERT_EQ(paused.exit, 0) << describe(paused) << log();
  EXPECT_EQ(paused.out, batch_ + ": batch '" + batch_ + "' is paused\n");
  const auto show = ctl({"show", batch_});
  EXPECT_NE(show.out.find("  state:             paused\n"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("  state reason:      paused by an operator\n"), std::string::npos)
      << show.out;
  const auto again = ctl({"pause", batch_});
  EXPECT_EQ(again.exit, 4) << describe(again);

  const auto resumed = ctl({"resume", batch_});
  EXPECT_EQ(resumed.exit, 0) << describe(resumed);
  EXPECT_EQ(resumed.out, batch_ + ": batch '" + batch_ + "' is running\n");
  ASSERT_EQ(sandbox.put("/_sandbox/faults", "{}").status, 200U);
  EXPECT_TRUE(wait_state("completed", 120s)) << log();
}

TEST_F(ctl_daemon, an_invalid_manifest_is_refused_with_positions) {
  ASSERT_TRUE(wait_ready()) << log();
  const std::string broken = dir_ + "/broken.yaml";
  std::ofstream(broken) << "version: 1\nbatch: Bad Name\naction: unlink\n";
  const auto r = ctl({"submit", broken});
  EXPECT_EQ(r.exit, 2) << describe(r);
  // Every line is positioned in the file as given; the bad name is on line 2.
  EXPECT_NE(r.err.find(broken + ":2:"), std::string::npos) << r.err;
  std::istringstream lines(r.err);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(line.starts_with(broken + ":")) << line;
    EXPECT_NE(line.find(": error: "), std::string::npos) << line;
  }
  EXPECT_EQ(r.out, "");
  const auto json = ctl({"--json", "submit", broken});
  EXPECT_EQ(json.exit, 2);
  EXPECT_EQ(boost::json::parse(json.out).at("error").as_string(), "invalid_manifest");
  // Nothing was created.
  const auto batches = ctl({"batches"});
  EXPECT_EQ(batches.out, "no batches\n") << describe(batches);
  // --dry-run creates a dry-run batch.
  const auto dry = ctl({"submit", "--dry-run", manifest_});
  ASSERT_EQ(dry.exit, 0) << describe(dry);
  EXPECT_TRUE(dry.out.ends_with(", dry run\n")) << dry.out;
  const auto show = ctl({"show", batch_});
  EXPECT_NE(show.out.find("  action:            unlink (dry run)\n"), std::string::npos)
      << show.out;
}

TEST_F(ctl_daemon, a_missing_batch_or_account_is_exit_3) {
  ASSERT_TRUE(wait_ready()) << log();
  for (const std::vector<std::string>& args : {std::vector<std::string>{"show", "nosuch"},
                                               {"accounts", "nosuch"},
                                               {"history", "nosuch", "1"},
                                               {"watch", "nosuch"},
                                               {"pause", "nosuch"},
                                               {"resume", "nosuch"},
                                               {"cancel", "nosuch"},
                                               {"retry", "nosuch"}}) {
    const auto r = ctl(args);
    EXPECT_EQ(r.exit, 3) << args[0] << "\n" << describe(r);
    EXPECT_NE(r.err.find("no batch named 'nosuch'"), std::string::npos) << args[0] << r.err;
  }
  const auto submitted = ctl({"submit", manifest_});
  ASSERT_EQ(submitted.exit, 0) << describe(submitted);
  const auto account = ctl({"history", batch_, "999"});
  EXPECT_EQ(account.exit, 3) << describe(account);
  EXPECT_NE(account.err.find("(account_not_found)"), std::string::npos) << account.err;
  const auto bad_state = ctl({"accounts", batch_, "--state", "sleeping"});
  EXPECT_EQ(bad_state.exit, 1) << describe(bad_state);
  EXPECT_NE(bad_state.err.find("(bad_state)"), std::string::npos) << bad_state.err;
}

TEST(ctl_unreachable, a_socket_with_no_daemon_is_exit_5) {
  const std::string dir = fs::temp_directory_path() / ("ctl-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto r = unlinkctl(dir, {"--socket", dir + "/none.sock", "status"});
  EXPECT_EQ(r.exit, 5) << describe(r);
  EXPECT_NE(r.err.find(dir + "/none.sock"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("systemctl status unlinkd"), std::string::npos) << r.err;
  // The environment variable is used when --socket is not given.
  ::setenv("UNLINKD_SOCKET", (dir + "/env.sock").c_str(), 1);
  const auto env = unlinkctl(dir, {"batches"});
  ::unsetenv("UNLINKD_SOCKET");
  EXPECT_EQ(env.exit, 5) << describe(env);
  EXPECT_NE(env.err.find(dir + "/env.sock"), std::string::npos) << env.err;
  fs::remove_all(dir);
}

TEST(ctl_usage, help_and_usage_errors) {
  const std::string dir = fs::temp_directory_path() / ("ctl-usage-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto help = unlinkctl(dir, {"--help"});
  EXPECT_EQ(help.exit, 0);
  EXPECT_TRUE(help.out.starts_with("usage: unlinkctl [--socket PATH] [--json] COMMAND"))
      << help.out;
  for (const auto* command : {"status", "batches", "show", "accounts", "history", "watch", "pause",
                              "resume", "cancel", "retry", "submit"}) {
    const auto r = unlinkctl(dir, {command, "--help"});
    EXPECT_EQ(r.exit, 0) << command;
    EXPECT_TRUE(
        r.out.starts_with("usage: unlinkctl [--socket PATH] [--json] " + std::string(command)))
        << r.out;
    EXPECT_NE(r.out.find("Exit status:"), std::string::npos) << command;
  }
  const auto validate = unlinkctl(dir, {"help", "validate"});
  EXPECT_TRUE(validate.out.starts_with("usage: unlinkctl validate")) << validate.out;
  const auto unknown = unlinkctl(dir, {"report", "b1"});
  EXPECT_EQ(unknown.exit, 1);
  EXPECT_EQ(unknown.err, "unlinkctl: unknown command 'report'; see unlinkctl --help\n");
  const auto none = unlinkctl(dir, {});
  EXPECT_EQ(none.exit, 1);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace unlinkd::test
