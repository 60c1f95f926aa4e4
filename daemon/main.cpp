// unlinkd: parses its arguments and runs the service (daemon/service.hpp).
#include <iostream>
#include <string>
#include <vector>

#include "daemon/service.hpp"

namespace {

constexpr const char* usage = R"(usage: unlinkd [--config PATH] [--log-level LEVEL]
       unlinkd --check-db [--config PATH]

Takes TikTok for Business accounts through the offboarding of PRODUCT.md:
preflight, a verified backup, the unlink and its verification, for every
manifest dropped into the inbox. Meant to run under systemd
(systemd/unlinkd.service); see docs/RUNBOOK.md.

Options:
  --config PATH       the daemon config (default /etc/unlinkd/unlinkd.yaml;
                      every key is optional, see docs/CONFIG.md)
  --log-level LEVEL   trace, debug, info, warn, error, critical or off; over
                      the config's log_level
  --check-db          run PRAGMA integrity_check on the database under
                      state_dir, print the result and exit (0 when ok)
  -h, --help          show this text

Signals: SIGTERM stops taking work and lets steps in flight finish within
drain_timeout; SIGHUP reloads the config and the credentials file.
)";

std::optional<unlinkd::config::log_level> level_of(const std::string& s) {
  using unlinkd::config::log_level;
  for (const auto l : {log_level::trace, log_level::debug, log_level::info, log_level::warn,
                       log_level::error, log_level::critical, log_level::off}) {
    if (unlinkd::config::to_string(l) == s) {
      return l;
    }
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  unlinkd::daemon::service_options options;
  bool check_db = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << usage;
      return 0;
    }
    if (a == "--check-db") {
      check_db = true;
    } else if ((a == "--config" || a == "--log-level") && i + 1 < args.size()) {
      const std::string& v = args[++i];
      if (a == "--config") {
        options.config_path = v;
      } else if (const auto l = level_of(v)) {
        options.log_level = l;
      } else {
        std::cerr << "unlinkd: --log-level wants trace, debug, info, warn, error, critical or "
                     "off, not '"
                  << v << "'\n";
        return 1;
      }
    } else {
      std::cerr << "unlinkd: unknown or incomplete option '" << a << "'\n" << usage;
      return 1;
    }
  }
  return check_db ? unlinkd::daemon::check_database(options)
                  : unlinkd::daemon::run_service(options);
}
