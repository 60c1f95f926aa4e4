#include "tests/reliability/reliability_run.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/json.hpp>

#include "tests/reliability/scenario_profiles.hpp"
#include "tests/reliability/unix_http.hpp"

namespace unlinkd::reliability {

namespace fs = std::filesystem;
namespace json = boost::json;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Backs up 30 days of reports instead of the default 365: thirteen times
// fewer report pages per ad account, so a run of hundreds of accounts fits
// its time; every other step is unchanged.
void shorten_report_range(const fs::path& manifest) {
  std::string text = slurp(manifest);
  const std::string date = thirty_days_ago();
  const std::string key = "defaults:\n";
  if (const auto at = text.find(key); at != std::string::npos) {
    text.insert(at + key.size(), "  backup:\n    reports_since: " + date + "\n");
  }
  std::ofstream(manifest, std::ios::trunc) << text;
}

}  // namespace

reliability_run::reliability_run(const run_options& options) {
  std::string pattern = fs::temp_directory_path() / "unlinkd-reliability-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  dir_ = pattern;
  std::vector<std::string> args{"--accounts",
                                std::to_string(options.accounts),
                                "--seed",
                                std::to_string(options.seed),
                                "--credentials-out",
                                "{dir}/credentials.yaml",
                                "--manifest-out",
                                "{dir}/batch.yaml"};
  if (options.no_limits) {
    args.emplace_back("--no-limits");
  } else {
    // The full run keeps the budget on at the Ultimate tier (50 calls/s), as
    // scripts/bench-budget does: the Basic tier's 10/s would take hours.
    args.insert(args.end(), {"--qps", "50", "--qpm", "3000"});
  }
  if (!options.faults.empty()) {
    std::ofstream(dir_ + "/faults.yaml") << options.faults;
    args.insert(args.end(), {"--faults", dir_ + "/faults.yaml"});
  }
  if (!options.visibility_delay.empty()) {
    args.insert(args.end(), {"--visibility-delay", options.visibility_delay});
  }
  sandbox_ = std::make_unique<unlinkd::test::sandbox_process>(args);
  shorten_report_range(sandbox_->dir() + "/batch.yaml");
  plan_ = read_manifest(sandbox_->dir() + "/batch.yaml", batch_);
  // The daemon paces itself by the credential's tier whatever the sandbox
  // enforces: the Ultimate tier (50 calls/s) in both runs.
  use_ultimate_tier(sandbox_->dir() + "/credentials.yaml");
  daemon_ = std::make_unique<daemon_runner>(dir_ + "/daemon", sandbox_->dir() + "/credentials.yaml",
                                            options.daemon_config);
}

reliability_run::~reliability_run() {
  daemon_.reset();
  sandbox_.reset();
  if (std::getenv("UNLINKD_RELIABILITY_KEEP") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

void reliability_run::drop_manifest() {
  const fs::path staging = daemon_->state_dir() + "/batch.yaml.staging";
  fs::create_directories(daemon_->state_dir() + "/inbox");
  fs::copy_file(sandbox_->dir() + "/batch.yaml", staging, fs::copy_options::overwrite_existing);
  fs::rename(staging, daemon_->state_dir() + "/inbox/batch.yaml");
}

json::value reliability_run::batch_status() {
  const auto reply = unix_get(daemon_->socket_path(), "/v1/batches/" + batch_, 5s);
  if (!reply || reply->status != 200) {
    return nullptr;
  }
  std::error_code ec;
  auto v = json::parse(reply->body, ec);
  return ec ? json::value(nullptr) : v;
}

problems reliability_run::wait_batch_end(std::chrono::seconds deadline) {
  const auto end = steady::now() + deadline;
  const fs::path report_file = daemon_->state_dir() + "/reports/" + batch_ + ".json";
  json::value last = nullptr;
  while (steady::now() < end) {
    if (!daemon_->running()) {
      return {"unlinkd exited while the batch ran; its log ends with:\n" + daemon_->log_tail()};
    }
    auto status = batch_status();
    if (!status.is_null()) {
      last = status;
      const auto state = status.at("state").as_string();
      if ((state == "completed" || state == "cancelled") && fs::exists(report_file)) {
        return {};
      }
    }
    std::this_thread::sleep_for(200ms);
  }
  return {"the batch did not end within " + std::to_string(deadline.count()) +
          " s; last status: " + (last.is_null() ? std::string("none") : json::serialize(last)) +
          "\nlog tail:\n" + daemon_->log_tail()};
}

json::value reliability_run::report() const {
  return json::parse(slurp(daemon_->state_dir() + "/reports/" + batch_ + ".json"));
}

json::value reliability_run::sandbox_stats() {
  unlinkd::test::http_client client(sandbox_->port());
  return client.get("/_sandbox/stats").json();
}

problems reliability_run::common_checks() {
  problems out = stop_and_check_state(*daemon_);
  const auto rep = report();
  const auto stats = sandbox_stats();
  for (auto found : {check_terminal_states(rep, plan_), check_unlinks_applied(stats, rep, plan_),
                     check_backups_of_unlinked(stats, rep, plan_)}) {
    out.insert(out.end(), found.begin(), found.end());
  }
  auto filed =
      check_manifest_filed(daemon_->state_dir(), daemon_->state_dir() + "/inbox", "batch.yaml");
  out.insert(out.end(), filed.begin(), filed.end());
  return out;
}

std::string as_text(const problems& found, std::size_t at_most) {
  std::string out = std::to_string(found.size()) + " problem(s):\n";
  for (std::size_t i = 0; i < found.size() && i < at_most; ++i) {
    out += "  - " + found[i] + "\n";
  }
  if (found.size() > at_most) {
    out += "  ... and " + std::to_string(found.size() - at_most) + " more\n";
  }
  return out;
}

}  // namespace unlinkd::reliability
