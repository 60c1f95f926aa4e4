// unlinkctl as an operator runs it: the real unlinkctl binary against the
// real unlinkd, which works against the real sandbox process, all in a temp
// folder. Every wait is on a condition with a deadline.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
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

// Runs unlinkctl with `args`, its output captured in files under `dir`;
// `prefix` runs it through another program (setpriv, to be another user).
ctl_run unlinkctl(const std::string& dir, std::vector<std::string> args,
                  std::chrono::seconds deadline = 30s, std::vector<std::string> prefix = {}) {
  args.insert(args.begin(), UNLINKD_UNLINKCTL_BIN);
  args.insert(args.begin(), prefix.begin(), prefix.end());
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
    manifest_ = sandbox_.dir() + "/batch.yaml";
    std::istringstream lines(slurp(manifest_));
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("batch:")) {
        batch_ = line.substr(line.find_first_not_of(' ', 6));
      }
    }
  }

  // Starts the daemon in SetUp, so a derived fixture's config() counts.
  void SetUp() override {
    std::ofstream(dir_ + "/unlinkd.yaml")
        << "state_dir: " << dir_ << "/state\n"
        << "inbox_dir: " << dir_ << "/state/inbox\n"
        << "credentials_file: " << sandbox_.dir() << "/credentials.yaml\n"
        << "socket: " << socket_ << "\n"
        << "drain_timeout: 5s\n"
        << extra_config();
    const int err =
        ::open((dir_ + "/stderr.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_ =
        spawn({UNLINKD_BIN, "--config", dir_ + "/unlinkd.yaml", "--log-level", "debug"}, err, err);
    ::close(err);
  }

  // More lines for the daemon's config.
  [[nodiscard]] virtual std::string extra_config() const { return {}; }

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
  ctl_run ctl(std::vector<std::string> args, std::chrono::seconds deadline = 30s,
              std::vector<std::string> prefix = {}) {
    args.insert(args.begin(), {"--socket", socket_});
    return unlinkctl(dir_, std::move(args), deadline, std::move(prefix));
  }

  // Stops the daemon with SIGTERM; true when it exited in time.
  bool stop_daemon() {
    ::kill(pid_, SIGTERM);
    const bool stopped = wait_or_kill(pid_, 20s) != -1;
    pid_ = -1;
    return stopped;
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
  // The daemon names the batch (a dry run may get a name of its own).
  const auto named = dry.out.find(": accepted as batch ");
  ASSERT_NE(named, std::string::npos) << dry.out;
  const auto name_at = named + std::string(": accepted as batch ").size();
  const std::string dry_name = dry.out.substr(name_at, dry.out.find(" (id", name_at) - name_at);
  const auto show = ctl({"show", dry_name});
  EXPECT_NE(show.out.find("  action:            unlink (dry run)\n"), std::string::npos)
      << describe(show);
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

// Splits CSV text into rows of fields (the report quotes fields with
// commas, quotes or line breaks; lines end with CRLF).
std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
    } else if (ch == '\r') {
      continue;
    } else if (ch == '\n') {
      rows.back().push_back(std::move(field));
      field.clear();
      rows.emplace_back();
    } else {
      field += ch;
    }
  }
  if (rows.back().empty()) {
    rows.pop_back();
  }
  return rows;
}

TEST_F(ctl_daemon, report_to_a_file_in_both_formats_matches_the_store) {
  ASSERT_TRUE(wait_ready()) << log();
  const auto missing = ctl({"report", "nosuch", "-o", dir_ + "/none.csv"});
  EXPECT_EQ(missing.exit, 3) << describe(missing);
  EXPECT_FALSE(fs::exists(dir_ + "/none.csv")) << "nothing written for a failure";

  ASSERT_EQ(ctl({"submit", manifest_}).exit, 0);
  ASSERT_TRUE(wait_state("completed", 120s)) << log();
  const auto listed = ctl({"--json", "accounts", batch_, "--limit", "1000"});
  ASSERT_EQ(listed.exit, 0) << describe(listed);
  std::map<std::string, std::string> state_of;  // account id -> state, from the store
  const auto listed_json = boost::json::parse(listed.out);
  for (const auto& a : listed_json.at("accounts").as_array()) {
    state_of[std::string(a.at("id").as_string())] = std::string(a.at("state").as_string());
  }
  ASSERT_EQ(state_of.size(), 6U);

  const mode_t old_mask = ::umask(0);  // the mode must not depend on the caller's umask
  const std::string csv_path = dir_ + "/report.csv";
  const auto csv = ctl({"report", batch_, "--format", "csv", "-o", csv_path});
  ::umask(old_mask);
  ASSERT_EQ(csv.exit, 0) << describe(csv);
  EXPECT_EQ(csv.out.rfind(batch_ + ": csv report written to " + csv_path + " (", 0), 0U) << csv.out;
  EXPECT_EQ(fs::status(csv_path).permissions(),
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  const auto rows = csv_rows(slurp(csv_path));
  ASSERT_EQ(rows.size(), 7U) << slurp(csv_path);
  ASSERT_GE(rows[0].size(), 6U);
  EXPECT_EQ(rows[0][1], "id");
  EXPECT_EQ(rows[0][5], "state");
  std::map<std::string, std::string> csv_states;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i][0], batch_);
    csv_states[rows[i][1]] = rows[i][5];
  }
  EXPECT_EQ(csv_states, state_of);

  const std::string json_path = dir_ + "/report.json";
  std::ofstream(json_path) << "an older report";  // replaced whole
  const auto json = ctl({"report", batch_, "-o", json_path});
  ASSERT_EQ(json.exit, 0) << describe(json);
  const auto report = boost::json::parse(slurp(json_path));
  EXPECT_EQ(report.at("batch").as_string(), batch_);
  EXPECT_EQ(report.at("summary").at("accounts").as_int64(), 6);
  std::map<std::string, std::string> json_states;
  for (const auto& a : report.at("accounts").as_array()) {
    json_states[std::string(a.at("id").as_string())] = std::string(a.at("state").as_string());
  }
  EXPECT_EQ(json_states, state_of);
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".report."))
        << "a temp file was left: " << entry.path();
  }

  // Standard output, the same bytes as the file.
  const auto out = ctl({"report", batch_, "--format", "csv"});
  EXPECT_EQ(out.exit, 0) << describe(out);
  EXPECT_EQ(out.out, slurp(csv_path));
  const auto bad = ctl({"report", batch_, "--format", "xml"});
  EXPECT_EQ(bad.exit, 1) << describe(bad);
  EXPECT_NE(bad.err.find("--format needs csv or json"), std::string::npos) << bad.err;
  const auto unwritable = ctl({"report", batch_, "-o", dir_ + "/no/such/folder/r.json"});
  EXPECT_EQ(unwritable.exit, 1) << describe(unwritable);
  EXPECT_NE(unwritable.err.find("unlinkctl report: cannot create a file in "), std::string::npos)
      << unwritable.err;
}

TEST_F(ctl_daemon, validate_asks_the_daemon_for_profile_names) {
  ASSERT_TRUE(wait_ready()) << log();
  std::string text = slurp(manifest_);
  const auto at = text.find("credentials:");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, text.find('\n', at) - at, "credentials: no-such-profile");
  const std::string wrong = dir_ + "/wrong-profile.yaml";
  std::ofstream(wrong) << text;
  const std::size_t line =
      static_cast<std::size_t>(
          std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n')) +
      1;

  const auto offline = ctl({"validate", "--offline", wrong});
  EXPECT_EQ(offline.exit, 0) << "offline, profile names are unknown\n" << describe(offline);
  EXPECT_EQ(offline.err, "");

  const auto online = ctl({"validate", wrong});
  EXPECT_EQ(online.exit, 2) << describe(online);
  EXPECT_EQ(online.out, "");
  EXPECT_EQ(online.err.rfind(wrong + ":" + std::to_string(line) + ":", 0), 0U)
      << "positioned in the file as given, on the credentials line\n"
      << online.err;
  EXPECT_NE(online.err.find("no-such-profile"), std::string::npos) << online.err;
  const auto as_json = ctl({"--json", "validate", wrong});
  EXPECT_EQ(as_json.exit, 2) << describe(as_json);
  const auto files = boost::json::parse(as_json.out).at("files").as_array();
  ASSERT_EQ(files.size(), 1U);
  EXPECT_FALSE(files[0].at("valid").as_bool());
  EXPECT_EQ(files[0].at("problems").at(0).at("line").as_int64(), static_cast<std::int64_t>(line));

  const auto good = ctl({"validate", manifest_});
  EXPECT_EQ(good.exit, 0) << describe(good);
  EXPECT_EQ(good.out.rfind(manifest_ + ": ok: batch " + batch_, 0), 0U) << good.out;
  EXPECT_EQ(good.err, "");

  // No daemon on the socket: offline, and one line says so.
  ASSERT_TRUE(stop_daemon());
  const auto alone = ctl({"validate", wrong, manifest_});
  EXPECT_EQ(alone.exit, 0) << describe(alone);
  EXPECT_EQ(alone.err,
            "unlinkctl validate: daemon not reachable; profile names not checked (socket " +
                socket_ + ")\n");
  EXPECT_NE(alone.out.find(wrong + ": ok: batch "), std::string::npos) << alone.out;
  EXPECT_NE(alone.out.find(manifest_ + ": ok: batch "), std::string::npos) << alone.out;
}

// unlinkctl started in the background, its output going to files.
struct background_ctl {
  pid_t pid = -1;
  std::string out_path;
  std::string err_path;
};

background_ctl start_unlinkctl(const std::string& dir, const std::string& name,
                               std::vector<std::string> args) {
  args.insert(args.begin(), UNLINKD_UNLINKCTL_BIN);
  background_ctl b{-1, dir + "/" + name + ".out", dir + "/" + name + ".err"};
  const int out = ::open(b.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err = ::open(b.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  b.pid = spawn(args, out, err);
  ::close(out);
  ::close(err);
  return b;
}

bool wait_file_has(const std::string& path, const std::string& text,
                   std::chrono::seconds deadline = 20s) {
  const auto end = steady::now() + deadline;
  while (steady::now() < end) {
    if (slurp(path).find(text) != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

TEST_F(ctl_daemon, events_follow_a_stream_until_the_daemon_stops) {
  ASSERT_TRUE(wait_ready()) << log();
  http_client sandbox(sandbox_.port());
  ASSERT_EQ(sandbox.put("/_sandbox/faults", R"({"latency": {"fixed": "1s"}})").status, 200U);
  ASSERT_EQ(ctl({"submit", manifest_}).exit, 0);

  auto json =
      start_unlinkctl(dir_, "follow-json", {"--socket", socket_, "events", "--follow", "--json"});
  auto people = start_unlinkctl(dir_, "follow", {"--socket", socket_, "events", "--follow"});
  ASSERT_TRUE(wait_file_has(json.out_path, "\"kind\":\"batch_accepted\"")) << slurp(json.err_path);
  ASSERT_TRUE(wait_file_has(people.out_path, "batch_accepted")) << slurp(people.err_path);
  EXPECT_EQ(slurp(json.out_path).find("batch_paused"), std::string::npos);

  // An event appended after the streams began reaches both.
  const auto paused = ctl({"pause", batch_});
  ASSERT_EQ(paused.exit, 0) << describe(paused);
  EXPECT_TRUE(wait_file_has(json.out_path, "\"kind\":\"batch_paused\"")) << slurp(json.out_path);
  EXPECT_TRUE(wait_file_has(people.out_path, "batch_paused")) << slurp(people.out_path);
  // Every line of --json is one event, in seq order.
  std::istringstream lines(slurp(json.out_path));
  std::int64_t last = 0;
  std::int64_t paused_seq = 0;
  std::string paused_line;
  for (std::string line; std::getline(lines, line);) {
    const auto event = boost::json::parse(line);
    const auto seq = event.at("seq").as_int64();
    EXPECT_GT(seq, last) << line;
    last = seq;
    if (event.at("kind").as_string() == "batch_paused") {
      paused_seq = seq;
      paused_line = line;
    }
  }
  ASSERT_GT(paused_seq, 0);
  // The person's lines: "SEQ  AT  KIND  batch ID ..."
  const std::string shown = slurp(people.out_path);
  EXPECT_NE(shown.find("Z  batch_accepted  batch "), std::string::npos) << shown;
  EXPECT_EQ(shown.find('{'), std::string::npos) << "not JSON for people\n" << shown;

  // --since skips what was seen; without --follow it ends by itself.
  const auto since = ctl({"--json", "events", "--since", std::to_string(paused_seq - 1)});
  EXPECT_EQ(since.exit, 0) << describe(since);
  EXPECT_EQ(since.out.substr(0, since.out.find('\n')), paused_line) << since.out;

  // The daemon stops: the streams end at once, cleanly (exit 0, a note).
  ASSERT_TRUE(stop_daemon()) << log();
  EXPECT_EQ(wait_or_kill(json.pid, 10s), 0) << slurp(json.err_path);
  EXPECT_EQ(wait_or_kill(people.pid, 10s), 0) << slurp(people.err_path);
  EXPECT_EQ(slurp(json.err_path), "unlinkctl: unlinkd ended the event stream (it is stopping)\n");
}

// The socket's rules with real users: socket_group `users` may read,
// admin_group `staff` may change, anyone else is refused. Needs root (to
// become those users with setpriv).
class ctl_daemon_groups : public ctl_daemon {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || !fs::exists(setpriv)) {
      GTEST_SKIP() << "needs root and " << setpriv << " to run unlinkctl as other users";
    }
    users_ = group_of("users");
    staff_ = group_of("staff");
    if (users_ < 0 || staff_ < 0) {
      GTEST_SKIP() << "needs the system groups `users` and `staff` (see /etc/group)";
    }
    // uid 65534 must reach the socket's folder.
    fs::permissions(sandbox_.dir(), fs::perms::owner_all | fs::perms::group_read |
                                        fs::perms::group_exec | fs::perms::others_read |
                                        fs::perms::others_exec);
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    ctl_daemon::SetUp();
  }

  [[nodiscard]] std::string extra_config() const override {
    return "socket_group: users\nadmin_group: staff\n";
  }

  static int group_of(const std::string& name) {
    std::ifstream in("/etc/group");
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with(name + ":x:") || line.starts_with(name + "::")) {
        const auto start = line.find(':', line.find(':') + 1) + 1;
        return std::stoi(line.substr(start, line.find(':', start) - start));
      }
    }
    return -1;
  }

  // setpriv as uid/gid 65534 with these supplementary groups (none: cleared).
  [[nodiscard]] static std::vector<std::string> as_nobody(const std::string& groups) {
    std::vector<std::string> p{setpriv, "--reuid=65534", "--regid=65534"};
    p.push_back(groups.empty() ? "--clear-groups" : "--groups=" + groups);
    return p;
  }

  static constexpr const char* setpriv = "/usr/bin/setpriv";
  int users_ = -1;
  int staff_ = -1;
};

TEST_F(ctl_daemon_groups, only_the_groups_may_read_and_change) {
  ASSERT_TRUE(wait_ready()) << log();
  // Slow calls keep the batch running until the admin cancels it.
  http_client sandbox(sandbox_.port());
  ASSERT_EQ(sandbox.put("/_sandbox/faults", R"({"latency": {"fixed": "1s"}})").status, 200U);
  ASSERT_EQ(ctl({"submit", manifest_}).exit, 0) << "root may always change";
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660U);
  EXPECT_EQ(static_cast<int>(st.st_gid), users_) << "the socket belongs to socket_group";

  // Outside both groups: the socket's mode keeps the caller out (exit 4, a hint).
  const auto outsider = as_nobody("");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status"}, {"pause", batch_}}) {
    const auto r = ctl(args, 30s, outsider);
    EXPECT_EQ(r.exit, 4) << args[0] << "\n" << describe(r);
    EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("socket_group"), std::string::npos) << r.err;
  }
  // Even with the socket opened to everyone, the daemon itself says 403.
  ASSERT_EQ(::chmod(socket_.c_str(), 0666), 0);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status"}, {"pause", batch_}, {"report", batch_}}) {
    const auto r = ctl(args, 30s, outsider);
    EXPECT_EQ(r.exit, 4) << args[0] << "\n" << describe(r);
    EXPECT_NE(r.err.find("uid 65534 may not use unlinkd's socket"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("(forbidden)"), std::string::npos) << r.err;
  }
  ASSERT_EQ(::chmod(socket_.c_str(), 0660), 0);

  // socket_group: reads, but may not change.
  const auto reader = as_nobody(std::to_string(users_));
  const auto shown = ctl({"show", batch_}, 30s, reader);
  EXPECT_EQ(shown.exit, 0) << describe(shown);
  const auto refused = ctl({"pause", batch_}, 30s, reader);
  EXPECT_EQ(refused.exit, 4) << describe(refused);
  EXPECT_NE(refused.err.find("uid 65534 may read but not change"), std::string::npos)
      << refused.err;

  // admin_group (with socket_group, to reach the socket): changes, audited.
  const auto admin = as_nobody(std::to_string(staff_) + "," + std::to_string(users_));
  const auto cancelled = ctl({"cancel", batch_}, 30s, admin);
  EXPECT_EQ(cancelled.exit, 0) << describe(cancelled) << log();
  const auto events = ctl({"--json", "events"});
  ASSERT_EQ(events.exit, 0) << describe(events);
  EXPECT_NE(events.out.find("\"uid\":65534"), std::string::npos)
      << "the change is audited with the caller's uid\n"
      << events.out;
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
                              "resume", "cancel", "retry", "report", "submit", "events"}) {
    const auto r = unlinkctl(dir, {command, "--help"});
    EXPECT_EQ(r.exit, 0) << command;
    EXPECT_TRUE(
        r.out.starts_with("usage: unlinkctl [--socket PATH] [--json] " + std::string(command)))
        << r.out;
    EXPECT_NE(r.out.find("Exit status:"), std::string::npos) << command;
  }
  const auto validate = unlinkctl(dir, {"help", "validate"});
  EXPECT_TRUE(validate.out.starts_with("usage: unlinkctl validate")) << validate.out;
  const auto unknown = unlinkctl(dir, {"unlink", "b1"});
  EXPECT_EQ(unknown.exit, 1);
  EXPECT_EQ(unknown.err, "unlinkctl: unknown command 'unlink'; see unlinkctl --help\n");
  const auto none = unlinkctl(dir, {});
  EXPECT_EQ(none.exit, 1);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace unlinkd::test
