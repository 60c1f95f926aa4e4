#pragma once
// What unlinkd tells systemd (sd_notify): READY=1 once recovery is done and
// the socket listens, STATUS= with live counts, WATCHDOG=1 while the
// liveness check passes, RELOADING=1 / READY=1 around a reload, STOPPING=1.
// Silent when not started by systemd (no NOTIFY_SOCKET).
#include <chrono>
#include <optional>
#include <string>

namespace unlinkd::daemon {

class systemd_notifier {
 public:
  void ready();
  void reloading();
  void stopping();
  void status(const std::string& text);
  void watchdog();
  // The watchdog interval systemd asked for (WatchdogSec=), if any.
  [[nodiscard]] static std::optional<std::chrono::microseconds> watchdog_interval();
};

}  // namespace unlinkd::daemon
