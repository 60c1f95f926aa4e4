#pragma once
// `unlinkctl validate`: checks manifests offline and says exactly what is
// wrong with each, in the compiler form (or as JSON for scripts).

#include <chrono>
#include <ostream>
#include <span>
#include <string>

namespace unlinkd::ctl {

extern const char* const validate_help;

// Runs the command with the arguments after `validate`; returns the exit
// code. `today` decides the default report range shown for valid files.
int run_validate(std::span<const std::string> args, std::ostream& out, std::ostream& err,
                 std::chrono::year_month_day today);

}  // namespace unlinkd::ctl
