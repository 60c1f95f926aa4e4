// libFuzzer target for the daemon config and the credentials file: the first
// input byte chooses the parser (even: parse_daemon_config, odd:
// parse_credentials; seeds start with "d\n" or "c\n"), the rest is the file.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/credentials.hpp"
#include "config/daemon_config.hpp"
#include "config/scalars.hpp"
#include "tests/fuzz/fuzz_checks.hpp"

namespace {

using namespace std::chrono_literals;

constexpr std::string_view file_name = "fuzz.yaml";

void fuzz_daemon_config(std::string_view input) {
  const auto result = unlinkd::config::parse_daemon_config(input, std::string(file_name));
  unlinkd::fuzz::check_diagnostics(result.problems, file_name, input);
  if (!result.problems.empty()) {
    return;
  }
  const auto& c = result.value;
  for (const auto* path : {&c.state_dir, &c.inbox_dir, &c.socket, &c.credentials_file}) {
    UNLINKD_FUZZ_CHECK(path->starts_with('/'));
  }
  UNLINKD_FUZZ_CHECK(c.webhook_secret_file.empty() || c.webhook_secret_file.starts_with('/'));
  UNLINKD_FUZZ_CHECK(unlinkd::config::is_acceptable_url(c.api_base_url));
  UNLINKD_FUZZ_CHECK(c.concurrency >= 1 && c.concurrency <= 100'000);
  UNLINKD_FUZZ_CHECK(c.max_accounts_per_manifest >= 1 && c.max_accounts_per_manifest <= 10'000'000);
  UNLINKD_FUZZ_CHECK(c.max_manifest_bytes >= 1024 && c.max_manifest_bytes <= 0xFFFF'FFFFULL);
  UNLINKD_FUZZ_CHECK(c.retry.max_attempts >= 1 && c.retry.max_attempts <= 100);
  UNLINKD_FUZZ_CHECK(c.retry.initial_backoff <= c.retry.max_backoff);
  UNLINKD_FUZZ_CHECK(c.drain_timeout >= 0ms && c.drain_timeout <= 1h);
  UNLINKD_FUZZ_CHECK(c.metrics_listen.empty() ||
                     unlinkd::config::is_loopback_endpoint(c.metrics_listen));
  UNLINKD_FUZZ_CHECK(!unlinkd::config::to_string(c.level).empty());
}

void fuzz_credentials(std::string_view input) {
  const auto result = unlinkd::config::parse_credentials(input, std::string(file_name));
  unlinkd::fuzz::check_diagnostics(result.problems, file_name, input);
  // Profiles read without problems are kept even when others had some.
  const auto& profiles = result.value.profiles;
  for (std::size_t i = 0; i < profiles.size(); ++i) {
    const auto& p = profiles[i];
    UNLINKD_FUZZ_CHECK(unlinkd::config::is_valid_profile_name(p.name));
    UNLINKD_FUZZ_CHECK(unlinkd::config::is_valid_id(p.app_id));
    UNLINKD_FUZZ_CHECK(!p.app_secret.empty() && p.app_secret.reveal().size() <= 4096);
    UNLINKD_FUZZ_CHECK(!p.access_token.empty() && p.access_token.reveal().size() <= 4096);
    UNLINKD_FUZZ_CHECK(p.limits.qps >= 1 && p.limits.qps <= p.limits.qpm &&
                       p.limits.qpm <= p.limits.qpd);
    UNLINKD_FUZZ_CHECK(p.base_url.empty() || unlinkd::config::is_acceptable_url(p.base_url));
    // A repeated profile name is a repeated key, which is a problem.
    if (result.problems.empty()) {
      for (std::size_t j = 0; j < i; ++j) {
        UNLINKD_FUZZ_CHECK(profiles[j].name != p.name);
      }
    }
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1U) == 0) {
    fuzz_daemon_config(input);
  } else {
    fuzz_credentials(input);
  }
  return 0;
}
