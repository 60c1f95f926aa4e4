// unlinkctl: talks to unlinkd, and checks manifests offline.
#include <iostream>
#include <string>
#include <vector>

#include "config/manifest_parser.hpp"
#include "ctl/exit_codes.hpp"
#include "ctl/validate_command.hpp"

namespace {

constexpr const char* usage = R"(usage: unlinkctl COMMAND [OPTIONS] [ARGS]

Commands:
  validate MANIFEST...   check manifests offline (see unlinkctl validate --help)

The commands that talk to a running unlinkd (status, submit, watch, ...) come
with the daemon's control socket.
)";

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    (args.empty() ? std::cerr : std::cout) << usage;
    return args.empty() ? unlinkd::ctl::exit_usage : unlinkd::ctl::exit_ok;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "validate") {
    return unlinkd::ctl::run_validate(rest, std::cout, std::cerr, unlinkd::config::utc_today());
  }
  std::cerr << "unlinkctl: unknown command '" << args[0] << "'\n" << usage;
  return unlinkd::ctl::exit_usage;
}
