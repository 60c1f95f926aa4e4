// The files under examples/ are what operators copy: they must stay valid.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "config/credentials.hpp"
#include "config/daemon_config.hpp"
#include "config/manifest_parser.hpp"

namespace unlinkd::config {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string examples = UNLINKD_EXAMPLES;

TEST(Examples, DaemonConfigIsValidAndSpellsOutTheDefaults) {
  const auto path = examples + "/unlinkd.yaml";
  const auto result = parse_daemon_config(slurp(path), path);
  ASSERT_TRUE(result.problems.empty()) << result.problems.to_text();
  const daemon_config defaults;
  EXPECT_EQ(result.value.state_dir, defaults.state_dir);
  EXPECT_EQ(result.value.inbox_dir, defaults.inbox_dir);
  EXPECT_EQ(result.value.socket, defaults.socket);
  EXPECT_EQ(result.value.socket_group, defaults.socket_group);
  EXPECT_EQ(result.value.admin_group, defaults.admin_group);
  EXPECT_EQ(result.value.credentials_file, defaults.credentials_file);
  EXPECT_EQ(result.value.api_base_url, defaults.api_base_url);
  EXPECT_EQ(result.value.concurrency, defaults.concurrency);
  EXPECT_EQ(result.value.max_accounts_per_manifest, defaults.max_accounts_per_manifest);
  EXPECT_EQ(result.value.max_manifest_bytes, defaults.max_manifest_bytes);
  EXPECT_EQ(result.value.retry.max_attempts, defaults.retry.max_attempts);
  EXPECT_EQ(result.value.retry.initial_backoff, defaults.retry.initial_backoff);
  EXPECT_EQ(result.value.retry.max_backoff, defaults.retry.max_backoff);
  EXPECT_EQ(result.value.drain_timeout, defaults.drain_timeout);
  EXPECT_EQ(result.value.metrics_listen, defaults.metrics_listen);
  EXPECT_EQ(result.value.webhook_secret_file, defaults.webhook_secret_file);
  EXPECT_EQ(result.value.level, defaults.level);
}

TEST(Examples, CredentialsExampleIsValid) {
  const auto path = examples + "/credentials.example.yaml";
  const auto result = parse_credentials(slurp(path), path);
  ASSERT_TRUE(result.problems.empty()) << result.problems.to_text();
  ASSERT_EQ(result.value.profiles.size(), 2U);
  const auto* acme = result.value.find("acme-bc");
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(acme->limits, limits_of(api_tier::basic));
  EXPECT_EQ(acme->base_url, "http://127.0.0.1:8080");
  const auto* globex = result.value.find("globex-bc");
  ASSERT_NE(globex, nullptr);
  EXPECT_EQ(globex->limits, limits_of(api_tier::advanced));
}

TEST(Examples, ValidManifestParsesAndBrokenOneDoesNot) {
  const std::chrono::year_month_day today{std::chrono::year{2026}, std::chrono::November,
                                          std::chrono::day{26}};
  const auto good = examples + "/manifests/acme-offboarding.yaml";
  const auto ok = parse_manifest(slurp(good), good, {}, today);
  ASSERT_TRUE(ok.value.has_value()) << ok.problems.to_text();
  EXPECT_EQ(ok.value->accounts.size(), 4U);
  const auto bad = examples + "/manifests/broken-offboarding.yaml";
  const auto broken = parse_manifest(slurp(bad), bad, {}, today);
  EXPECT_FALSE(broken.value.has_value());
  EXPECT_GE(broken.problems.items().size(), 8U);
}

}  // namespace
}  // namespace unlinkd::config
