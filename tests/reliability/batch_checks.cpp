#include "tests/reliability/batch_checks.hpp"

#include <array>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <boost/json.hpp>
#include <openssl/evp.h>

#include "config/manifest_parser.hpp"

namespace unlinkd::reliability {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string text_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t number_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

// The report's rows by account ID (the last one wins; duplicates are a
// problem check_terminal_states reports).
std::map<std::string, const json::object*> rows_by_id(const json::value& report) {
  std::map<std::string, const json::object*> rows;
  for (const auto& row : report.at("accounts").as_array()) {
    rows[text_of(row.as_object(), "id")] = &row.as_object();
  }
  return rows;
}

std::int64_t applied_for(const json::value& stats, const std::string& id) {
  const auto* accounts = stats.as_object().if_contains("accounts");
  if (accounts == nullptr) {
    return 0;
  }
  const auto* entry = accounts->as_object().if_contains(id);
  return entry == nullptr ? 0 : number_of(entry->as_object(), "mutations_applied");
}

std::string describe(const json::object& row) {
  std::string out =
      text_of(row, "id") + " (" + text_of(row, "mode") + ") is " + text_of(row, "state");
  if (const auto step = text_of(row, "failed_step"); !step.empty()) {
    out += " at " + step;
  }
  if (const auto reason = text_of(row, "reason"); !reason.empty()) {
    out += ": " + reason;
  }
  return out;
}

// Checks one backup folder's SHA256SUMS line by line; the problems.
problems verify_sums(const fs::path& folder) {
  problems out;
  const fs::path sums = folder / "SHA256SUMS";
  if (!fs::is_regular_file(sums)) {
    return {folder.string() + " has no SHA256SUMS"};
  }
  std::istringstream lines(slurp(sums));
  std::size_t files = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.size() < 67 || line.compare(64, 2, "  ") != 0) {
      out.push_back(sums.string() + " has a malformed line: " + line);
      continue;
    }
    ++files;
    const std::string name = line.substr(66);
    if (const auto actual = sha256_of_file(folder / name); actual != line.substr(0, 64)) {
      out.push_back("checksum mismatch for " + (folder / name).string() + ": SHA256SUMS says " +
                    line.substr(0, 64) + ", the file hashes to " +
                    (actual.empty() ? "nothing (unreadable)" : actual));
    }
  }
  if (files == 0) {
    out.push_back(sums.string() + " lists no file");
  }
  return out;
}

}  // namespace

std::string sha256_of_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return {};
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::array<char, 65536> buffer{};
  while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
    EVP_DigestUpdate(ctx, buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, md.data(), &len);
  EVP_MD_CTX_free(ctx);
  static constexpr std::string_view digits = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += digits[md[i] >> 4U];
    hex += digits[md[i] & 0xFU];
  }
  return hex;
}

std::map<std::string, planned_account> read_manifest(const fs::path& file, std::string& batch) {
  const auto parsed = config::parse_manifest(slurp(file), file.string(), {}, config::utc_today());
  if (!parsed.value) {
    throw std::runtime_error(file.string() + " is not a valid manifest");
  }
  batch = parsed.value->batch;
  std::map<std::string, planned_account> plan;
  for (const auto& a : parsed.value->accounts) {
    planned_account p{a.id, a.mode ? std::string(config::to_string(*a.mode)) : std::string(), 1};
    if (a.mode == config::unlink_mode::member_access) {
      p.relationships = static_cast<int>(a.members.size());
    }
    plan[a.id] = p;
  }
  return plan;
}

problems check_terminal_states(const json::value& report,
                               const std::map<std::string, planned_account>& plan) {
  static const std::set<std::string> terminal{"done", "failed", "cancelled", "needs_attention"};
  problems out;
  std::map<std::string, int> seen;
  for (const auto& row : report.at("accounts").as_array()) {
    const auto& o = row.as_object();
    const auto id = text_of(o, "id");
    if (++seen[id] == 2) {
      out.push_back(id + " is in the report more than once");
    }
    if (!plan.contains(id)) {
      out.push_back(id + " is in the report but not in the manifest");
    }
    if (!terminal.contains(text_of(o, "state"))) {
      out.push_back(describe(o) + ", not a terminal state");
    }
  }
  for (const auto& [id, p] : plan) {
    if (!seen.contains(id)) {
      out.push_back(id + " (" + p.mode + ") of the manifest is missing from the report");
    }
  }
  return out;
}

problems check_all_in_state(const json::value& report, const std::string& wanted) {
  problems out;
  for (const auto& row : report.at("accounts").as_array()) {
    if (text_of(row.as_object(), "state") != wanted) {
      out.push_back(describe(row.as_object()) + ", not " + wanted);
    }
  }
  return out;
}

problems check_unlinks_applied(const json::value& stats, const json::value& report,
                               const std::map<std::string, planned_account>& plan) {
  problems out;
  if (const auto disables = number_of(stats.as_object(), "advertiser_disable_calls");
      disables != 0) {
    out.push_back("/bc/advertiser/disable/ was called " + std::to_string(disables) + " times");
  }
  // A removal sent for a relationship already gone is answered 40002 and
  // applies nothing: a resend the daemon should have verified instead.
  const auto* calls = stats.as_object().if_contains("calls");
  for (const auto* path : {"/bc/partner/asset/delete/", "/bc/asset/unassign/",
                           "/bc/asset/admin/delete/", "/bc/asset/advertiser/unassign/"}) {
    const auto* codes = calls == nullptr
                            ? nullptr
                            : calls->as_object().if_contains(std::string("/open_api/v1.3") + path);
    if (codes != nullptr) {
      if (const auto gone = number_of(codes->as_object(), "40002"); gone != 0) {
        out.push_back(std::string(path) + " was sent " + std::to_string(gone) +
                      " times for a relationship already removed (answered 40002)");
      }
    }
  }
  const auto rows = rows_by_id(report);
  for (const auto& [id, p] : plan) {
    const auto applied = applied_for(stats, id);
    // The sandbox counts under the account both its removals and each
    // campaign pause call that changed something (1 to P calls for P
    // campaigns paused, each paused once).
    const auto row = rows.find(id);
    std::int64_t paused = 0;
    if (row != rows.end()) {
      if (const auto* list = row->second->if_contains("campaigns_paused");
          list != nullptr && list->is_array()) {
        paused = static_cast<std::int64_t>(list->as_array().size());
      }
    }
    const std::int64_t most = p.relationships + paused;
    const std::int64_t least = p.relationships + (paused > 0 ? 1 : 0);
    if (applied > most) {
      out.push_back(id + " (" + p.mode + ") had " + std::to_string(applied) +
                    " changes applied for " + std::to_string(p.relationships) +
                    " relationship(s) and " + std::to_string(paused) +
                    " paused campaign(s): something was removed or paused twice");
    }
    if (row != rows.end() && text_of(*row->second, "state") == "done" && applied < least) {
      out.push_back(id + " (" + p.mode + ") is done but the sandbox applied only " +
                    std::to_string(applied) + " change(s) for its " +
                    std::to_string(p.relationships) + " relationship(s) and " +
                    std::to_string(paused) + " paused campaign(s)");
    }
  }
  return out;
}

problems check_backups_of_unlinked(const json::value& stats, const json::value& report,
                                   const std::map<std::string, planned_account>& plan) {
  problems out;
  const auto rows = rows_by_id(report);
  for (const auto& [id, p] : plan) {
    if (applied_for(stats, id) == 0) {
      continue;
    }
    const auto row = rows.find(id);
    if (row == rows.end()) {
      out.push_back(id + " was unlinked but is not in the report");
      continue;
    }
    const auto folder = text_of(*row->second, "backup_folder");
    const auto digest = text_of(*row->second, "backup_digest");
    if (folder.empty() || digest.empty()) {
      out.push_back(id + " was unlinked with no backup folder or digest in the report");
      continue;
    }
    auto sums = verify_sums(folder);
    out.insert(out.end(), sums.begin(), sums.end());
    if (const auto actual = sha256_of_file(fs::path(folder) / "SHA256SUMS"); actual != digest) {
      out.push_back(id + ": the report's backup digest " + digest +
                    " is not the SHA-256 of its SHA256SUMS (" + actual + ")");
    }
  }
  return out;
}

problems check_every_backup(const fs::path& backups_root, std::size_t& count) {
  problems out;
  count = 0;
  if (!fs::exists(backups_root)) {
    return {backups_root.string() + " does not exist"};
  }
  for (auto it = fs::recursive_directory_iterator(backups_root);
       it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_directory()) {
      continue;
    }
    const auto name = it->path().filename().string();
    if (name.starts_with(".") && name.ends_with(".partial")) {
      it.disable_recursion_pending();  // an attempt cut short: not a backup
      continue;
    }
    if (fs::exists(it->path() / "SHA256SUMS")) {
      ++count;
      auto found = verify_sums(it->path());
      out.insert(out.end(), found.begin(), found.end());
      it.disable_recursion_pending();
    }
  }
  return out;
}

problems check_manifest_filed(const fs::path& state_dir, const fs::path& inbox_dir,
                              const std::string& name) {
  problems out;
  const bool accepted = fs::exists(state_dir / "manifests" / "accepted" / name);
  const bool rejected = fs::exists(state_dir / "manifests" / "rejected" / name);
  if (accepted == rejected) {
    out.push_back(name + (accepted ? " is in both manifests/accepted and manifests/rejected"
                                   : " is in neither manifests/accepted nor manifests/rejected"));
  }
  if (fs::exists(inbox_dir / name)) {
    out.push_back(name + " is still in the inbox");
  }
  const fs::path processing = state_dir / "manifests" / "processing";
  if (fs::exists(processing) && !fs::is_empty(processing)) {
    out.push_back("manifests/processing is not empty");
  }
  return out;
}

problems stop_and_check_state(daemon_runner& daemon) {
  problems out;
  if (const int status = daemon.stop(); status != 0) {
    out.push_back("unlinkd did not stop cleanly on SIGTERM (status " + std::to_string(status) +
                  ")");
  }
  std::size_t backups = 0;
  auto every = check_every_backup(daemon.state_dir() + "/backups", backups);
  out.insert(out.end(), every.begin(), every.end());
  if (backups == 0) {
    out.emplace_back("no backup folder was found under backups/");
  }
  std::string db_output;
  if (const int rc = daemon.check_db(db_output);
      rc != 0 || db_output.find(": ok") == std::string::npos) {
    out.push_back("unlinkd --check-db exited " + std::to_string(rc) + ": " + db_output);
  }
  return out;
}

}  // namespace unlinkd::reliability
