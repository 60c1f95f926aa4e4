#include "ctl/command_line.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <stdexcept>

namespace unlinkd::ctl {

void throw_exception_from_error(const usage_error& e, const boost::source_location& /*where*/) {
  throw std::invalid_argument(e.message);
}

namespace {

// How many operands each command takes.
const std::map<std::string, std::size_t>& operand_counts() {
  static const std::map<std::string, std::size_t> counts{
      {"status", 0}, {"batches", 0}, {"show", 1},   {"accounts", 1}, {"history", 2},
      {"watch", 1},  {"pause", 1},   {"resume", 1}, {"cancel", 1},   {"retry", 1},
      {"report", 1}, {"submit", 1},  {"events", 0}};
  return counts;
}

const std::map<std::string, std::string>& operand_names() {
  static const std::map<std::string, std::string> names{
      {"show", "BATCH"},   {"accounts", "BATCH"}, {"history", "BATCH ACCOUNT"}, {"watch", "BATCH"},
      {"pause", "BATCH"},  {"resume", "BATCH"},   {"cancel", "BATCH"},          {"retry", "BATCH"},
      {"report", "BATCH"}, {"submit", "FILE"}};
  return names;
}

std::optional<std::size_t> whole_number(const std::string& text) {
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return n;
}

std::optional<std::chrono::milliseconds> seconds_value(const std::string& text) {
  double s = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), s);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !(s >= 0.1) ||
      s > 3600) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000));
}

usage_error fail(const std::string& command, const std::string& what) {
  const std::string who = command.empty() ? "unlinkctl" : "unlinkctl " + command;
  const std::string see = command.empty() ? "unlinkctl --help" : "unlinkctl " + command + " --help";
  return usage_error{who + ": " + what + "; see " + see};
}

}  // namespace

const std::vector<std::string>& daemon_command_names() {
  static const std::vector<std::string> names{"status", "batches", "show",   "accounts", "history",
                                              "watch",  "pause",   "resume", "cancel",   "retry",
                                              "report", "submit",  "events"};
  return names;
}

boost::system::result<command_line, usage_error> parse_command_line(
    std::span<const std::string> args, const char* env_socket) {
  command_line c;
  if (env_socket != nullptr && *env_socket != '\0') {
    c.socket = env_socket;
  }
  bool only_operands = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (c.command == "validate") {
      if (a == "--socket" && !only_operands && i + 1 < args.size() && !args[i + 1].empty()) {
        c.socket = args[++i];  // validate asks the daemon on this socket
        continue;
      }
      only_operands = only_operands || a == "--";
      c.passthrough.push_back(a);  // validate parses its own options
      continue;
    }
    const auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) {
        return std::nullopt;
      }
      return args[++i];
    };
    if (only_operands || a == "-" || !a.starts_with("-")) {
      if (c.command.empty()) {
        c.command = a;
        if (a != "validate" && !operand_counts().contains(a)) {
          return usage_error{"unlinkctl: unknown command '" + a + "'; see unlinkctl --help"};
        }
      } else {
        c.operands.push_back(a);
      }
      continue;
    }
    if (a == "--") {
      only_operands = true;
    } else if (a == "--json") {
      c.json = true;
    } else if (a == "-h" || a == "--help") {
      c.help = true;
    } else if (a == "--socket") {
      const auto v = value();
      if (!v || v->empty()) {
        return fail(c.command, "--socket needs a PATH");
      }
      c.socket = *v;
    } else if (a == "--state" && c.command == "accounts") {
      const auto v = value();
      if (!v || v->empty() ||
          v->find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) {
        return fail(c.command, "--state needs a state name such as failed or needs_attention");
      }
      c.state = *v;
    } else if (a == "--limit" && c.command == "accounts") {
      const auto v = value();
      const auto n = v ? whole_number(*v) : std::nullopt;
      if (!n || *n == 0) {
        return fail(c.command, "--limit needs a whole number above 0");
      }
      c.limit = *n;
    } else if (a == "--interval" && c.command == "watch") {
      const auto v = value();
      const auto s = v ? seconds_value(*v) : std::nullopt;
      if (!s) {
        return fail(c.command, "--interval needs seconds between 0.1 and 3600");
      }
      c.interval = *s;
    } else if (a == "--dry-run" && c.command == "submit") {
      c.dry_run = true;
    } else if (a == "--format" && c.command == "report") {
      const auto v = value();
      if (!v || (*v != "json" && *v != "csv")) {
        return fail(c.command, "--format needs csv or json");
      }
      c.format = *v;
    } else if ((a == "-o" || a == "--output") && c.command == "report") {
      const auto v = value();
      if (!v || v->empty()) {
        return fail(c.command, a + " needs a FILE");
      }
      c.output = *v;
    } else if (a == "--since" && c.command == "events") {
      const auto v = value();
      const auto n = v ? whole_number(*v) : std::nullopt;
      if (!n || *n > static_cast<std::size_t>(INT64_MAX)) {
        return fail(c.command, "--since needs an event sequence number (0 for all)");
      }
      c.since = static_cast<std::int64_t>(*n);
    } else if (a == "--follow" && c.command == "events") {
      c.follow = true;
    } else {
      return fail(c.command, "unknown option '" + a + "'");
    }
  }
  if (c.command.empty() || c.help || c.command == "validate") {
    return c;  // usage, help or validate: nothing more to check here
  }
  const std::size_t wanted = operand_counts().at(c.command);
  if (c.operands.size() != wanted) {
    const auto names = operand_names().find(c.command);
    return fail(c.command, wanted == 0
                               ? "takes no operands"
                               : "needs exactly " + std::string(names->second) +
                                     (c.operands.size() < wanted ? "" : ", and nothing more"));
  }
  for (const auto& operand : c.operands) {
    if (operand.empty() ||
        (c.command != "submit" && operand.find_first_of("/?&#% ") != std::string::npos)) {
      return fail(c.command, "'" + operand + "' is not a batch or account name");
    }
  }
  return c;
}

}  // namespace unlinkd::ctl
