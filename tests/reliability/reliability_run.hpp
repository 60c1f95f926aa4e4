#pragma once
// One scenario's processes and folders: the real unlinkd-sandbox (a generated
// world and its manifest), the real unlinkd on a state folder of its own, and
// the waits and checks every scenario shares.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "tests/reliability/batch_checks.hpp"
#include "tests/reliability/daemon_runner.hpp"
#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::reliability {

struct run_options {
  int accounts = 200;
  std::uint64_t seed = 1;
  bool no_limits = true;
  // YAML of a --faults profile; empty: no faults.
  std::string faults;
  // --visibility-delay, e.g. "200ms..1s"; empty: none.
  std::string visibility_delay;
  // Lines added to unlinkd.yaml.
  std::string daemon_config;
};

class reliability_run {
 public:
  explicit reliability_run(const run_options& options);
  reliability_run(const reliability_run&) = delete;
  reliability_run& operator=(const reliability_run&) = delete;
  ~reliability_run();

  daemon_runner& daemon() { return *daemon_; }
  unlinkd::test::sandbox_process& sandbox() { return *sandbox_; }
  [[nodiscard]] const std::string& batch() const { return batch_; }
  [[nodiscard]] const std::map<std::string, planned_account>& plan() const { return plan_; }

  // The inbox contract: written next to the inbox, then renamed into it.
  void drop_manifest();
  // GET /v1/batches/{batch} over the control socket; null when no answer.
  boost::json::value batch_status();
  // Waits until the batch is completed or cancelled and its report is
  // written. On the deadline: a problem naming the accounts still open by
  // state and step (from the batch's counts).
  problems wait_batch_end(std::chrono::seconds deadline);
  // reports/<batch>.json, parsed.
  boost::json::value report() const;
  boost::json::value sandbox_stats();
  // The checks every scenario ends with: terminal states, the sandbox's
  // counts, backups, `unlinkd --check-db`, the manifest filed. The daemon is
  // stopped first (SIGTERM), so the database is closed.
  problems common_checks();

 private:
  std::string dir_;
  std::unique_ptr<unlinkd::test::sandbox_process> sandbox_;
  std::unique_ptr<daemon_runner> daemon_;
  std::string batch_;
  std::map<std::string, planned_account> plan_;
};

// The problems as one message for a failed expectation.
std::string as_text(const problems& found, std::size_t at_most = 40);

}  // namespace unlinkd::reliability
