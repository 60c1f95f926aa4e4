#include "tests/reliability/credentials_run.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/json.hpp>

#include "tests/reliability/scenario_profiles.hpp"
#include "tests/reliability/unix_http.hpp"

namespace unlinkd::reliability {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// Accounts of a batch in flight at a time: both batches fit in the daemon's
// default 64 together, so neither waits on the other for a slot.
constexpr int batch_concurrency = 16;

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::int64_t number_at(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

}  // namespace

std::int64_t in_state(const json::value& status, const char* state) {
  if (!status.is_object()) {
    return 0;
  }
  const auto* accounts = status.as_object().if_contains("accounts");
  const auto* by_state = accounts != nullptr && accounts->is_object()
                             ? accounts->as_object().if_contains("by_state")
                             : nullptr;
  return by_state != nullptr && by_state->is_object() ? number_at(by_state->as_object(), state) : 0;
}

std::int64_t open_accounts(const json::value& status) {
  if (!status.is_object()) {
    return -1;
  }
  const auto total = number_at(status.at("accounts").as_object(), "total");
  return total - in_state(status, "done") - in_state(status, "failed") -
         in_state(status, "cancelled") - in_state(status, "needs_attention");
}

credentials_run::credentials_run(int accounts_per_batch, bool no_limits,
                                 const std::string& daemon_config)
    : world_(make_credentials_world(accounts_per_batch, thirty_days_ago(), batch_concurrency)) {
  std::string pattern = fs::temp_directory_path() / "unlinkd-reliability-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  dir_ = pattern;
  std::ofstream(dir_ + "/world.yaml") << world_.fixture;
  for (const auto& b : world_.batches) {
    const std::string file = dir_ + "/" + b.batch + ".yaml";
    std::ofstream(file) << b.manifest;
    std::string name;
    plans_.push_back(read_manifest(file, name));
  }
  std::vector<std::string> args{"--fixture", dir_ + "/world.yaml", "--credentials-out",
                                "{dir}/credentials.yaml"};
  if (no_limits) {
    args.emplace_back("--no-limits");
  } else {
    args.insert(args.end(), {"--qps", "50", "--qpm", "3000"});
  }
  sandbox_ = std::make_unique<unlinkd::test::sandbox_process>(args);
  use_ultimate_tier(sandbox_->dir() + "/credentials.yaml");
  daemon_ = std::make_unique<daemon_runner>(dir_ + "/daemon", sandbox_->dir() + "/credentials.yaml",
                                            daemon_config);
}

credentials_run::~credentials_run() {
  daemon_.reset();
  sandbox_.reset();
  if (std::getenv("UNLINKD_RELIABILITY_KEEP") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

void credentials_run::drop_manifests() {
  const std::string inbox = daemon_->state_dir() + "/inbox";
  fs::create_directories(inbox);
  for (const auto& b : world_.batches) {
    const fs::path staging = daemon_->state_dir() + "/" + b.batch + ".yaml.staging";
    fs::copy_file(dir_ + "/" + b.batch + ".yaml", staging, fs::copy_options::overwrite_existing);
    fs::rename(staging, inbox + "/" + b.batch + ".yaml");
  }
}

json::value credentials_run::batch_status(const std::string& batch) {
  const auto reply = unix_get(daemon_->socket_path(), "/v1/batches/" + batch, 5s);
  if (!reply || reply->status != 200) {
    return nullptr;
  }
  std::error_code ec;
  auto v = json::parse(reply->body, ec);
  return ec ? json::value(nullptr) : v;
}

json::value credentials_run::report(const std::string& batch) const {
  const fs::path file = daemon_->state_dir() + "/reports/" + batch + ".json";
  if (!fs::exists(file)) {
    return nullptr;
  }
  std::error_code ec;
  auto v = json::parse(slurp(file), ec);
  return ec ? json::value(nullptr) : v;
}

unlinkd::test::http_reply credentials_run::token_control(const std::string& path,
                                                         std::size_t batch) {
  unlinkd::test::http_client client(sandbox_->port());
  json::object body{{"token", world_.batches.at(batch).token}};
  return client.post(path, json::serialize(body));
}

json::value credentials_run::sandbox_stats() {
  unlinkd::test::http_client client(sandbox_->port());
  return client.get("/_sandbox/stats").json();
}

problems credentials_run::common_checks() {
  problems out = stop_and_check_state(*daemon_);
  // One report and one plan over both batches: the sandbox counts every
  // account of the world together.
  json::array rows;
  std::map<std::string, planned_account> plan;
  for (std::size_t i = 0; i < world_.batches.size(); ++i) {
    const auto& name = world_.batches[i].batch;
    const auto rep = report(name);
    if (rep.is_null()) {
      out.push_back("batch " + name + " has no readable report");
      continue;
    }
    auto found = check_terminal_states(rep, plans_[i]);
    for (auto& f : found) {
      out.push_back(name + ": " + f);
    }
    for (const auto& row : rep.at("accounts").as_array()) {
      rows.push_back(row);
    }
    plan.insert(plans_[i].begin(), plans_[i].end());
  }
  const json::value merged = json::object{{"accounts", std::move(rows)}};
  const auto stats = sandbox_stats();
  for (auto found : {check_unlinks_applied(stats, merged, plan),
                     check_backups_of_unlinked(stats, merged, plan)}) {
    out.insert(out.end(), found.begin(), found.end());
  }
  for (const auto& b : world_.batches) {
    auto filed = check_manifest_filed(daemon_->state_dir(), daemon_->state_dir() + "/inbox",
                                      b.batch + ".yaml");
    out.insert(out.end(), filed.begin(), filed.end());
  }
  return out;
}

}  // namespace unlinkd::reliability
