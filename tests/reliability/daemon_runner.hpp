#pragma once
// unlinkd as a real process that a scenario starts, SIGKILLs and restarts on
// the same state folder and config. Its standard error goes to one log file
// appended across restarts.

#include <chrono>
#include <string>

#include <sys/types.h>

namespace unlinkd::reliability {

class daemon_runner {
 public:
  // Writes `dir`/unlinkd.yaml: state under `dir`/state, the given
  // credentials file, and `extra` YAML lines appended.
  daemon_runner(std::string dir, const std::string& credentials_file, const std::string& extra);
  daemon_runner(const daemon_runner&) = delete;
  daemon_runner& operator=(const daemon_runner&) = delete;
  ~daemon_runner();

  // Starts the process and waits until GET /v1/health answers 200; false
  // (with the process killed) when it does not within `deadline`.
  bool start(std::chrono::seconds deadline = std::chrono::seconds(30));
  // SIGKILL, then reaps it. The socket file stays, as after a real crash.
  void kill_hard();
  // SIGTERM; the exit status, or -1 when it did not exit by the deadline.
  int stop(std::chrono::seconds deadline = std::chrono::seconds(30));
  // Whether the process is still running (reaps it when it is not).
  bool running();

  // `unlinkd --check-db` on the state folder: its exit status and output.
  int check_db(std::string& output) const;

  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] std::string state_dir() const { return dir_ + "/state"; }
  [[nodiscard]] std::string socket_path() const { return dir_ + "/unlinkd.sock"; }
  [[nodiscard]] std::string config_path() const { return dir_ + "/unlinkd.yaml"; }
  [[nodiscard]] std::string log_path() const { return dir_ + "/unlinkd.log"; }
  // The last `lines` lines of the log, for failure messages.
  [[nodiscard]] std::string log_tail(std::size_t lines = 30) const;
  [[nodiscard]] int starts() const { return starts_; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int starts_ = 0;
};

}  // namespace unlinkd::reliability
