#pragma once
// `unlinkctl validate`: checks manifests and says exactly what is wrong with
// each, in the compiler form (or as JSON for scripts). Offline by itself;
// given a daemon's socket, each readable file is also posted to
// POST /v1/validate so the daemon checks it with its own limits and its
// credentials' profile names, and the daemon's problems are printed in the
// same form. A daemon that does not answer means an offline check and one
// line on standard error saying profile names were not checked.

#include <chrono>
#include <ostream>
#include <span>
#include <string>

namespace unlinkd::ctl {

extern const char* const validate_help;

class socket_client;

// Runs the command with the arguments after `validate`; returns the exit
// code. `today` decides the default report range shown for valid files.
// `daemon`: the socket to ask (nullptr, or --offline: offline only).
int run_validate(std::span<const std::string> args, std::ostream& out, std::ostream& err,
                 std::chrono::year_month_day today, const socket_client* daemon = nullptr);

}  // namespace unlinkd::ctl
