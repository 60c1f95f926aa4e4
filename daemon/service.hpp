#pragma once
// unlinkd as a running service (issue 8): loads the config and the
// credentials, prepares state_dir, opens the store, finishes manifests a
// crash left in processing/, then runs the scheduler and the inbox watcher
// on one io_context until SIGTERM, telling systemd how it goes.
//
// Signals are handled inside the io_context: SIGTERM (and SIGINT) stop new
// work and give the steps in flight drain_timeout to finish and commit;
// SIGHUP reloads the config's live settings and the credentials file (a bad
// file keeps the old one and says why).
#include <optional>
#include <string>

#include "config/daemon_config.hpp"

namespace unlinkd::daemon {

struct service_options {
  std::string config_path = "/etc/unlinkd/unlinkd.yaml";
  std::optional<config::log_level> log_level;  // --log-level, over the config's
};

// The process's exit status: 0 after a clean stop, 1 when it cannot start
// (the reason on standard error) or a broken invariant stopped it.
int run_service(const service_options& options);

// `unlinkd --check-db`: PRAGMA integrity_check of the config's database;
// prints the result, 0 when "ok".
int check_database(const service_options& options);

}  // namespace unlinkd::daemon
