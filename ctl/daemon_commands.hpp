#pragma once
// unlinkctl's commands that talk to a running unlinkd over its control
// socket (PRODUCT.md §8): status, batches, show, accounts, history, watch,
// pause, resume, cancel, retry and submit. Each is a few requests through
// socket_client and a formatter from daemon_format / progress_meter; the
// exit code says how it went (ctl/exit_codes.hpp).
#include <chrono>
#include <functional>
#include <ostream>
#include <string>

#include "ctl/command_line.hpp"
#include "ctl/socket_client.hpp"

namespace unlinkd::ctl {

// The top-level `unlinkctl --help`.
extern const char* const usage_text;

// A command's --help text; nullptr for an unknown command.
const char* help_of(const std::string& command);

// What a command run needs from outside: the socket, the streams, whether
// standard output is a terminal (watch redraws one line there), and time
// for watch's polls.
struct command_context {
  const socket_client& client;
  std::ostream& out;
  std::ostream& err;
  bool out_is_tty = false;
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };
  std::function<void(std::chrono::milliseconds)> wait = {};  // empty: sleep
};

// Runs a parsed daemon command (not validate, not --help); returns the
// exit code.
int run_daemon_command(const command_line& c, const command_context& ctx);

}  // namespace unlinkd::ctl
