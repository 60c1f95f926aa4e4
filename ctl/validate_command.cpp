#include "ctl/validate_command.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include <boost/json.hpp>
#include <unistd.h>

#include "config/credentials.hpp"
#include "config/daemon_config.hpp"
#include "config/file_reader.hpp"
#include "config/manifest_identity.hpp"
#include "config/manifest_parser.hpp"
#include "ctl/exit_codes.hpp"
#include "ctl/socket_client.hpp"

namespace unlinkd::ctl {

const char* const validate_help =
    R"(usage: unlinkctl validate [--json] [--offline] [--credentials FILE] [--config FILE]
                          [--socket PATH] MANIFEST...

Checks manifests and says exactly what is wrong. The checks run here,
without a daemon; when unlinkd answers on its socket, each readable file
is also sent to it (POST /v1/validate), which checks it with its own limits
and its credentials' profile names, and its problems are printed in the
same form. When the daemon does not answer, one line on standard error
says so ("daemon not reachable; profile names not checked") and the offline
verdict stands.

For each valid manifest a short summary is printed: the batch, its action,
its accounts by type and unlink mode, and the manifest's SHA-256 (its
identity: the same bytes submitted twice are recognised). Problems go to
standard error, one per line, as

    FILE:LINE:COL: error: KEY PATH: WHAT IS WRONG AND WHAT TO WRITE

with 1-based lines and columns, up to 100 per file.

Options:
  --json              print one JSON document on standard output instead:
                      {"files": [{"file", "valid", "sha256", "batch", "action",
                      "dry_run", "accounts": {"total", "by_type", "by_mode"},
                      "problems": [{"line", "column", "message"}],
                      "problems_not_shown"}], "notes": [...]}
  --credentials FILE  also check that the manifest's credentials: profile
                      exists in this credentials file (skipped, with a note,
                      when the file is not readable by you)
  --config FILE       take max_manifest_bytes and max_accounts_per_manifest
                      from this daemon config instead of the defaults
                      (16MiB, 100000)
  --offline           never ask the daemon
  --socket PATH       the daemon's socket; default $UNLINKD_SOCKET, else
                      /run/unlinkd/unlinkd.sock
  -h, --help          show this text

Exit status:
  0  every manifest is valid
  1  usage error, or a file, the config or the credentials could not be used
  2  at least one manifest is invalid (and every file could be read)
)";

namespace {

struct options {
  bool json = false;
  bool offline = false;
  std::optional<std::string> credentials;
  std::optional<std::string> config;
  std::vector<std::string> files;
};

struct file_report {
  std::string file;
  std::optional<config::manifest> manifest;
  std::string sha256;
  std::vector<config::diagnostic> problems;
  std::size_t problems_not_shown = 0;
  bool unreadable = false;
  std::string bytes;  // the file, to send to the daemon
};

std::optional<options> parse_options(std::span<const std::string> args, std::ostream& err) {
  options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&](const char* name) -> std::optional<std::string> {
      if (i + 1 >= args.size()) {
        err << "unlinkctl validate: " << name << " needs a FILE\n";
        return std::nullopt;
      }
      return args[++i];
    };
    if (a == "--json") {
      o.json = true;
    } else if (a == "--offline") {
      o.offline = true;
    } else if (a == "--credentials") {
      o.credentials = value("--credentials");
      if (!o.credentials) {
        return std::nullopt;
      }
    } else if (a == "--config") {
      o.config = value("--config");
      if (!o.config) {
        return std::nullopt;
      }
    } else if (a == "--") {
      o.files.insert(o.files.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    } else if (a.starts_with("-") && a != "-") {
      err << "unlinkctl validate: unknown option '" << a << "'; see unlinkctl validate --help\n";
      return std::nullopt;
    } else {
      o.files.push_back(a);
    }
  }
  if (o.files.empty()) {
    err << "unlinkctl validate: no manifest given; see unlinkctl validate --help\n";
    return std::nullopt;
  }
  return o;
}

file_report validate_file(const std::string& path, const config::manifest_options& rules,
                          std::chrono::year_month_day today) {
  file_report report;
  report.file = path;
  auto file = config::read_regular_file(path, rules.max_bytes);
  if (!file.value) {
    config::diagnostic d{path, 0, 0, file.error};
    if (file.too_large) {
      d.message += " (max_manifest_bytes); split the accounts over several manifests";
    } else {
      report.unreadable = true;
    }
    report.problems.push_back(std::move(d));
    return report;
  }
  report.sha256 = config::sha256_hex(file.value->bytes);
  auto result = config::parse_manifest(file.value->bytes, path, rules, today);
  report.problems = result.problems.items();
  report.problems_not_shown = result.problems.dropped();
  report.manifest = std::move(result.value);
  report.bytes = std::move(file.value->bytes);
  return report;
}

// What the daemon said about one file.
enum class daemon_verdict : std::uint8_t { valid, invalid, no_answer };

// Asks the daemon about a readable file. On a 422 the report takes the
// daemon's problems (positioned in the file as given here); when the daemon
// cannot be asked, `why` says why.
daemon_verdict ask_daemon(const socket_client& daemon, file_report& report, std::string& why) {
  const auto answer =
      daemon.send(socket_request{"POST", "/v1/validate", report.bytes, "application/yaml",
                                 std::filesystem::path(report.file).filename().string()});
  if (!answer) {
    why = answer.error().what == socket_failure::kind::unreachable
              ? "daemon not reachable"
              : "the daemon could not be asked (" + answer.error().message + ")";
    return daemon_verdict::no_answer;
  }
  if (answer->status == 200) {
    return daemon_verdict::valid;
  }
  boost::system::error_code ec;
  const auto body = boost::json::parse(answer->body, ec);
  const auto* o = ec ? nullptr : body.if_object();
  const auto* problems = o == nullptr ? nullptr : o->if_contains("problems");
  if (answer->status != 422 || problems == nullptr || !problems->is_array()) {
    const auto* message = o == nullptr ? nullptr : o->if_contains("message");
    why = "the daemon answered HTTP " + std::to_string(answer->status) +
          (message != nullptr && message->is_string() ? ": " + std::string(message->get_string())
                                                      : std::string());
    return daemon_verdict::no_answer;
  }
  const auto number = [](const boost::json::object& p, const char* key) -> std::uint32_t {
    const auto* v = p.if_contains(key);
    return v != nullptr && v->is_int64() && v->get_int64() > 0 &&
                   v->get_int64() <= std::int64_t{UINT32_MAX}
               ? static_cast<std::uint32_t>(v->get_int64())
               : 0;
  };
  report.problems.clear();
  for (const auto& p : problems->get_array()) {
    const auto* po = p.if_object();
    if (po == nullptr) {
      continue;
    }
    const auto* message = po->if_contains("message");
    report.problems.push_back(config::diagnostic{
        report.file, number(*po, "line"), number(*po, "column"),
        message != nullptr && message->is_string() ? std::string(message->get_string())
                                                   : std::string("invalid")});
  }
  report.problems_not_shown = number(*o, "problems_not_shown");
  report.manifest.reset();
  return daemon_verdict::invalid;
}

// Counts by name, in a stable order for output.
using tally = std::map<std::string, std::size_t>;

struct account_counts {
  tally by_type;
  tally by_mode;
  std::map<std::string, tally> modes_of_type;
};

account_counts count_accounts(const config::manifest& m) {
  account_counts c;
  for (const auto& a : m.accounts) {
    const std::string type(config::to_string(a.type));
    const std::string mode = a.mode ? std::string(config::to_string(*a.mode)) : "none";
    ++c.by_type[type];
    ++c.by_mode[mode];
    ++c.modes_of_type[type][mode];
  }
  return c;
}

void print_summary(const file_report& r, std::ostream& out) {
  const auto& m = *r.manifest;
  const auto counts = count_accounts(m);
  out << r.file << ": ok: batch " << m.batch << ", action " << config::to_string(m.action)
      << (m.dry_run ? " (dry run)" : "") << ", " << m.accounts.size()
      << (m.accounts.size() == 1 ? " account" : " accounts") << ", credentials " << m.credentials
      << '\n';
  for (const auto& [type, n] : counts.by_type) {
    out << "  " << type << ": " << n << " (";
    bool first = true;
    for (const auto& [mode, k] : counts.modes_of_type.at(type)) {
      out << (first ? "" : ", ") << mode << " " << k;
      first = false;
    }
    out << ")\n";
  }
  out << "  sha256 " << r.sha256 << '\n';
}

boost::json::object to_json(const tally& t) {
  boost::json::object o;
  for (const auto& [name, n] : t) {
    o[name] = n;
  }
  return o;
}

boost::json::object to_json(const file_report& r) {
  boost::json::object o;
  o["file"] = r.file;
  o["valid"] = r.manifest.has_value();
  o["sha256"] = r.sha256.empty() ? boost::json::value(nullptr) : boost::json::value(r.sha256);
  if (r.manifest) {
    const auto& m = *r.manifest;
    const auto counts = count_accounts(m);
    o["batch"] = m.batch;
    o["action"] = config::to_string(m.action);
    o["dry_run"] = m.dry_run;
    o["credentials"] = m.credentials;
    o["accounts"] = {{"total", m.accounts.size()},
                     {"by_type", to_json(counts.by_type)},
                     {"by_mode", to_json(counts.by_mode)}};
  }
  boost::json::array problems;
  for (const auto& d : r.problems) {
    boost::json::object p;
    p["line"] = d.line == 0 ? boost::json::value(nullptr) : boost::json::value(d.line);
    p["column"] = d.line == 0 ? boost::json::value(nullptr) : boost::json::value(d.column);
    p["message"] = d.message;
    problems.push_back(std::move(p));
  }
  o["problems"] = std::move(problems);
  o["problems_not_shown"] = r.problems_not_shown;
  return o;
}

}  // namespace

int run_validate(std::span<const std::string> args, std::ostream& out, std::ostream& err,
                 std::chrono::year_month_day today, const socket_client* daemon) {
  for (const auto& a : args) {
    if (a == "-h" || a == "--help") {
      out << validate_help;
      return exit_ok;
    }
  }
  const auto opts = parse_options(args, err);
  if (!opts) {
    return exit_usage;
  }
  int status = exit_ok;
  std::vector<std::string> notes;
  config::manifest_options rules;
  if (opts->config) {
    auto cfg = config::load_daemon_config(*opts->config);
    if (!cfg.problems.empty()) {
      err << cfg.problems.to_text();
      return exit_usage;
    }
    rules.max_bytes = cfg.value.max_manifest_bytes;
    rules.max_accounts = cfg.value.max_accounts_per_manifest;
  }
  if (opts->credentials) {
    if (::access(opts->credentials->c_str(), R_OK) != 0) {
      notes.push_back("cannot read " + *opts->credentials +
                      ", so credential profile names were not checked");
    } else {
      // unlinkctl only reads the file; the daemon also insists it owns it.
      auto creds = config::load_credentials(*opts->credentials, {});
      if (creds.problems.empty()) {
        rules.known_profiles.emplace();
        for (const auto& p : creds.value.profiles) {
          rules.known_profiles->push_back(p.name);
        }
      } else {
        err << creds.problems.to_text();
        notes.push_back(*opts->credentials +
                        " has problems, so credential profile names were not checked");
        status = exit_usage;
      }
    }
  }

  bool any_invalid = false;
  bool any_unreadable = false;
  boost::json::array files;
  if (opts->offline) {
    daemon = nullptr;
  }
  for (const auto& path : opts->files) {
    auto report = validate_file(path, rules, today);
    // A file too large here is not sent: the daemon's cap is the same or
    // given with --config.
    if (daemon != nullptr && !report.unreadable &&
        !(report.problems.size() == 1 && report.problems[0].line == 0)) {
      std::string why;
      if (ask_daemon(*daemon, report, why) == daemon_verdict::no_answer) {
        // One line, once: the rest of the files are checked offline too.
        const std::string note =
            why + "; profile names not checked (socket " + daemon->path() + ")";
        err << "unlinkctl validate: " << note << '\n';
        if (opts->json) {
          notes.push_back(note);
        }
        daemon = nullptr;
      }
    }
    any_unreadable = any_unreadable || report.unreadable;
    any_invalid = any_invalid || (!report.unreadable && !report.manifest);
    if (opts->json) {
      files.push_back(to_json(report));
      continue;
    }
    if (report.manifest) {
      print_summary(report, out);
    } else {
      for (const auto& d : report.problems) {
        err << config::format(d) << '\n';
      }
      if (report.problems_not_shown != 0) {
        err << path << ": error: " << report.problems_not_shown
            << " more problems not shown; fix the ones above and validate again\n";
      }
    }
  }
  if (opts->json) {
    boost::json::array json_notes;
    for (const auto& n : notes) {
      json_notes.emplace_back(n);
    }
    out << boost::json::serialize(
               boost::json::object{{"files", std::move(files)}, {"notes", std::move(json_notes)}})
        << '\n';
  } else {
    for (const auto& n : notes) {
      err << "note: " << n << '\n';
    }
  }
  if (any_unreadable || status == exit_usage) {
    return exit_usage;
  }
  return any_invalid ? exit_invalid_manifest : exit_ok;
}

}  // namespace unlinkd::ctl
