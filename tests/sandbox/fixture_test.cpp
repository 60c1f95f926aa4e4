// --fixture FILE: a hand-written world. Unit tests of load_fixture (the
// example loads; each broken reference is reported at its line and column),
// then the real process serving a fixture and refusing a broken one.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/json.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/credentials.hpp"
#include "config/manifest_parser.hpp"
#include "sandbox/fixture_loader.hpp"
#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::test {
namespace {

using sandbox::load_fixture;

const std::string examples = UNLINKD_EXAMPLES;
const std::string example_fixture = examples + "/sandbox-fixture.yaml";
const std::string api = "/open_api/v1.3";

const std::string our_bc = "7000000000000000100";
const std::string partner_bc = "7000000000000000200";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string all_problems(const sandbox::fixture_result& r) { return r.problems.to_text(); }

// Lines 1-10: an app, a user, our BC with that user as admin, an ad account.
// Tests append sections from line 11 on.
const std::string base = R"(apps:
  - app_id: "7000000000000000001"
users:
  - user_id: "6900000000000000001"
business_centers:
  - bc_id: "7000000000000000100"
    roles:
      "6900000000000000001": ADMIN
advertisers:
  - advertiser_id: "7100000000000000001"
)";

// Exactly one problem, at `line`:`column`, whose message contains `text`.
void expect_one_problem(const std::string& yaml, std::uint32_t line, std::uint32_t column,
                        const std::string& text) {
  const auto r = load_fixture(yaml, "world.yaml");
  ASSERT_EQ(r.problems.items().size(), 1U) << all_problems(r);
  const auto& d = r.problems.items()[0];
  EXPECT_EQ(d.line, line) << all_problems(r);
  EXPECT_EQ(d.column, column) << all_problems(r);
  EXPECT_NE(d.message.find(text), std::string::npos) << all_problems(r);
  EXPECT_EQ(
      r.problems.to_text().rfind(
          "world.yaml:" + std::to_string(line) + ":" + std::to_string(column) + ": error: ", 0),
      0U)
      << all_problems(r);
}

TEST(fixture_loader, the_example_loads_with_every_relationship_and_its_defaults) {
  const auto r = sandbox::load_fixture_file(example_fixture);
  ASSERT_TRUE(r.problems.empty()) << all_problems(r);
  const auto& s = r.state;
  EXPECT_EQ(s.apps.size(), 2U);
  EXPECT_EQ(s.users.size(), 3U);
  ASSERT_EQ(s.tokens.size(), 2U);
  EXPECT_EQ(r.profiles, (std::vector<std::string>{"sandbox-admin", "sandbox-standard"}));
  ASSERT_EQ(s.business_centers.size(), 2U);
  EXPECT_EQ(s.business_centers[0].bc_id, our_bc);
  EXPECT_EQ(s.role_of(our_bc, s.tokens[0].user_id), sandbox::user_role::admin);
  EXPECT_EQ(s.role_of(our_bc, s.tokens[1].user_id), sandbox::user_role::standard);
  EXPECT_EQ(s.business_centers[1].currency, "USD");  // a default

  ASSERT_EQ(s.advertisers.size(), 4U);
  // The owner, unless written, is the BC the account is an OWNER_BC asset of.
  EXPECT_EQ(s.find_advertiser("7100000000000000001")->owner_bc_id, our_bc);
  EXPECT_EQ(s.find_advertiser("7100000000000000004")->owner_bc_id, partner_bc);
  EXPECT_EQ(s.find_advertiser("7100000000000000004")->create_time, 1712000000);
  EXPECT_EQ(s.find_advertiser("7100000000000000002")->status, "STATUS_ENABLE");

  ASSERT_EQ(s.assets.size(), 7U);
  std::set<sandbox::relation_type> relations;
  std::size_t tiktok_assets = 0;
  for (const auto& a : s.assets) {
    relations.insert(a.relation);
    tiktok_assets += a.type == sandbox::asset_type::tt_account ? 1 : 0;
  }
  EXPECT_EQ(relations.size(), 2U);  // OWNER_BC and OWNER_PARTNER
  EXPECT_EQ(tiktok_assets, 2U);
  ASSERT_EQ(s.partner_shares.size(), 1U);
  EXPECT_EQ(s.partner_shares[0].partner_id, partner_bc);
  EXPECT_EQ(s.partner_shares[0].type, sandbox::asset_type::advertiser);  // inferred
  ASSERT_EQ(s.member_accesses.size(), 1U);
  EXPECT_EQ(s.member_accesses[0].advertiser_role, "OPERATOR");
  ASSERT_EQ(s.bindings.size(), 1U);

  ASSERT_EQ(s.campaigns.size(), 4U);
  EXPECT_EQ(s.campaigns[0].budget, 100.0);
  EXPECT_EQ(s.campaigns[0].create_time, "2025-03-01 09:30:00");
  EXPECT_EQ(s.campaigns[0].modify_time, "2025-03-01 09:30:00");  // defaults to create_time
  EXPECT_EQ(s.campaigns[1].status, sandbox::operation_status::disable);
  EXPECT_EQ(s.campaigns[1].budget, 50.0);
  EXPECT_EQ(s.campaigns[2].budget_mode, "BUDGET_MODE_TOTAL");
  ASSERT_EQ(s.adgroups.size(), 2U);
  EXPECT_EQ(s.adgroups[1].advertiser_id, "7100000000000000002");  // from its campaign
  ASSERT_EQ(s.ads.size(), 2U);
  EXPECT_EQ(s.ads[0].campaign_id, "1700000000000000001");
  EXPECT_EQ(s.ads[1].status, sandbox::operation_status::del);
}

TEST(fixture_loader, one_business_center_is_a_whole_world) {
  const auto r = load_fixture("business_centers:\n  - bc_id: \"42\"\n", "tiny.yaml");
  ASSERT_TRUE(r.problems.empty()) << all_problems(r);
  ASSERT_EQ(r.state.business_centers.size(), 1U);
  EXPECT_EQ(r.state.business_centers[0].name, "Business Center 42");
  EXPECT_EQ(r.state.business_centers[0].timezone, "Etc/GMT");
  EXPECT_TRUE(load_fixture(base, "base.yaml").problems.empty());
}

TEST(fixture_loader, a_tokens_unknown_app_is_reported_at_its_value) {
  expect_one_problem(base + R"(tokens:
  - token: t1
    app_id: "7000000000000000009"
    user_id: "6900000000000000001"
)",
                     13, 13, "tokens[0].app_id: '7000000000000000009' is not an app");
}

TEST(fixture_loader, a_tokens_unknown_user_is_reported_at_its_value) {
  expect_one_problem(base + R"(tokens:
  - token: t1
    app_id: "7000000000000000001"
    user_id: "6900000000000000009"
)",
                     14, 14, "tokens[0].user_id: '6900000000000000009' is not a user");
}

TEST(fixture_loader, an_assets_unknown_business_center_is_reported_at_its_value) {
  expect_one_problem(base + R"(assets:
  - bc_id: "7000000000000000999"
    asset_id: "7100000000000000001"
)",
                     12, 12, "assets[0].bc_id: '7000000000000000999' is not a business center");
}

TEST(fixture_loader, a_shares_unknown_partner_is_reported_at_its_value) {
  expect_one_problem(base + R"(assets:
  - bc_id: "7000000000000000100"
    asset_id: "7100000000000000001"
partner_shares:
  - bc_id: "7000000000000000100"
    partner_id: "7000000000000000999"
    asset_id: "7100000000000000001"
)",
                     16, 17,
                     "partner_shares[0].partner_id: '7000000000000000999' is not a business "
                     "center");
}

TEST(fixture_loader, a_campaigns_unknown_ad_account_is_reported_at_its_value) {
  expect_one_problem(base + R"(campaigns:
  - campaign_id: "1700000000000000001"
    advertiser_id: "7100000000000000999"
)",
                     13, 20,
                     "campaigns[0].advertiser_id: '7100000000000000999' is not an ad account");
}

TEST(fixture_loader, a_repeated_id_is_reported_where_it_repeats) {
  expect_one_problem(base + "  - advertiser_id: \"7100000000000000001\"\n", 11, 20,
                     "advertisers[1].advertiser_id: '7100000000000000001' is already the ID of "
                     "an ad account (line 10)");
}

TEST(fixture_loader, an_unknown_section_is_reported_with_the_nearest_one) {
  expect_one_problem(base + "busines_centers: []\n", 11, 1,
                     "unknown key 'busines_centers'; did you mean business_centers?");
}

TEST(fixture_loader, a_business_center_is_not_its_own_partner) {
  expect_one_problem(base + R"(partner_shares:
  - bc_id: "7000000000000000100"
    partner_id: "7000000000000000100"
    asset_id: "7100000000000000001"
)",
                     13, 17, "is the sharing business center itself");
}

TEST(fixture_loader, relationships_stay_inside_their_business_center) {
  expect_one_problem(base + R"(member_accesses:
  - bc_id: "7000000000000000100"
    user_id: "6900000000000000001"
    asset_id: "7100000000000000001"
)",
                     14, 15,
                     "'7100000000000000001' is not an asset of business center "
                     "'7000000000000000100'");
}

TEST(fixture_loader, words_are_the_apis_own) {
  expect_one_problem(base + R"(assets:
  - bc_id: "7000000000000000100"
    asset_id: "7100000000000000001"
    relation_type: OWNER_PARTNR
)",
                     14, 20, "did you mean OWNER_PARTNER?");
  expect_one_problem(base + R"(tiktok_accounts:
  - tt_account_id: "7200000000000000001"
assets:
  - bc_id: "7000000000000000100"
    asset_id: "7200000000000000001"
    asset_type: ADVERTISER
)",
                     15, 15, "is not an ad account of this fixture");
}

TEST(fixture_loader, an_empty_or_missing_file_is_one_clear_problem) {
  const auto empty = load_fixture("# nothing yet\n", "empty.yaml");
  ASSERT_EQ(empty.problems.items().size(), 1U);
  EXPECT_NE(empty.problems.items()[0].message.find("needs at least business_centers"),
            std::string::npos);
  const auto missing = sandbox::load_fixture_file("/nonexistent/world.yaml");
  ASSERT_EQ(missing.problems.items().size(), 1U);
  EXPECT_EQ(missing.problems.to_text().rfind("/nonexistent/world.yaml: error: cannot open it", 0),
            0U);
}

// The real process on the example fixture.
TEST(fixture_process, serves_the_fixture_and_writes_its_credentials_and_manifest) {
  sandbox_process sandbox({"--fixture", example_fixture, "--credentials-out",
                           "{dir}/credentials.yaml", "--manifest-out", "{dir}/manifest.yaml",
                           "--no-limits"});
  http_client client(sandbox.port());

  const auto bcs = client.get(api + "/bc/get/", "fixture-admin").json();
  ASSERT_EQ(bcs.at("code").as_int64(), 0) << bcs;
  const auto& list = bcs.at("data").at("list").as_array();
  ASSERT_EQ(list.size(), 1U) << "the admin is a member of our BC only";
  EXPECT_EQ(list[0].at("bc_info").at("bc_id").as_string(), our_bc);
  EXPECT_EQ(list[0].at("bc_info").at("name").as_string(), "Agency Business Center");
  EXPECT_EQ(list[0].at("user_role").as_string(), "ADMIN");
  const auto standard = client.get(api + "/bc/get/", "fixture-standard").json();
  EXPECT_EQ(standard.at("data").at("list").at(0).at("user_role").as_string(), "STANDARD");

  const auto shared = client.get("/_sandbox/state?asset_id=7100000000000000001").json();
  ASSERT_EQ(shared.at("shared_with_partners").as_array().size(), 1U) << shared;
  EXPECT_EQ(shared.at("shared_with_partners").at(0).at("partner_id").as_string(), partner_bc);
  const auto theirs = client.get("/_sandbox/state?asset_id=7100000000000000004").json();
  bool partner_owned = false;
  for (const auto& in : theirs.at("in_business_centers").as_array()) {
    partner_owned = partner_owned || (in.at("bc_id").as_string() == our_bc &&
                                      in.at("relation_type").as_string() == "OWNER_PARTNER");
  }
  EXPECT_TRUE(partner_owned) << theirs;

  const auto creds = config::load_credentials(sandbox.dir() + "/credentials.yaml", {});
  ASSERT_TRUE(creds.problems.empty()) << creds.problems.to_text();
  ASSERT_EQ(creds.value.profiles.size(), 2U);
  ASSERT_NE(creds.value.find("sandbox-admin"), nullptr);
  EXPECT_EQ(creds.value.find("sandbox-admin")->access_token.reveal(), "fixture-admin");
  EXPECT_EQ(creds.value.find("sandbox-admin")->base_url,
            "http://127.0.0.1:" + std::to_string(sandbox.port()));

  config::manifest_options options;
  options.known_profiles.emplace();
  for (const auto& profile : creds.value.profiles) {
    options.known_profiles->push_back(profile.name);
  }
  const auto manifest_path = sandbox.dir() + "/manifest.yaml";
  const auto manifest =
      config::parse_manifest(slurp(manifest_path), manifest_path, options, config::utc_today());
  ASSERT_TRUE(manifest.value.has_value()) << manifest.problems.to_text();
  EXPECT_EQ(manifest.value->batch, "sandbox-fixture");
  std::set<config::unlink_mode> modes;
  for (const auto& a : manifest.value->accounts) {
    modes.insert(*a.mode);
  }
  EXPECT_EQ(manifest.value->accounts.size(), 4U) << "one per mode; the partner's is left out";
  EXPECT_EQ(modes.size(), 4U);
  EXPECT_EQ(sandbox.stop(), 0);
}

struct exit_result {
  int status = -1;  // the exit code; -1 when it did not exit by itself in time
  std::string out;
  std::string err;
};

// Runs the sandbox to its end, with a bound: killed after `limit`.
exit_result run_to_exit(const std::vector<std::string>& extra_args,
                        std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  std::vector<std::string> args{UNLINKD_SANDBOX_BIN, "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe failed";
    return {};
  }
  const pid_t pid = spawn(args, out[1], err[1]);
  ::close(out[1]);
  ::close(err[1]);
  exit_result r;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::array<pollfd, 2> fds{{{out[0], POLLIN, 0}, {err[0], POLLIN, 0}}};
  std::array<std::string*, 2> sinks{&r.out, &r.err};
  std::size_t open_pipes = 2;
  while (open_pipes > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ::poll(fds.data(), fds.size(), static_cast<int>(left.count())) <= 0) {
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) {
        continue;
      }
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      status = -1;
      break;
    }
    ::usleep(10'000);
  }
  for (const auto& f : fds) {
    if (f.fd >= 0) {
      ::close(f.fd);
    }
  }
  r.status = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(fixture_process, a_broken_fixture_exits_1_with_its_problems_before_listening) {
  std::string dir = std::filesystem::temp_directory_path() / "sandbox-fixture-XXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  const std::string path = dir + "/broken.yaml";
  std::ofstream(path) << base << "campaigns:\n  - campaign_id: \"1700000000000000001\"\n"
                      << "    advertiser_id: \"7100000000000000999\"\n";
  const auto r = run_to_exit({"--fixture", path, "--port-file", dir + "/port"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find(path + ":13:20: error: campaigns[0].advertiser_id:"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("listening"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/port"));
  std::filesystem::remove_all(dir);
}

TEST(fixture_process, a_fixture_with_accounts_or_seed_is_refused) {
  for (const std::string option : {"--seed", "--accounts"}) {
    const auto r = run_to_exit({"--fixture", example_fixture, option, "3"});
    EXPECT_EQ(r.status, 1) << option;
    EXPECT_NE(r.err.find("--fixture cannot be combined with --accounts or --seed"),
              std::string::npos)
        << r.err;
  }
  const auto missing = run_to_exit({"--fixture", "/nonexistent/world.yaml"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("/nonexistent/world.yaml: error: cannot open it"), std::string::npos)
      << missing.err;
}

}  // namespace
}  // namespace unlinkd::test
