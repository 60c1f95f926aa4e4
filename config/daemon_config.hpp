#pragma once
// The daemon's own configuration, /etc/unlinkd/unlinkd.yaml (PRODUCT.md §6).
// Every key is optional; the defaults below are the documented ones
// (docs/CONFIG.md).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/diagnostics.hpp"

namespace unlinkd::config {

struct retry_policy {
  std::uint32_t max_attempts = 8;
  std::chrono::milliseconds initial_backoff{2'000};
  std::chrono::milliseconds max_backoff{600'000};
};

enum class log_level : std::uint8_t { trace, debug, info, warn, error, critical, off };
std::string_view to_string(log_level l);

struct daemon_config {
  std::string state_dir = "/var/lib/unlinkd";  // unlinkd.db, manifests/, backups/, reports/
  // Must be on state_dir's filesystem (claims are renames). When only
  // state_dir is set, this follows it: <state_dir>/inbox.
  std::string inbox_dir = "/var/lib/unlinkd/inbox";
  std::string socket = "/run/unlinkd/unlinkd.sock";  // ignored when systemd passes one
  std::string socket_group = "unlinkd";              // may read status
  std::string admin_group = "unlinkd-admin";         // may change things; root always may
  // $CREDENTIALS_DIRECTORY/credentials.yaml wins when set (systemd LoadCredential=).
  std::string credentials_file = "/etc/unlinkd/credentials.yaml";
  std::string api_base_url = "https://business-api.tiktok.com";
  std::uint32_t concurrency = 64;  // accounts in flight over all batches
  std::uint64_t max_accounts_per_manifest = 100'000;
  std::uint64_t max_manifest_bytes = 16ULL * 1024 * 1024;
  retry_policy retry;
  std::chrono::milliseconds drain_timeout{30'000};  // SIGTERM: in-flight steps get this long
  std::string metrics_listen;                       // "" = off; else loopback HOST:PORT
  std::string webhook_secret_file;                  // "" = webhooks unsigned
  log_level level = log_level::info;
};

struct daemon_config_result {
  daemon_config value;  // meaningful only when `problems` is empty
  diagnostics problems;
};

// Parses the config's bytes. An empty file means every default.
daemon_config_result parse_daemon_config(std::string_view bytes, std::string file_name);

// Reads and parses the file at `path`.
daemon_config_result load_daemon_config(const std::string& path);

}  // namespace unlinkd::config
