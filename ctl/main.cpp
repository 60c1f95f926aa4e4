// unlinkctl: talks to unlinkd over its control socket, and checks manifests
// offline. Only dispatches: the commands live in the unlinkd_ctl library.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include "config/manifest_parser.hpp"
#include "ctl/command_line.hpp"
#include "ctl/daemon_commands.hpp"
#include "ctl/exit_codes.hpp"
#include "ctl/socket_client.hpp"
#include "ctl/validate_command.hpp"

int main(int argc, char** argv) {
  namespace ctl = unlinkd::ctl;
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << ctl::usage_text;
    return ctl::exit_usage;
  }
  if (args[0] == "help" && args.size() <= 2) {
    const char* text = args.size() == 2 ? ctl::help_of(args[1]) : ctl::usage_text;
    if (args.size() == 2 && args[1] == "validate") {
      text = ctl::validate_help;
    }
    if (text == nullptr) {
      std::cerr << "unlinkctl: unknown command '" << args[1] << "'; see unlinkctl --help\n";
      return ctl::exit_usage;
    }
    std::cout << text;
    return ctl::exit_ok;
  }
  const auto parsed = ctl::parse_command_line(args, std::getenv("UNLINKD_SOCKET"));
  if (!parsed) {
    std::cerr << parsed.error().message << '\n';
    return ctl::exit_usage;
  }
  const ctl::command_line& c = *parsed;
  if (c.command == "validate") {
    // validate keeps its own options; a global --json given before it counts.
    std::vector<std::string> rest = c.passthrough;
    if (c.json) {
      rest.insert(rest.begin(), "--json");
    }
    if (c.help) {
      rest.insert(rest.begin(), "--help");
    }
    // It asks the daemon too when one answers (its own --offline: never).
    const ctl::socket_client daemon(c.socket, std::chrono::seconds(30));
    return ctl::run_validate(rest, std::cout, std::cerr, unlinkd::config::utc_today(), &daemon);
  }
  if (c.command.empty() || c.help) {
    const char* text = c.command.empty() ? ctl::usage_text : ctl::help_of(c.command);
    if (c.command.empty() && !c.help) {
      std::cerr << "unlinkctl: no command given\n" << ctl::usage_text;
      return ctl::exit_usage;
    }
    std::cout << text;
    return ctl::exit_ok;
  }
  const ctl::socket_client client(c.socket);
  const ctl::command_context context{client, std::cout, std::cerr, ::isatty(STDOUT_FILENO) == 1};
  return ctl::run_daemon_command(c, context);
}
