#pragma once
// unlinkctl's command line for the daemon commands: global options
// (--socket, --json, anywhere before the operands) and each command's own
// options, parsed into a value with no I/O so it is unit-tested directly.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace unlinkd::ctl {

inline constexpr const char* default_socket = "/run/unlinkd/unlinkd.sock";

struct usage_error {
  std::string message;
};

[[noreturn]] void throw_exception_from_error(const usage_error& e,
                                             const boost::source_location& where);

struct command_line {
  std::string socket = default_socket;
  bool json = false;
  bool help = false;    // COMMAND --help: print the command's help
  std::string command;  // "status", "batches", ..., "validate"
  std::vector<std::string> operands;
  // validate's own arguments, passed through untouched (but --socket, which
  // validate uses to ask a running daemon, is taken here).
  std::vector<std::string> passthrough;
  std::optional<std::string> state;          // accounts --state
  std::size_t limit = 100;                   // accounts --limit
  std::chrono::milliseconds interval{2000};  // watch --interval
  bool dry_run = false;                      // submit --dry-run
  std::string format = "json";               // report --format: json or csv
  std::optional<std::string> output;         // report -o FILE ("-": standard output)
  std::int64_t since = 0;                    // events --since SEQ
  bool follow = false;                       // events --follow
};

// `args` are argv[1..]; `env_socket` is $UNLINKD_SOCKET (nullptr when unset),
// which --socket overrides.
boost::system::result<command_line, usage_error> parse_command_line(
    std::span<const std::string> args, const char* env_socket);

// The known daemon commands, in the order the usage lists them.
const std::vector<std::string>& daemon_command_names();

}  // namespace unlinkd::ctl
