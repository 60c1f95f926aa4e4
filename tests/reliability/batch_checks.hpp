#pragma once
// The end-of-run checks of the reliability suite, on real artefacts: the
// daemon's report (reports/<batch>.json), the sandbox's /_sandbox/stats, the
// backup folders and the manifests folders. Each returns the problems found,
// one sentence each; empty means the check passed.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "tests/reliability/daemon_runner.hpp"

namespace unlinkd::reliability {

using problems = std::vector<std::string>;

// What the manifest asks of one account.
struct planned_account {
  std::string id;
  std::string mode;
  // The relationships its unlink removes: one, or one per member for
  // member_access. The sandbox counts each removal under the account's ID.
  int relationships = 1;
};

// The accounts of a manifest file, by ID; throws with the parser's problems
// when the file is not a valid manifest.
std::map<std::string, planned_account> read_manifest(const std::filesystem::path& file,
                                                     std::string& batch);

// Every manifest account is in the report exactly once, in a terminal state
// (done, failed, cancelled, needs_attention), and no other account is.
problems check_terminal_states(const boost::json::value& report,
                               const std::map<std::string, planned_account>& plan);

// Accounts whose state is not `wanted`, with their reason, as problems.
problems check_all_in_state(const boost::json::value& report, const std::string& wanted);

// From the sandbox's stats: no call to /bc/advertiser/disable/; no removal
// answered 40002 (sent again for a relationship already gone); per account no
// more changes applied than its relationships plus its paused campaigns (the
// sandbox counts both under the account); a `done` account had at least
// every relationship removed (and a pause applied when it paused any).
problems check_unlinks_applied(const boost::json::value& stats, const boost::json::value& report,
                               const std::map<std::string, planned_account>& plan);

// No unlink without a verified backup: every account the sandbox saw a
// removal applied to has a backup folder and digest in the report, the
// folder's SHA256SUMS verifies (recomputed with OpenSSL) and the digest is
// the SHA-256 of that SHA256SUMS.
problems check_backups_of_unlinked(const boost::json::value& stats,
                                   const boost::json::value& report,
                                   const std::map<std::string, planned_account>& plan);

// Every published backup folder under `backups_root` (a folder holding
// SHA256SUMS; `.…partial` work folders are not backups) verifies. `count`
// gets the number of folders checked.
problems check_every_backup(const std::filesystem::path& backups_root, std::size_t& count);

// The manifest named `name` left the inbox and sits in manifests/accepted or
// manifests/rejected (exactly one of them); nothing is left in processing.
problems check_manifest_filed(const std::filesystem::path& state_dir,
                              const std::filesystem::path& inbox_dir, const std::string& name);

// Lowercase hex SHA-256 of a file's bytes, by OpenSSL; empty when unreadable.
std::string sha256_of_file(const std::filesystem::path& file);

// Stops the daemon (SIGTERM), so the database is closed, and checks what it
// leaves: a clean exit, every backup folder's SHA256SUMS (and at least one
// backup), `unlinkd --check-db`.
problems stop_and_check_state(daemon_runner& daemon);

}  // namespace unlinkd::reliability
