// The daemon's config file (PRODUCT.md §6, docs/CONFIG.md).

#include "config/daemon_config.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace {

using namespace unlinkd::config;
using namespace std::chrono_literals;

daemon_config_result parse(const std::string& text) { return parse_daemon_config(text, "d.yaml"); }

// The one problem of a config expected to have exactly one, formatted.
std::string only_problem(const daemon_config_result& r) {
  EXPECT_EQ(r.problems.items().size(), 1U) << r.problems.to_text();
  return r.problems.items().empty() ? std::string() : format(r.problems.items()[0]);
}

void expect_defaults(const daemon_config& c) {
  EXPECT_EQ(c.state_dir, "/var/lib/unlinkd");
  EXPECT_EQ(c.inbox_dir, "/var/lib/unlinkd/inbox");
  EXPECT_EQ(c.socket, "/run/unlinkd/unlinkd.sock");
  EXPECT_EQ(c.socket_group, "unlinkd");
  EXPECT_EQ(c.admin_group, "unlinkd-admin");
  EXPECT_EQ(c.credentials_file, "/etc/unlinkd/credentials.yaml");
  EXPECT_EQ(c.api_base_url, "https://business-api.tiktok.com");
  EXPECT_EQ(c.concurrency, 64U);
  EXPECT_EQ(c.max_accounts_per_manifest, 100'000U);
  EXPECT_EQ(c.max_manifest_bytes, 16U * 1024U * 1024U);
  EXPECT_EQ(c.retry.max_attempts, 8U);
  EXPECT_EQ(c.retry.initial_backoff, 2s);
  EXPECT_EQ(c.retry.max_backoff, 10min);
  EXPECT_EQ(c.drain_timeout, 30s);
  EXPECT_EQ(c.metrics_listen, "");
  EXPECT_EQ(c.webhook_secret_file, "");
  EXPECT_EQ(c.level, log_level::info);
}

TEST(daemon_config, an_empty_file_means_every_default) {
  for (const char* text : {"", "\n", "# all defaults\n", "---\n", "~\n"}) {
    const auto r = parse(text);
    EXPECT_TRUE(r.problems.empty()) << r.problems.to_text();
    expect_defaults(r.value);
  }
}

TEST(daemon_config, every_key_is_read) {
  const auto r = parse(
      "state_dir: /srv/unlinkd\n"
      "inbox_dir: /srv/unlinkd/drop\n"
      "socket: /run/u/u.sock\n"
      "socket_group: ops\n"
      "admin_group: ops-admin\n"
      "credentials_file: /etc/u/creds.yaml\n"
      "api_base_url: http://127.0.0.1:8080\n"
      "concurrency: 128\n"
      "max_accounts_per_manifest: 500\n"
      "max_manifest_bytes: 64KiB\n"
      "retry:\n"
      "  max_attempts: 3\n"
      "  initial_backoff: 500ms\n"
      "  max_backoff: 1m\n"
      "drain_timeout: 0s\n"
      "metrics_listen: 127.0.0.1:9464\n"
      "webhook_secret_file: /etc/u/hook.key\n"
      "log_level: debug\n");
  ASSERT_TRUE(r.problems.empty()) << r.problems.to_text();
  const daemon_config& c = r.value;
  EXPECT_EQ(c.state_dir, "/srv/unlinkd");
  EXPECT_EQ(c.inbox_dir, "/srv/unlinkd/drop");
  EXPECT_EQ(c.socket, "/run/u/u.sock");
  EXPECT_EQ(c.socket_group, "ops");
  EXPECT_EQ(c.admin_group, "ops-admin");
  EXPECT_EQ(c.credentials_file, "/etc/u/creds.yaml");
  EXPECT_EQ(c.api_base_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c.concurrency, 128U);
  EXPECT_EQ(c.max_accounts_per_manifest, 500U);
  EXPECT_EQ(c.max_manifest_bytes, 64U * 1024U);
  EXPECT_EQ(c.retry.max_attempts, 3U);
  EXPECT_EQ(c.retry.initial_backoff, 500ms);
  EXPECT_EQ(c.retry.max_backoff, 1min);
  EXPECT_EQ(c.drain_timeout, 0ms);
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:9464");
  EXPECT_EQ(c.webhook_secret_file, "/etc/u/hook.key");
  EXPECT_EQ(c.level, log_level::debug);
}

TEST(daemon_config, inbox_dir_follows_state_dir) {
  const auto only_state = parse("state_dir: /srv/unlinkd\n");
  ASSERT_TRUE(only_state.problems.empty()) << only_state.problems.to_text();
  EXPECT_EQ(only_state.value.inbox_dir, "/srv/unlinkd/inbox");

  // The order of the keys does not matter.
  const auto inbox_first = parse("inbox_dir: /srv/in\nstate_dir: /srv/unlinkd\n");
  ASSERT_TRUE(inbox_first.problems.empty());
  EXPECT_EQ(inbox_first.value.inbox_dir, "/srv/in");

  const auto only_inbox = parse("inbox_dir: /var/lib/unlinkd/in\n");
  ASSERT_TRUE(only_inbox.problems.empty());
  EXPECT_EQ(only_inbox.value.state_dir, "/var/lib/unlinkd");
  EXPECT_EQ(only_inbox.value.inbox_dir, "/var/lib/unlinkd/in");
}

TEST(daemon_config, empty_strings_turn_optional_features_off) {
  const auto r = parse("metrics_listen: \"\"\nwebhook_secret_file: ''\n");
  ASSERT_TRUE(r.problems.empty()) << r.problems.to_text();
  EXPECT_EQ(r.value.metrics_listen, "");
  EXPECT_EQ(r.value.webhook_secret_file, "");
}

TEST(daemon_config, log_levels) {
  for (const auto level : {log_level::trace, log_level::debug, log_level::info, log_level::warn,
                           log_level::error, log_level::critical, log_level::off}) {
    const auto r = parse("log_level: " + std::string(to_string(level)) + "\n");
    ASSERT_TRUE(r.problems.empty()) << r.problems.to_text();
    EXPECT_EQ(r.value.level, level);
  }
}

TEST(daemon_config, relative_paths_are_refused) {
  EXPECT_EQ(only_problem(parse("state_dir: var/lib/unlinkd\n")),
            "d.yaml:1:12: error: state_dir: 'var/lib/unlinkd' is not an absolute path; start it "
            "with /");
  EXPECT_EQ(only_problem(parse("inbox_dir: ./inbox\n")),
            "d.yaml:1:12: error: inbox_dir: './inbox' is not an absolute path; start it with /");
  EXPECT_EQ(only_problem(parse("socket: unlinkd.sock\n")),
            "d.yaml:1:9: error: socket: 'unlinkd.sock' is not an absolute path; start it with /");
  EXPECT_EQ(only_problem(parse("credentials_file: ~/creds.yaml\n")),
            "d.yaml:1:19: error: credentials_file: '~/creds.yaml' is not an absolute path; start "
            "it with /");
  EXPECT_EQ(only_problem(parse("webhook_secret_file: hook.key\n")),
            "d.yaml:1:22: error: webhook_secret_file: 'hook.key' is not an absolute path; start "
            "it with /");
}

TEST(daemon_config, a_path_key_without_value_is_refused_at_the_key) {
  EXPECT_EQ(only_problem(parse("log_level: info\nstate_dir:\n")),
            "d.yaml:2:1: error: state_dir: has no value; write an absolute path such as "
            "/var/lib/unlinkd or remove the key");
}

TEST(daemon_config, a_bad_log_level_gets_a_suggestion) {
  EXPECT_EQ(only_problem(parse("log_level: inf\n")),
            "d.yaml:1:12: error: log_level: 'inf' is not one of trace, debug, info, warn, error, "
            "critical, off (did you mean info?)");
  EXPECT_EQ(only_problem(parse("log_level: WARN\n")),
            "d.yaml:1:12: error: log_level: 'WARN' is not one of trace, debug, info, warn, error, "
            "critical, off (did you mean warn?)");
  EXPECT_EQ(only_problem(parse("log_level: verbose\n")),
            "d.yaml:1:12: error: log_level: 'verbose' is not one of trace, debug, info, warn, "
            "error, critical, off");
}

TEST(daemon_config, metrics_listen_is_loopback_only) {
  EXPECT_EQ(only_problem(parse("metrics_listen: 0.0.0.0:9464\n")),
            "d.yaml:1:17: error: metrics_listen: '0.0.0.0:9464' is not a loopback HOST:PORT; "
            "metrics are served on loopback only, e.g. 127.0.0.1:9464 (\"\" turns them off)");
  EXPECT_NE(only_problem(parse("metrics_listen: 9464\n")).find("'9464' is not a loopback"),
            std::string::npos);
  EXPECT_NE(only_problem(parse("metrics_listen: \"[::]:9464\"\n")).find("is not a loopback"),
            std::string::npos);
  for (const char* ok : {"127.0.0.1:9464", "localhost:9464", "\"[::1]:9464\""}) {
    const auto r = parse(std::string("metrics_listen: ") + ok + "\n");
    EXPECT_TRUE(r.problems.empty()) << ok << ": " << r.problems.to_text();
  }
}

TEST(daemon_config, max_manifest_bytes_takes_units) {
  const auto bytes = [](const char* text) {
    const auto r = parse(std::string("max_manifest_bytes: ") + text + "\n");
    EXPECT_TRUE(r.problems.empty()) << text << ": " << r.problems.to_text();
    return r.value.max_manifest_bytes;
  };
  EXPECT_EQ(bytes("16MiB"), 16U << 20U);
  EXPECT_EQ(bytes("512KiB"), 512U << 10U);
  EXPECT_EQ(bytes("1GiB"), 1U << 30U);
  EXPECT_EQ(bytes("1024"), 1024U);
  EXPECT_EQ(bytes("2048B"), 2048U);
  EXPECT_EQ(bytes("4294967295"), 0xFFFF'FFFFU);  // positions are 32-bit offsets
}

TEST(daemon_config, max_manifest_bytes_refuses_bad_sizes) {
  EXPECT_EQ(only_problem(parse("max_manifest_bytes: 16MB\n")),
            "d.yaml:1:21: error: max_manifest_bytes: '16MB' is not a size; write a whole number of "
            "bytes or one with B, KiB, MiB or GiB (e.g. 16MiB)");
  EXPECT_EQ(only_problem(parse("max_manifest_bytes: 1023\n")),
            "d.yaml:1:21: error: max_manifest_bytes: '1023' is out of range; use 1024 to "
            "4294967295 bytes");
  EXPECT_NE(only_problem(parse("max_manifest_bytes: 4GiB\n")).find("'4GiB' is out of range"),
            std::string::npos);
  EXPECT_NE(only_problem(parse("max_manifest_bytes: [16MiB]\n"))
                .find("max_manifest_bytes: must be a size such as 16MiB, not a list"),
            std::string::npos);
}

TEST(daemon_config, numbers_and_durations_are_checked) {
  EXPECT_EQ(only_problem(parse("concurrency: 0\n")),
            "d.yaml:1:14: error: concurrency: '0' is not a whole number from 1 to 100000 (without "
            "quotes)");
  EXPECT_NE(only_problem(parse("concurrency: \"64\"\n")).find("(without quotes)"),
            std::string::npos);
  EXPECT_NE(only_problem(parse("max_accounts_per_manifest: 10000001\n")).find("from 1 to 10000000"),
            std::string::npos);
  EXPECT_EQ(only_problem(parse("drain_timeout: 2h\n")),
            "d.yaml:1:16: error: drain_timeout: '2h' is out of range; use 0s to 1h");
  EXPECT_EQ(only_problem(parse("retry:\n  max_attempts: 101\n")),
            "d.yaml:2:17: error: retry.max_attempts: '101' is not a whole number from 1 to 100 "
            "(without quotes)");
}

TEST(daemon_config, retry_max_backoff_must_not_be_below_initial) {
  EXPECT_EQ(only_problem(parse("retry:\n  initial_backoff: 30s\n  max_backoff: 10s\n")),
            "d.yaml:3:16: error: retry.max_backoff: is shorter than retry.initial_backoff; the "
            "backoff grows from the initial value up to this cap");
  // Against the default cap of 10m, reported at the retry: mapping.
  const auto r = parse("retry: {initial_backoff: 20m}\n");
  EXPECT_EQ(only_problem(r),
            "d.yaml:1:8: error: retry.max_backoff: is shorter than retry.initial_backoff; the "
            "backoff grows from the initial value up to this cap");
}

TEST(daemon_config, problems_are_in_reading_order) {
  // The backoff order is checked after the whole retry: mapping is read,
  // but reported where max_backoff is, before the later max_attempts.
  const auto r = parse("retry: {max_backoff: 1s, initial_backoff: 5s, max_attempts: 0}\n");
  const auto& items = r.problems.items();
  ASSERT_EQ(items.size(), 2U) << r.problems.to_text();
  EXPECT_EQ(items[0].column, 22U);
  EXPECT_NE(items[0].message.find("retry.max_backoff: is shorter"), std::string::npos);
  EXPECT_EQ(items[1].column, 61U);
  EXPECT_NE(items[1].message.find("retry.max_attempts: '0'"), std::string::npos);
}

TEST(daemon_config, group_names_and_urls_are_checked) {
  EXPECT_EQ(only_problem(parse("socket_group: Ops\n")),
            "d.yaml:1:15: error: socket_group: 'Ops' is not a group name (lower-case letters, "
            "digits, '_' and '-', starting with a letter)");
  EXPECT_NE(only_problem(parse("admin_group: " + std::string(33, 'a') + "\n"))
                .find("admin_group: is 33 characters long; the limit is 32"),
            std::string::npos);
  EXPECT_EQ(only_problem(parse("api_base_url: http://business-api.tiktok.com\n")),
            "d.yaml:1:15: error: api_base_url: is not a URL unlinkd can use; write "
            "https://HOST[:PORT]/PATH (http:// only to 127.0.0.1, [::1] or localhost), without "
            "user:password@");
}

TEST(daemon_config, unknown_keys_get_a_suggestion) {
  EXPECT_EQ(only_problem(parse("state_dri: /srv\n")),
            "d.yaml:1:1: error: unknown key 'state_dri'; did you mean state_dir?");
  EXPECT_EQ(only_problem(parse("retry:\n  max_backof: 1m\n")),
            "d.yaml:2:3: error: retry: unknown key 'max_backof'; did you mean max_backoff?");
  EXPECT_NE(only_problem(parse("colour: blue\n")).find("expected one of state_dir, inbox_dir"),
            std::string::npos);
}

TEST(daemon_config, structure_and_yaml_problems) {
  EXPECT_EQ(only_problem(parse("- state_dir: /srv\n")),
            "d.yaml:1:1: error: (top level): must be a mapping of keys to values, not a list");
  EXPECT_EQ(only_problem(parse("log_level: info\nlog_level: debug\n")),
            "d.yaml:2:1: error: the key 'log_level' is repeated (first set on line 1); a mapping "
            "may set each key once");
  EXPECT_NE(only_problem(parse("retry: [1]\n")).find("retry: must be a mapping"),
            std::string::npos);
  EXPECT_NE(only_problem(parse("state_dir: &s /srv\n")).find("anchors (&s) are not allowed"),
            std::string::npos);
}

TEST(daemon_config, the_file_is_at_most_1_mib) {
  std::string text = "# padding\n";
  text += "#" + std::string((1U << 20U) - text.size() - 2, 'x') + "\n";
  ASSERT_EQ(text.size(), 1U << 20U);
  EXPECT_TRUE(parse(text).problems.empty());
  text += "\n";
  EXPECT_EQ(only_problem(parse(text)),
            "d.yaml: error: the file is 1048577 bytes, over the limit of 1048576 bytes");
}

class daemon_config_file : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "unlinkd-config-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(daemon_config_file, loads_a_file) {
  const auto path = write("unlinkd.yaml", "concurrency: 8\n");
  const auto r = load_daemon_config(path);
  ASSERT_TRUE(r.problems.empty()) << r.problems.to_text();
  EXPECT_EQ(r.value.concurrency, 8U);
}

TEST_F(daemon_config_file, problems_name_the_file) {
  const auto path = write("unlinkd.yaml", "concurrency: eight\n");
  const auto r = load_daemon_config(path);
  ASSERT_EQ(r.problems.items().size(), 1U);
  EXPECT_EQ(format(r.problems.items()[0]),
            path +
                ":1:14: error: concurrency: 'eight' is not a whole number from 1 to 100000 "
                "(without quotes)");
}

TEST_F(daemon_config_file, a_missing_file_or_a_directory_is_a_whole_file_problem) {
  const auto missing = load_daemon_config((dir_ / "absent.yaml").string());
  ASSERT_EQ(missing.problems.items().size(), 1U);
  EXPECT_EQ(format(missing.problems.items()[0]),
            (dir_ / "absent.yaml").string() + ": error: cannot open it: No such file or directory");
  const auto directory = load_daemon_config(dir_.string());
  ASSERT_EQ(directory.problems.items().size(), 1U);
  EXPECT_EQ(directory.problems.items()[0].message, "it is a directory, not a file");
}

}  // namespace
