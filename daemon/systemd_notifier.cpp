#include "daemon/systemd_notifier.hpp"

#include <systemd/sd-daemon.h>

namespace unlinkd::daemon {

// sd_notify's answer is ignored on purpose: a lost notification must not
// stop the daemon, and without NOTIFY_SOCKET it does nothing.
void systemd_notifier::ready() { (void)sd_notify(0, "READY=1"); }

void systemd_notifier::reloading() {
  // systemd 252 wants no MONOTONIC_USEC here; 253 added it as an option.
  (void)sd_notify(0, "RELOADING=1");
}

void systemd_notifier::stopping() { (void)sd_notify(0, "STOPPING=1"); }

void systemd_notifier::status(const std::string& text) {
  (void)sd_notify(0, ("STATUS=" + text).c_str());
}

void systemd_notifier::watchdog() { (void)sd_notify(0, "WATCHDOG=1"); }

std::optional<std::chrono::microseconds> systemd_notifier::watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    return std::chrono::microseconds(usec);
  }
  return std::nullopt;
}

}  // namespace unlinkd::daemon
