#include "tests/reliability/reliability_settings.hpp"

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace unlinkd::reliability {

namespace {

constexpr std::uint64_t default_seed = 20261126;

std::string_view env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string_view{} : std::string_view{v};
}

// The value of UNLINKD_RELIABILITY_<name>, when set; throws on a bad one.
std::optional<std::uint64_t> whole_number(std::string_view text, const char* name) {
  if (text.empty()) {
    return std::nullopt;
  }
  std::size_t used = 0;
  std::uint64_t value = 0;
  try {
    value = std::stoull(std::string(text), &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value > 1'000'000) {
    throw std::invalid_argument(std::string("UNLINKD_RELIABILITY_") + name +
                                " must be a whole number up to 1000000, not '" + std::string(text) +
                                "'");
  }
  return value;
}

}  // namespace

reliability_settings reliability_settings::from_environment() {
  reliability_settings s;
  s.short_run = env("UNLINKD_RELIABILITY_SHORT") == "1";
  s.seed = default_seed;
  if (const auto text = env("UNLINKD_RELIABILITY_SEED"); !text.empty()) {
    std::size_t used = 0;
    try {
      s.seed = std::stoull(std::string(text), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text.size()) {
      throw std::invalid_argument("UNLINKD_RELIABILITY_SEED must be a whole number, not '" +
                                  std::string(text) + "'");
    }
  }
  // The sizes: 2,000 accounts and at least 30 kills in full, about
  // 200 and 10 in the short run that CI does within 10 minutes.
  s.crash_accounts = s.short_run ? 200 : 2000;
  s.crash_kills = s.short_run ? 10 : 30;
  s.fault_accounts = s.short_run ? 200 : 2000;
  s.credential_accounts = s.short_run ? 100 : 1000;
  s.disk_accounts = s.short_run ? 100 : 1000;
  s.no_limits = s.short_run;
  // Smaller runs, e.g. under the sanitizers: UNLINKD_RELIABILITY_ACCOUNTS
  // and UNLINKD_RELIABILITY_KILLS override the sizes.
  if (const auto n = whole_number(env("UNLINKD_RELIABILITY_ACCOUNTS"), "ACCOUNTS")) {
    s.crash_accounts = s.fault_accounts = s.credential_accounts = s.disk_accounts =
        static_cast<int>(*n);
  }
  if (const auto n = whole_number(env("UNLINKD_RELIABILITY_KILLS"), "KILLS")) {
    s.crash_kills = static_cast<int>(*n);
  }
  return s;
}

std::string reliability_settings::describe() const {
  return std::string(short_run ? "short" : "full") + " run, seed " + std::to_string(seed) +
         " (replay: UNLINKD_RELIABILITY_SEED=" + std::to_string(seed) +
         (short_run ? " UNLINKD_RELIABILITY_SHORT=1" : "") + "), crash " +
         std::to_string(crash_accounts) + " accounts / " + std::to_string(crash_kills) +
         " kills, faults " + std::to_string(fault_accounts) + " accounts, sandbox " +
         (no_limits ? "--no-limits" : "with the Basic budget");
}

const reliability_settings& settings() {
  static const reliability_settings s = reliability_settings::from_environment();
  return s;
}

std::uint64_t seeded_random::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31U);
}

std::int64_t seeded_random::between(std::int64_t low, std::int64_t high) {
  const auto span = static_cast<std::uint64_t>(high - low) + 1;
  return low + static_cast<std::int64_t>(next() % span);
}

}  // namespace unlinkd::reliability
