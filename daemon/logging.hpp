#pragma once
// unlinkd's logger: spdlog to standard error. Under journald (JOURNAL_STREAM
// set) each line starts with its syslog priority, `<3>` for an error, so
// `journalctl -p warning` works and journald adds the time itself;
// elsewhere lines carry a timestamp and the level as words.
#include <memory>

#include <spdlog/logger.h>

#include "config/daemon_config.hpp"

namespace unlinkd::daemon {

std::shared_ptr<spdlog::logger> make_logger(config::log_level level);
spdlog::level::level_enum to_spdlog(config::log_level level);

}  // namespace unlinkd::daemon
