#pragma once
// The sizes of the reliability suite, read once from the environment:
// UNLINKD_RELIABILITY_SHORT=1 gives the short run CI does (about 200 accounts,
// 10 kills, a sandbox without budget limits); anything else the full sizes.
// UNLINKD_RELIABILITY_SEED replays a run (the seed is printed at start).

#include <cstdint>
#include <string>

namespace unlinkd::reliability {

struct reliability_settings {
  bool short_run = false;
  std::uint64_t seed = 0;
  int crash_accounts = 0;
  int crash_kills = 0;
  int fault_accounts = 0;
  int credential_accounts = 0;
  int disk_accounts = 0;
  // The sandbox without budget limits (--no-limits).
  bool no_limits = false;

  // Reads the environment; an unreadable seed is an error with a sentence.
  static reliability_settings from_environment();
  [[nodiscard]] std::string describe() const;
};

// The settings of this run (read on first use).
const reliability_settings& settings();

// splitmix64: the same sequence on every machine and library version.
class seeded_random {
 public:
  explicit seeded_random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  // Uniform in [low, high] (milliseconds and the like).
  std::int64_t between(std::int64_t low, std::int64_t high);

 private:
  std::uint64_t state_;
};

}  // namespace unlinkd::reliability
