// libFuzzer target for parse_manifest. Besides crashes, leaks and UB, it
// checks what a caller relies on: a manifest comes back exactly when there
// are no problems, every problem is well formed, and an accepted manifest
// satisfies every rule the parser promises (PRODUCT.md §2).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/manifest_parser.hpp"
#include "config/scalars.hpp"
#include "tests/fuzz/fuzz_checks.hpp"

namespace {

using namespace std::chrono_literals;
using unlinkd::config::account;
using unlinkd::config::account_type;
using unlinkd::config::account_type_of;
using unlinkd::config::batch_action;
using unlinkd::config::campaign_policy;
using unlinkd::config::manifest;
using unlinkd::config::unlink_mode;

constexpr std::size_t max_accounts = 1000;
constexpr std::string_view file_name = "fuzz.yaml";
constexpr std::chrono::year_month_day today{std::chrono::year{2026}, std::chrono::November, 26d};

bool day_before(std::chrono::year_month_day a, std::chrono::year_month_day b) {
  return std::chrono::sys_days{a} < std::chrono::sys_days{b};
}

void check_account(const manifest& m, const account& a) {
  UNLINKD_FUZZ_CHECK(unlinkd::config::is_valid_id(a.id));
  UNLINKD_FUZZ_CHECK(a.label.size() <= 4 * 256);
  UNLINKD_FUZZ_CHECK(a.mode.has_value() || m.action == batch_action::pause);
  if (m.action == batch_action::pause) {
    UNLINKD_FUZZ_CHECK(a.active_campaigns == campaign_policy::pause);
  }
  if (a.mode) {
    UNLINKD_FUZZ_CHECK(account_type_of(*a.mode) == a.type);
    switch (*a.mode) {
      case unlink_mode::partner_share:
        UNLINKD_FUZZ_CHECK(unlinkd::config::is_valid_id(a.partner_id));
        UNLINKD_FUZZ_CHECK(a.partner_id != m.business_center_id);
        break;
      case unlink_mode::member_access:
        UNLINKD_FUZZ_CHECK(!a.members.empty() && a.members.size() <= 100);
        for (const auto& member : a.members) {
          UNLINKD_FUZZ_CHECK(unlinkd::config::is_valid_id(member));
        }
        break;
      case unlink_mode::bc_asset:
        break;
      case unlink_mode::tiktok_binding:
        UNLINKD_FUZZ_CHECK(unlinkd::config::is_valid_id(a.advertiser_id));
        break;
    }
  }
  UNLINKD_FUZZ_CHECK(a.backup.reports_since.ok() && a.backup.reports_until.ok());
  UNLINKD_FUZZ_CHECK(!day_before(a.backup.reports_until, a.backup.reports_since));
  UNLINKD_FUZZ_CHECK(a.verify_deadline >= 1s && a.verify_deadline <= 24h);
}

void check_manifest(const manifest& m) {
  UNLINKD_FUZZ_CHECK(m.version == 1);
  UNLINKD_FUZZ_CHECK(unlinkd::config::is_valid_batch_name(m.batch));
  UNLINKD_FUZZ_CHECK(unlinkd::config::is_valid_profile_name(m.credentials));
  UNLINKD_FUZZ_CHECK(unlinkd::config::is_valid_id(m.business_center_id));
  UNLINKD_FUZZ_CHECK(m.notify.size() <= 10);
  for (const auto& url : m.notify) {
    UNLINKD_FUZZ_CHECK(unlinkd::config::is_acceptable_url(url));
  }
  UNLINKD_FUZZ_CHECK(!m.concurrency || (*m.concurrency >= 1 && *m.concurrency <= 10'000));
  const auto& r = m.retry;
  UNLINKD_FUZZ_CHECK(!r.max_attempts || (*r.max_attempts >= 1 && *r.max_attempts <= 100));
  UNLINKD_FUZZ_CHECK(!r.initial_backoff ||
                     (*r.initial_backoff >= 10ms && *r.initial_backoff <= 1h));
  UNLINKD_FUZZ_CHECK(!r.max_backoff || (*r.max_backoff >= 100ms && *r.max_backoff <= 24h));
  UNLINKD_FUZZ_CHECK(!r.initial_backoff || !r.max_backoff || *r.initial_backoff <= *r.max_backoff);
  UNLINKD_FUZZ_CHECK(!m.accounts.empty() && m.accounts.size() <= max_accounts);
  for (std::size_t i = 0; i < m.accounts.size(); ++i) {
    check_account(m, m.accounts[i]);
    for (std::size_t j = 0; j < i; ++j) {
      UNLINKD_FUZZ_CHECK(m.accounts[i].id != m.accounts[j].id);
    }
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  unlinkd::config::manifest_options options;
  options.max_accounts = max_accounts;
  const auto result =
      unlinkd::config::parse_manifest(input, std::string(file_name), options, today);

  UNLINKD_FUZZ_CHECK(result.value.has_value() == result.problems.empty());
  unlinkd::fuzz::check_diagnostics(result.problems, file_name, input);
  if (!result.value) {
    return 0;
  }
  check_manifest(*result.value);

  // An accepted manifest is accepted again, the same, and a list of profiles
  // that has its credentials changes nothing.
  options.known_profiles = std::vector<std::string>{"other", result.value->credentials};
  const auto again = unlinkd::config::parse_manifest(input, std::string(file_name), options, today);
  UNLINKD_FUZZ_CHECK(again.value.has_value());
  UNLINKD_FUZZ_CHECK(again.value->accounts.size() == result.value->accounts.size());
  UNLINKD_FUZZ_CHECK(again.value->batch == result.value->batch);
  return 0;
}
