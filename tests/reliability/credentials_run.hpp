#pragma once
// The Credentials scenario's processes and folders: the real unlinkd-sandbox
// serving the two-profile world of credentials_world.hpp, the real unlinkd
// on a state folder of its own, one batch per profile, and the end checks of
// reliability_run.hpp over both batches.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "tests/reliability/batch_checks.hpp"
#include "tests/reliability/credentials_world.hpp"
#include "tests/reliability/daemon_runner.hpp"
#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::reliability {

class credentials_run {
 public:
  // `no_limits`: the sandbox without budget (the short run); else the
  // Ultimate tier's 50 calls/s per app, as the other scenarios' full runs.
  credentials_run(int accounts_per_batch, bool no_limits, const std::string& daemon_config);
  credentials_run(const credentials_run&) = delete;
  credentials_run& operator=(const credentials_run&) = delete;
  ~credentials_run();

  daemon_runner& daemon() { return *daemon_; }
  unlinkd::test::sandbox_process& sandbox() { return *sandbox_; }
  [[nodiscard]] const std::vector<credential_batch>& batches() const { return world_.batches; }
  [[nodiscard]] const std::map<std::string, planned_account>& plan(std::size_t batch) const {
    return plans_.at(batch);
  }

  // Both manifests, each written next to the inbox and renamed into it.
  void drop_manifests();
  // GET /v1/batches/{batch} over the control socket; null when no answer.
  boost::json::value batch_status(const std::string& batch);
  // reports/<batch>.json parsed; null while the batch has no report.
  [[nodiscard]] boost::json::value report(const std::string& batch) const;
  // POST to the sandbox's runtime control `path` (/_sandbox/tokens/revoke or
  // /restore) for the token of batch `batch`: the answer's status and body.
  unlinkd::test::http_reply token_control(const std::string& path, std::size_t batch);
  boost::json::value sandbox_stats();

  // The end checks of reliability_run::common_checks over both batches:
  // terminal states per batch; the sandbox's counts, the backups of unlinked
  // accounts, every backup, `--check-db` and both manifests filed. Stops the
  // daemon first (SIGTERM).
  problems common_checks();

 private:
  std::string dir_;
  credentials_world world_;
  std::vector<std::map<std::string, planned_account>> plans_;
  std::unique_ptr<unlinkd::test::sandbox_process> sandbox_;
  std::unique_ptr<daemon_runner> daemon_;
};

// The accounts of a BATCH answer not yet in a terminal state (total minus
// done, failed, cancelled and needs_attention); -1 for a null status.
std::int64_t open_accounts(const boost::json::value& status);
// The count of one state in a BATCH answer's by_state (0 when absent).
std::int64_t in_state(const boost::json::value& status, const char* state);

}  // namespace unlinkd::reliability
