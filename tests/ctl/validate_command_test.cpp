// `unlinkctl validate`, run in-process on the examples and on files made for
// each case: exit codes, the compiler-style lines, the JSON document.

#include "ctl/validate_command.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/manifest_identity.hpp"
#include "ctl/exit_codes.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using unlinkd::ctl::run_validate;

constexpr std::chrono::year_month_day today{std::chrono::year{2026}, std::chrono::November,
                                            std::chrono::day{26}};

const std::string examples = UNLINKD_EXAMPLES;
const std::string valid_example = examples + "/manifests/acme-offboarding.yaml";
const std::string broken_example = examples + "/manifests/broken-offboarding.yaml";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct run_result {
  int status = -1;
  std::string out;
  std::string err;
};

run_result validate(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  run_result r;
  r.status = run_validate(args, out, err, today);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

class validate_command : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "unlinkctl-validate-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text, mode_t mode = 0644) {
    auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  std::string credentials_with(const std::string& profile_name, mode_t mode = 0600) {
    return write("credentials.yaml",
                 "profiles:\n  " + profile_name +
                     ":\n    app_id: \"7000000000000000001\"\n    secret: s\n    "
                     "access_token: t\n",
                 mode);
  }

  fs::path dir_;
};

// ---- the examples -----------------------------------------------------------

TEST_F(validate_command, a_valid_manifest_prints_a_summary_and_exits_0) {
  const auto r = validate({valid_example});
  EXPECT_EQ(r.status, unlinkd::ctl::exit_ok);
  EXPECT_EQ(r.err, "");
  const std::string sha = unlinkd::config::sha256_hex(slurp(valid_example));
  EXPECT_EQ(r.out, valid_example +
                       ": ok: batch acme-offboarding-2026-11, action unlink, 4 accounts, "
                       "credentials acme-bc\n"
                       "  advertiser: 2 (member_access 1, partner_share 1)\n"
                       "  tiktok_account: 2 (bc_asset 1, tiktok_binding 1)\n"
                       "  sha256 " +
                       sha + "\n");
}

TEST_F(validate_command, an_invalid_manifest_prints_positioned_errors_and_exits_2) {
  const auto r = validate({broken_example});
  EXPECT_EQ(r.status, unlinkd::ctl::exit_invalid_manifest);
  EXPECT_EQ(r.out, "");
  const auto lines = lines_of(r.err);
  const std::string f = broken_example;
  const std::vector<std::string> expected = {
      f + ":4:8: error: batch: 'Acme Offboarding' is not a batch name",
      f + ":7:9: error: action: disable is not allowed",
      f + ":8:10: error: dry_run: 'yes' is not a boolean",
      f + ":11:20: error: defaults.verify_deadline: '30 minutes' is not a duration",
      f + ":15:5: error: accounts[0] (7123456789012345678): unlink: bc_asset applies to "
          "tiktok_account accounts",
      f + ":18:13: error: accounts[1].unlink: switch_to_personal is not allowed",
      f + ":19:9: error: accounts[2].id: account 7123456789012345678 is already listed at line "
          "13",
      f + ":22:5: error: accounts[2]: unknown key 'lable'; did you mean label?",
  };
  ASSERT_EQ(lines.size(), expected.size()) << r.err;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(lines[i].rfind(expected[i], 0), 0U) << "line " << i << ": " << lines[i];
  }
}

TEST_F(validate_command, json_output_has_the_documented_fields) {
  const auto r = validate({"--json", valid_example, broken_example});
  EXPECT_EQ(r.status, unlinkd::ctl::exit_invalid_manifest);
  EXPECT_EQ(r.err, "") << "with --json, problems go in the document";
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.back(), '\n');
  json::error_code ec;
  const json::value doc = json::parse(r.out, ec);
  ASSERT_FALSE(ec) << ec.message() << "\n" << r.out;
  const auto& top = doc.as_object();
  ASSERT_TRUE(top.contains("files"));
  ASSERT_TRUE(top.contains("notes"));
  EXPECT_TRUE(top.at("notes").as_array().empty());
  const auto& files = top.at("files").as_array();
  ASSERT_EQ(files.size(), 2U);

  const auto& ok = files[0].as_object();
  EXPECT_EQ(ok.at("file").as_string(), valid_example);
  EXPECT_TRUE(ok.at("valid").as_bool());
  EXPECT_EQ(ok.at("sha256").as_string(), unlinkd::config::sha256_hex(slurp(valid_example)));
  EXPECT_EQ(ok.at("batch").as_string(), "acme-offboarding-2026-11");
  EXPECT_EQ(ok.at("action").as_string(), "unlink");
  EXPECT_FALSE(ok.at("dry_run").as_bool());
  EXPECT_EQ(ok.at("credentials").as_string(), "acme-bc");
  const auto& accounts = ok.at("accounts").as_object();
  EXPECT_EQ(accounts.at("total").to_number<int>(), 4);
  EXPECT_EQ(json::serialize(accounts.at("by_type")), R"({"advertiser":2,"tiktok_account":2})");
  EXPECT_EQ(json::serialize(accounts.at("by_mode")),
            R"({"bc_asset":1,"member_access":1,"partner_share":1,"tiktok_binding":1})");
  EXPECT_TRUE(ok.at("problems").as_array().empty());
  EXPECT_EQ(ok.at("problems_not_shown").to_number<int>(), 0);

  const auto& bad = files[1].as_object();
  EXPECT_EQ(bad.at("file").as_string(), broken_example);
  EXPECT_FALSE(bad.at("valid").as_bool());
  EXPECT_EQ(bad.at("sha256").as_string().size(), 64U);
  EXPECT_FALSE(bad.contains("batch"));
  EXPECT_FALSE(bad.contains("accounts"));
  const auto& problems = bad.at("problems").as_array();
  ASSERT_EQ(problems.size(), 8U);
  const auto& first = problems[0].as_object();
  EXPECT_EQ(first.at("line").to_number<int>(), 4);
  EXPECT_EQ(first.at("column").to_number<int>(), 8);
  EXPECT_EQ(std::string(first.at("message").as_string()).rfind("batch: 'Acme Offboarding'", 0), 0U);
  EXPECT_EQ(bad.at("problems_not_shown").to_number<int>(), 0);
}

TEST_F(validate_command, json_output_for_an_unreadable_file) {
  const auto missing = (dir_ / "absent.yaml").string();
  const auto r = validate({"--json", missing});
  EXPECT_EQ(r.status, unlinkd::ctl::exit_usage);
  const json::value doc = json::parse(r.out);
  const auto& file = doc.at("files").at(0).as_object();
  EXPECT_FALSE(file.at("valid").as_bool());
  EXPECT_TRUE(file.at("sha256").is_null());
  const auto& problem = file.at("problems").at(0).as_object();
  EXPECT_TRUE(problem.at("line").is_null());
  EXPECT_TRUE(problem.at("column").is_null());
  EXPECT_EQ(problem.at("message").as_string(), "cannot open it: No such file or directory");
}

TEST_F(validate_command, json_counts_the_problems_not_shown) {
  std::string text =
      "version: 1\nbatch: many\ncredentials: acme-bc\nbusiness_center_id: \"1\"\naccounts:\n";
  for (int i = 0; i < 150; ++i) {
    text += "  - {id: \"" + std::to_string(1000 + i) + "\", type: advertiser, unlink: nope}\n";
  }
  const auto path = write("many.yaml", text);
  const auto r = validate({"--json", path});
  EXPECT_EQ(r.status, unlinkd::ctl::exit_invalid_manifest);
  const json::value doc = json::parse(r.out);
  const auto& file = doc.at("files").at(0).as_object();
  EXPECT_EQ(file.at("problems").as_array().size(), 100U);
  EXPECT_EQ(file.at("problems_not_shown").to_number<int>(), 50);

  const auto text_run = validate({path});
  const auto lines = lines_of(text_run.err);
  ASSERT_EQ(lines.size(), 101U);
  EXPECT_EQ(lines.back(),
            path + ": error: 50 more problems not shown; fix the ones above and validate again");
}

// ---- credentials and config --------------------------------------------------

TEST_F(validate_command, an_unknown_credentials_profile_is_invalid) {
  const auto creds = credentials_with("globex");
  const auto r = validate({"--credentials", creds, valid_example});
  EXPECT_EQ(r.status, unlinkd::ctl::exit_invalid_manifest);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, valid_example +
                       ":6:14: error: credentials: no profile 'acme-bc' in the credentials file; "
                       "it has globex\n");
}

TEST_F(validate_command, a_known_credentials_profile_is_valid) {
  const auto creds = credentials_with("acme-bc");
  const auto r = validate({valid_example, "--credentials", creds});
  EXPECT_EQ(r.status, unlinkd::ctl::exit_ok) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST_F(validate_command, an_unusable_credentials_file_is_exit_1_with_a_note) {
  const auto creds = credentials_with("acme-bc", 0644);
  const auto r = validate({"--credentials", creds, valid_example});
  EXPECT_EQ(r.status, unlinkd::ctl::exit_usage);
  EXPECT_NE(r.err.find(creds + ": error: has mode 0644"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("note: " + creds +
                       " has problems, so credential profile names were not checked\n"),
            std::string::npos)
      << r.err;
}

TEST_F(validate_command, a_credentials_file_that_cannot_be_read_is_skipped_with_a_note) {
  const auto absent = (dir_ / "absent.yaml").string();
  const auto r = validate({"--credentials", absent, valid_example});
  EXPECT_EQ(r.status, unlinkd::ctl::exit_ok);
  EXPECT_EQ(r.err,
            "note: cannot read " + absent + ", so credential profile names were not checked\n");
  const auto j = validate({"--json", "--credentials", absent, valid_example});
  EXPECT_EQ(json::serialize(json::parse(j.out).at("notes")),
            "[\"cannot read " + absent + ", so credential profile names were not checked\"]");
}

TEST_F(validate_command, config_limits_apply) {
  const auto small = write("small.yaml", "max_manifest_bytes: 1KiB\n");
  const auto r = validate({"--config", small, valid_example});
  EXPECT_EQ(r.status, unlinkd::ctl::exit_invalid_manifest);
  EXPECT_EQ(r.err, valid_example +
                       ": error: the file is 1077 bytes, over the limit of 1024 bytes "
                       "(max_manifest_bytes); split the accounts over several manifests\n");

  const auto few = write("few.yaml", "max_accounts_per_manifest: 3\n");
  const auto f = validate({"--config", few, valid_example});
  EXPECT_EQ(f.status, unlinkd::ctl::exit_invalid_manifest);
  EXPECT_NE(f.err.find(":38:5: error: accounts: more than 3 accounts (max_accounts_per_manifest)"),
            std::string::npos)
      << f.err;

  const auto absent = (dir_ / "absent.yaml").string();
  const auto a = validate({"--config", absent, valid_example});
  EXPECT_EQ(a.status, unlinkd::ctl::exit_usage);
  EXPECT_EQ(a.err, absent + ": error: cannot open it: No such file or directory\n");

  const auto bad = write("bad.yaml", "max_manifest_bytes: lots\n");
  const auto b = validate({"--config", bad, valid_example});
  EXPECT_EQ(b.status, unlinkd::ctl::exit_usage);
  EXPECT_EQ(b.out, "");
  EXPECT_EQ(b.err.rfind(bad + ":1:21: error: max_manifest_bytes: 'lots' is not a size", 0), 0U)
      << b.err;
}

// ---- files that are not manifests ----------------------------------------------

TEST_F(validate_command, a_missing_file_is_exit_1) {
  const auto missing = (dir_ / "absent.yaml").string();
  const auto r = validate({missing});
  EXPECT_EQ(r.status, unlinkd::ctl::exit_usage);
  EXPECT_EQ(r.err, missing + ": error: cannot open it: No such file or directory\n");
  // An unreadable file wins over an invalid one: the check was not complete.
  EXPECT_EQ(validate({broken_example, missing}).status, unlinkd::ctl::exit_usage);
  EXPECT_EQ(validate({valid_example, broken_example}).status, unlinkd::ctl::exit_invalid_manifest);
}

TEST_F(validate_command, a_directory_is_refused) {
  const auto r = validate({dir_.string()});
  EXPECT_EQ(r.status, unlinkd::ctl::exit_usage);
  EXPECT_EQ(r.err, dir_.string() + ": error: it is a directory, not a file\n");
}

TEST_F(validate_command, a_fifo_is_refused_without_waiting_for_a_writer) {
  const auto fifo = (dir_ / "manifest.yaml").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto pending = std::async(std::launch::async, [&] { return validate({fifo}); });
  if (pending.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "validate blocked on a FIFO";
    // Unblock it: a writer that opens and closes gives the reader EOF.
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) {
      ::close(fd);
    }
  }
  const auto r = pending.get();
  EXPECT_EQ(r.status, unlinkd::ctl::exit_usage);
  EXPECT_EQ(r.err, fifo +
                       ": error: it is not a regular file (a FIFO, socket or device); give a "
                       "plain file\n");
}

TEST_F(validate_command, a_file_named_like_an_option_after_double_dash) {
  const auto path = write("-m.yaml", slurp(valid_example));
  const auto cwd = fs::current_path();
  fs::current_path(dir_);
  const auto r = validate({"--", "-m.yaml"});
  fs::current_path(cwd);
  EXPECT_EQ(r.status, unlinkd::ctl::exit_ok) << r.err;
  EXPECT_EQ(r.out.rfind("-m.yaml: ok: batch acme-offboarding-2026-11", 0), 0U) << r.out;
}

// ---- usage --------------------------------------------------------------------

TEST_F(validate_command, usage_errors_exit_1) {
  const struct {
    std::vector<std::string> args;
    std::string err;
  } cases[] = {
      {{}, "unlinkctl validate: no manifest given; see unlinkctl validate --help\n"},
      {{"--json"}, "unlinkctl validate: no manifest given; see unlinkctl validate --help\n"},
      {{"--jsn", valid_example},
       "unlinkctl validate: unknown option '--jsn'; see unlinkctl validate --help\n"},
      {{valid_example, "--credentials"}, "unlinkctl validate: --credentials needs a FILE\n"},
      {{valid_example, "--config"}, "unlinkctl validate: --config needs a FILE\n"},
  };
  for (const auto& c : cases) {
    const auto r = validate(c.args);
    EXPECT_EQ(r.status, unlinkd::ctl::exit_usage);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, c.err);
  }
}

TEST_F(validate_command, help_exits_0) {
  for (const char* flag : {"--help", "-h"}) {
    const auto r = validate({flag});
    EXPECT_EQ(r.status, unlinkd::ctl::exit_ok);
    EXPECT_EQ(r.out, unlinkd::ctl::validate_help);
    EXPECT_EQ(r.err, "");
  }
  // Help wins over everything else on the line, even a missing file.
  EXPECT_EQ(validate({"/nonexistent.yaml", "--help"}).status, unlinkd::ctl::exit_ok);
  const std::string help = unlinkd::ctl::validate_help;
  EXPECT_EQ(help.rfind("usage: unlinkctl validate", 0), 0U);
  EXPECT_NE(help.find("\"problems_not_shown\""), std::string::npos);
}

}  // namespace
