// unlinkd as a real process in a temp folder, against the sandbox process:
// sd_notify messages read from a datagram socket given as NOTIFY_SOCKET (with
// WATCHDOG_USEC), a manifest dropped into the inbox taken to the end, SIGHUP
// with a good and a bad config, SIGTERM's drain and exit status.
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
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

class daemon_process : public ::testing::Test {
 protected:
  daemon_process() {
    dir_ = sandbox_.dir() + "/daemon";
    fs::create_directories(dir_);
    write_config("");
    notify_fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = dir_ + "/notify.sock";
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::bind(notify_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("cannot bind the notify socket " + path);
    }
    // Read all the time, as systemd does: a full socket would block the
    // daemon's sd_notify.
    reader_ = std::thread([this] {
      while (!done_) {
        pollfd p{notify_fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) != 1) {
          continue;
        }
        char buffer[4096];
        const auto n = ::recv(notify_fd_, buffer, sizeof buffer, 0);
        if (n <= 0) {
          continue;
        }
        std::istringstream lines(std::string(buffer, static_cast<std::size_t>(n)));
        const std::lock_guard lock(mutex_);
        for (std::string line; std::getline(lines, line);) {
          messages_.push_back(line);
        }
      }
    });
  }

  ~daemon_process() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    done_ = true;
    reader_.join();
    ::close(notify_fd_);
  }

 public:
  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;

 protected:
  void write_config(const std::string& extra) {
    std::ofstream(dir_ + "/unlinkd.yaml")
        << "state_dir: " << dir_ << "/state\n"
        << "inbox_dir: " << dir_ << "/state/inbox\n"
        << "credentials_file: " << sandbox_.dir() << "/credentials.yaml\n"
        << "socket: " << dir_ << "/unlinkd.sock\n"
        << "drain_timeout: 5s\n"
        << extra;
  }

  void start() {
    ::setenv("NOTIFY_SOCKET", (dir_ + "/notify.sock").c_str(), 1);
    ::setenv("WATCHDOG_USEC", "1000000", 1);
    const int err =
        ::open((dir_ + "/stderr.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_ =
        spawn({UNLINKD_BIN, "--config", dir_ + "/unlinkd.yaml", "--log-level", "debug"}, err, err);
    ::close(err);
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
  }

  // Waits until a notify message starting with `prefix` came, or the deadline.
  bool wait_message(const std::string& prefix, std::chrono::seconds deadline = 20s) {
    const auto end = steady::now() + deadline;
    while (steady::now() < end) {
      {
        const std::lock_guard lock(mutex_);
        for (const auto& m : messages_) {
          if (m.starts_with(prefix)) {
            return true;
          }
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  void forget_messages() {
    const std::lock_guard lock(mutex_);
    messages_.clear();
  }

  bool wait_log(const std::string& text, std::chrono::seconds deadline = 30s) {
    const auto end = steady::now() + deadline;
    while (steady::now() < end) {
      if (log().find(text) != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  std::string log() const { return slurp(dir_ + "/stderr.log"); }

  // The exit status, or -1 when it did not exit by the deadline.
  int wait_exit(std::chrono::seconds deadline) {
    const auto end = steady::now() + deadline;
    while (steady::now() < end) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

  void drop_manifest() {
    fs::copy_file(sandbox_.dir() + "/batch.yaml", dir_ + "/batch.yaml.staging");
    fs::rename(dir_ + "/batch.yaml.staging", dir_ + "/state/inbox/batch.yaml");
  }

  sandbox_process sandbox_{{"--accounts", "6", "--seed", "5", "--credentials-out",
                            "{dir}/credentials.yaml", "--manifest-out", "{dir}/batch.yaml",
                            "--no-limits"}};
  std::string dir_;
  int notify_fd_ = -1;
  pid_t pid_ = -1;
  std::mutex mutex_;
  std::vector<std::string> messages_;
  std::atomic<bool> done_ = false;
  std::thread reader_;
};

TEST_F(daemon_process, a_dropped_manifest_runs_to_the_end_and_systemd_hears_about_it) {
  start();
  ASSERT_TRUE(wait_message("READY=1")) << log();
  ASSERT_TRUE(wait_message("STATUS=")) << log();
  ASSERT_TRUE(wait_message("WATCHDOG=1")) << "no watchdog ping with WATCHDOG_USEC set";
  drop_manifest();
  ASSERT_TRUE(wait_log("accepted as batch")) << log();
  EXPECT_TRUE(fs::exists(dir_ + "/state/manifests/accepted/batch.yaml"));
  ASSERT_TRUE(wait_log(": completed:", 120s)) << log();
  ASSERT_TRUE(wait_log("report written")) << log();
  const auto report = boost::json::parse(slurp(dir_ + "/state/reports/sandbox-5.json"));
  EXPECT_EQ(report.at("state").as_string(), "completed");
  EXPECT_EQ(report.at("accounts").as_array().size(), 6U);
  for (const auto& a : report.at("accounts").as_array()) {
    EXPECT_EQ(a.at("state").as_string(), "done") << a;
    EXPECT_FALSE(a.at("backup_digest").as_string().empty()) << a;
  }
  EXPECT_NE(slurp(dir_ + "/state/reports/sandbox-5.csv").find("batch,id,label"), std::string::npos);
  http_client client(sandbox_.port());
  const auto stats = client.get("/_sandbox/stats").json();
  EXPECT_EQ(stats.at("advertiser_disable_calls").as_int64(), 0);
  // Nothing unlinked twice: a second unlink of a gone relationship is
  // answered 40002 by the sandbox, and none was.
  std::int64_t unlinks = 0;
  for (const auto* path : {"/bc/partner/asset/delete/", "/bc/asset/unassign/",
                           "/bc/asset/admin/delete/", "/bc/asset/advertiser/unassign/"}) {
    const auto* codes =
        stats.at("calls").as_object().if_contains(std::string("/open_api/v1.3") + path);
    if (codes != nullptr) {
      EXPECT_EQ(codes->as_object().if_contains("40002"), nullptr) << path;
      unlinks += codes->as_object().contains("0") ? codes->at("0").as_int64() : 0;
    }
  }
  EXPECT_GE(unlinks, 6) << "every account was unlinked (member_access: once per member)";
  // No token in the log.
  const std::string credentials = slurp(sandbox_.dir() + "/credentials.yaml");
  for (const auto* token : {"sbx-admin-5", "sbx-standard-5"}) {
    ASSERT_NE(credentials.find(token), std::string::npos);
    EXPECT_EQ(log().find(token), std::string::npos) << "a token in the log";
  }
  ::kill(pid_, SIGTERM);
  EXPECT_TRUE(wait_message("STOPPING=1"));
  EXPECT_EQ(wait_exit(20s), 0) << log();
}

TEST_F(daemon_process, sighup_reloads_a_good_config_and_keeps_the_old_one_when_bad) {
  start();
  ASSERT_TRUE(wait_message("READY=1")) << log();
  write_config("log_level: warn\n");
  forget_messages();
  ::kill(pid_, SIGHUP);
  ASSERT_TRUE(wait_message("RELOADING=1")) << log();
  ASSERT_TRUE(wait_message("READY=1")) << log();
  write_config("concurrency: many\n");
  forget_messages();
  ::kill(pid_, SIGHUP);
  ASSERT_TRUE(wait_message("RELOADING=1"));
  ASSERT_TRUE(wait_message("READY=1"));
  ASSERT_TRUE(wait_log("the running config stays")) << log();
  EXPECT_NE(log().find("concurrency"), std::string::npos) << "the problem is named";
  ::kill(pid_, SIGTERM);
  EXPECT_EQ(wait_exit(20s), 0) << log();
}

// A raw HTTP GET over a Unix socket, with a deadline; the whole answer.
std::string get_over_unix_socket(const std::string& path, const std::string& target) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  const std::string request =
      "GET " + target + " HTTP/1.1\r\nHost: unlinkd\r\nConnection: close\r\n\r\n";
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return {};
  }
  std::string answer;
  const auto end = steady::now() + 30s;
  while (steady::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) != 1) {
      continue;
    }
    char buffer[4096];
    const auto n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) {
      break;
    }
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

// Socket activation as systemd does it (unlinkd.socket): the daemon is started
// by the first connection and serves it on the socket it was passed, not on
// the config's path.
TEST_F(daemon_process, socket_activation_serves_on_the_socket_systemd_passes) {
  if (::access("/usr/bin/systemd-socket-activate", X_OK) != 0) {
    GTEST_SKIP() << "systemd-socket-activate is not installed";
  }
  const std::string activated = dir_ + "/activated.sock";
  const int err =
      ::open((dir_ + "/stderr.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  pid_ = spawn({"/usr/bin/systemd-socket-activate", "-l", activated, UNLINKD_BIN, "--config",
                dir_ + "/unlinkd.yaml"},
               err, err);
  ::close(err);
  for (int i = 0; i < 200 && !fs::exists(activated); ++i) {
    std::this_thread::sleep_for(20ms);  // the activator binds first
  }
  ASSERT_TRUE(fs::exists(activated));
  const auto answer = get_over_unix_socket(activated, "/v1/health");
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer << log();
  EXPECT_NE(answer.find("\"status\":\"ok\""), std::string::npos) << answer;
  EXPECT_FALSE(fs::exists(dir_ + "/unlinkd.sock")) << "it bound the config's path instead";
  EXPECT_TRUE(wait_log("control socket from systemd")) << log();
  ::kill(pid_, SIGTERM);
  EXPECT_EQ(wait_exit(20s), 0) << log();
}

// One connection to the control socket with a request sent, read as it comes.
class raw_connection {
 public:
  raw_connection(const std::string& path, const std::string& target) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("cannot connect to " + path);
    }
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: unlinkd\r\n\r\n";
    if (::write(fd_, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      throw std::runtime_error("cannot send the request");
    }
  }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;
  raw_connection(raw_connection&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)), got_(std::move(other.got_)), closed_(other.closed_) {}
  raw_connection& operator=(raw_connection&&) = delete;
  ~raw_connection() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }

  // Reads until `text` has come (true) or the peer closed or the deadline passed.
  bool read_until(const std::string& text, std::chrono::seconds deadline = 10s) {
    const auto end = steady::now() + deadline;
    while (got_.find(text) == std::string::npos && !closed_ && steady::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) {
        continue;
      }
      char buffer[4096];
      const auto n = ::read(fd_, buffer, sizeof buffer);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      got_.append(buffer, static_cast<std::size_t>(n));
    }
    return got_.find(text) != std::string::npos;
  }
  // Reads until the peer closes; true when it did by the deadline.
  bool read_to_end(std::chrono::seconds deadline = 10s) {
    read_until(std::string(1, '\0'), deadline);  // never sent: reads to the end
    return closed_;
  }
  [[nodiscard]] const std::string& got() const { return got_; }

 private:
  int fd_ = -1;
  std::string got_;
  bool closed_ = false;
};

// The event stream at the socket: chunked NDJSON that stays open, a cap on
// open streams (a closed stream frees its place), and every stream ended
// with its last chunk when the daemon stops.
TEST_F(daemon_process, event_streams_are_capped_and_end_when_the_daemon_stops) {
  start();
  ASSERT_TRUE(wait_message("READY=1")) << log();
  const std::string socket = dir_ + "/unlinkd.sock";
  drop_manifest();
  ASSERT_TRUE(wait_log("accepted as batch")) << log();

  std::vector<raw_connection> streams;
  for (int i = 0; i < 64; ++i) {
    streams.emplace_back(socket, "/v1/events?since=0");
    ASSERT_TRUE(streams.back().read_until("\"kind\":\"batch_accepted\"")) << i << "\n"
                                                                          << streams.back().got();
  }
  const auto& first = streams.front().got();
  EXPECT_EQ(first.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << first;
  EXPECT_NE(first.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << first;
  EXPECT_NE(first.find("Content-Type: application/x-ndjson\r\n"), std::string::npos) << first;

  raw_connection refused(socket, "/v1/events?since=0");
  ASSERT_TRUE(refused.read_to_end()) << refused.got();
  EXPECT_EQ(refused.got().rfind("HTTP/1.1 503 ", 0), 0U) << refused.got();
  EXPECT_NE(refused.got().find("\"error\":\"too_many_streams\""), std::string::npos)
      << refused.got();
  // Other requests are still served.
  EXPECT_NE(get_over_unix_socket(socket, "/v1/health").find("200 OK"), std::string::npos);
  const auto page = get_over_unix_socket(socket, "/v1/events?since=0&follow=false&limit=1");
  EXPECT_NE(page.find("Content-Length: "), std::string::npos) << "follow=false is one answer\n"
                                                              << page;

  // A client that leaves frees its place (the server notices within a poll).
  streams.pop_back();
  const auto end = steady::now() + 10s;
  bool served = false;
  while (!served && steady::now() < end) {
    raw_connection again(socket, "/v1/events?since=0");
    served = again.read_until("batch_accepted", 5s);
    if (served) {
      streams.push_back(std::move(again));
    } else {
      std::this_thread::sleep_for(50ms);
    }
  }
  ASSERT_TRUE(served) << "a closed stream kept its place";

  const auto stopping = steady::now();
  ::kill(pid_, SIGTERM);
  for (auto& s : streams) {
    EXPECT_TRUE(s.read_to_end()) << s.got();
    EXPECT_TRUE(s.got().ends_with("\r\n0\r\n\r\n")) << "the last chunk was sent\n" << s.got();
  }
  EXPECT_EQ(wait_exit(20s), 0) << log();
  EXPECT_LT(steady::now() - stopping, 5s) << "open streams held up the stop";
}

TEST_F(daemon_process, a_bad_config_stops_the_start_with_its_position) {
  write_config("concurrency: many\n");
  start();
  EXPECT_EQ(wait_exit(10s), 1);
  EXPECT_NE(log().find("unlinkd.yaml:6:"), std::string::npos) << log();
}

}  // namespace
}  // namespace unlinkd::test
