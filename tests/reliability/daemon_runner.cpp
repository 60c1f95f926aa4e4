#include "tests/reliability/daemon_runner.hpp"

#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/reliability/unix_http.hpp"
#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::reliability {

namespace {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

}  // namespace

daemon_runner::daemon_runner(std::string dir, const std::string& credentials_file,
                             const std::string& extra)
    : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  std::ofstream(config_path()) << "state_dir: " << state_dir() << "\n"
                               << "inbox_dir: " << state_dir() << "/inbox\n"
                               << "credentials_file: " << credentials_file << "\n"
                               << "socket: " << socket_path() << "\n"
                               << "log_level: info\n"
                               << extra;
}

daemon_runner::~daemon_runner() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool daemon_runner::start(std::chrono::seconds deadline) {
  const int log = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  pid_ = unlinkd::test::spawn({UNLINKD_BIN, "--config", config_path()}, log, log);
  ::close(log);
  ++starts_;
  const auto end = steady::now() + deadline;
  while (steady::now() < end) {
    if (!running()) {
      return false;
    }
    if (const auto r = unix_get(socket_path(), "/v1/health", 2s); r && r->status == 200) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  kill_hard();
  return false;
}

void daemon_runner::kill_hard() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

int daemon_runner::stop(std::chrono::seconds deadline) {
  if (pid_ <= 0) {
    return -1;
  }
  ::kill(pid_, SIGTERM);
  const auto end = steady::now() + deadline;
  while (steady::now() < end) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(20ms);
  }
  kill_hard();
  return -1;
}

bool daemon_runner::running() {
  if (pid_ <= 0) {
    return false;
  }
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int daemon_runner::check_db(std::string& output) const {
  const std::string out_file = dir_ + "/check-db.out";
  const int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const pid_t pid =
      unlinkd::test::spawn({UNLINKD_BIN, "--check-db", "--config", config_path()}, out, out);
  ::close(out);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::ifstream in(out_file);
  std::ostringstream text;
  text << in.rdbuf();
  output = text.str();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string daemon_runner::log_tail(std::size_t lines) const {
  std::ifstream in(log_path());
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (last.size() > lines) {
      last.pop_front();
    }
  }
  std::string out;
  for (const auto& l : last) {
    out += l + "\n";
  }
  return out;
}

}  // namespace unlinkd::reliability
