// Contract tests: the real unlinkd-sandbox process on port 0, driven over
// HTTP as unlinkd's adapter will drive the real API.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "config/credentials.hpp"
#include "config/manifest_parser.hpp"
#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::test {
namespace {

const std::string api = "/open_api/v1.3";
const std::string admin_token = "sbx-admin-1";
const std::string standard_token = "sbx-standard-1";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class sandbox_contract : public ::testing::Test {
 protected:
  // --no-limits: these tests make many calls at once; the budget has its own
  // tests (budget_test.cpp).
  sandbox_process sandbox_{{"--accounts", "40", "--seed", "1", "--no-limits"}};
  http_client client_{sandbox_.port()};
};

TEST_F(sandbox_contract, announces_its_port_on_the_first_line_and_in_the_port_file) {
  EXPECT_EQ(sandbox_.first_line(), "listening on 127.0.0.1:" + std::to_string(sandbox_.port()));
  EXPECT_EQ(slurp(sandbox_.dir() + "/port"), std::to_string(sandbox_.port()) + "\n");
}

TEST_F(sandbox_contract, every_answer_is_an_envelope_with_http_200) {
  const auto reply = client_.get(api + "/user/info/", admin_token);
  ASSERT_EQ(reply.status, 200U);
  const auto body = reply.json().as_object();
  EXPECT_EQ(body.at("code").as_int64(), 0);
  EXPECT_EQ(body.at("message").as_string(), "OK");
  EXPECT_TRUE(std::regex_match(std::string(body.at("request_id").as_string()),
                               std::regex("[0-9]{14}[0-9A-F]{20}")))
      << body.at("request_id");
  const auto& data = body.at("data").as_object();
  EXPECT_TRUE(data.at("core_user_id").is_string());
  EXPECT_TRUE(data.contains("display_name"));
}

TEST_F(sandbox_contract, a_missing_token_is_40104_and_a_wrong_one_40105) {
  const auto missing = client_.get(api + "/bc/get/");
  EXPECT_EQ(missing.status, 200U);
  EXPECT_EQ(missing.json().at("code").as_int64(), 40104);
  EXPECT_NE(std::string(missing.json().at("message").as_string()).find("Access-Token"),
            std::string::npos);
  const auto wrong = client_.get(api + "/bc/get/", "not-a-token");
  EXPECT_EQ(wrong.status, 200U);
  EXPECT_EQ(wrong.json().at("code").as_int64(), 40105);
}

TEST_F(sandbox_contract, a_path_without_its_trailing_slash_or_unknown_is_a_plain_404) {
  EXPECT_EQ(client_.get(api + "/user/info", admin_token).status, 404U);
  EXPECT_EQ(client_.get(api + "/no/such/endpoint/", admin_token).status, 404U);
  EXPECT_EQ(client_.get("/open_api/v1.2/user/info/", admin_token).status, 404U);
}

TEST_F(sandbox_contract, bc_get_pages_and_enforces_its_page_size_maximum) {
  const auto too_big = client_.get(api + "/bc/get/?page_size=51", admin_token);
  EXPECT_EQ(too_big.json().at("code").as_int64(), 40002);
  const auto ok = client_.get(api + "/bc/get/?page_size=50", admin_token).json();
  ASSERT_EQ(ok.at("code").as_int64(), 0);
  const auto& data = ok.at("data").as_object();
  const auto& list = data.at("list").as_array();
  ASSERT_EQ(list.size(), 1U);  // the admin belongs to our BC only
  EXPECT_EQ(list[0].at("user_role").as_string(), "ADMIN");
  const auto& bc_id = list[0].at("bc_info").at("bc_id").as_string();
  EXPECT_EQ(bc_id.size(), 19U);
  const auto& info = data.at("page_info").as_object();
  EXPECT_EQ(info.at("page").as_int64(), 1);
  EXPECT_EQ(info.at("page_size").as_int64(), 50);
  EXPECT_EQ(info.at("total_number").as_int64(), 1);
  EXPECT_EQ(info.at("total_page").as_int64(), 1);
}

TEST_F(sandbox_contract, the_standard_token_is_not_an_admin_of_our_bc) {
  const auto list = client_.get(api + "/bc/get/", standard_token).json().at("data").at("list");
  ASSERT_EQ(list.as_array().size(), 1U);
  EXPECT_EQ(list.as_array()[0].at("user_role").as_string(), "STANDARD");
}

TEST_F(sandbox_contract, json_in_the_query_is_decoded_and_malformed_json_is_40002) {
  const auto accounts =
      client_
          .get(api +
                   "/oauth2/advertiser/get/?app_id=7000001000000000001&secret=sandbox-secret-admin",
               admin_token)
          .json();
  ASSERT_EQ(accounts.at("code").as_int64(), 0) << accounts;
  const auto& list = accounts.at("data").at("list").as_array();
  ASSERT_FALSE(list.empty());
  const std::string id(list[0].at("advertiser_id").as_string());
  const auto info =
      client_.get(api + "/advertiser/info/?advertiser_ids=%5B%22" + id + "%22%5D", admin_token)
          .json();
  ASSERT_EQ(info.at("code").as_int64(), 0) << info;
  EXPECT_EQ(info.at("data").at("list").as_array()[0].at("advertiser_id").as_string(), id);
  const auto malformed =
      client_.get(api + "/advertiser/info/?advertiser_ids=%5B%22" + id, admin_token).json();
  EXPECT_EQ(malformed.at("code").as_int64(), 40002);
}

TEST_F(sandbox_contract, campaigns_page_with_consistent_totals) {
  const auto accounts =
      client_
          .get(api +
                   "/oauth2/advertiser/get/?app_id=7000001000000000001&secret=sandbox-secret-admin",
               admin_token)
          .json();
  std::size_t seen = 0;
  for (const auto& a : accounts.at("data").at("list").as_array()) {
    const std::string id(a.at("advertiser_id").as_string());
    const auto page =
        client_.get(api + "/campaign/get/?advertiser_id=" + id + "&page_size=1", admin_token)
            .json();
    ASSERT_EQ(page.at("code").as_int64(), 0) << page;
    const auto total = page.at("data").at("page_info").at("total_number").as_int64();
    EXPECT_EQ(page.at("data").at("page_info").at("total_page").as_int64(), total);
    if (total > 0) {
      const auto& c = page.at("data").at("list").as_array()[0].as_object();
      EXPECT_EQ(c.at("advertiser_id").as_string(), id);
      const std::string status(c.at("operation_status").as_string());
      EXPECT_TRUE(status == "ENABLE" || status == "DISABLE") << status;
      ++seen;
    }
  }
  EXPECT_GT(seen, 0U);
  EXPECT_EQ(client_.get(api + "/campaign/get/?advertiser_id=1&page_size=1001", admin_token)
                .json()
                .at("code")
                .as_int64(),
            40001);
}

TEST_F(sandbox_contract, stats_count_calls_per_path_and_code_and_reset_clears_them) {
  client_.get(api + "/user/info/", admin_token);
  client_.get(api + "/user/info/");
  auto stats = client_.get("/_sandbox/stats").json();
  EXPECT_EQ(stats.at("calls").at(api + "/user/info/").at("0").as_int64(), 1);
  EXPECT_EQ(stats.at("calls").at(api + "/user/info/").at("40104").as_int64(), 1);
  EXPECT_EQ(client_.post("/_sandbox/reset", "").status, 200U);
  stats = client_.get("/_sandbox/stats").json();
  EXPECT_EQ(stats.at("total_calls").as_int64(), 0);
}

TEST_F(sandbox_contract, exits_cleanly_on_sigterm) { EXPECT_EQ(sandbox_.stop(), 0); }

TEST(sandbox_generation, the_same_seed_gives_the_same_world_and_another_seed_another) {
  std::vector<std::string> manifests;
  for (const std::string seed : {"7", "7", "8"}) {
    std::string pattern = std::filesystem::temp_directory_path() / "sandbox-gen-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    {
      sandbox_process p(
          {"--accounts", "50", "--seed", seed, "--manifest-out", pattern + "/manifest.yaml"});
    }
    manifests.push_back(slurp(pattern + "/manifest.yaml"));
    std::filesystem::remove_all(pattern);
  }
  EXPECT_FALSE(manifests[0].empty());
  EXPECT_EQ(manifests[0], manifests[1]);
  EXPECT_NE(manifests[0], manifests[2]);
}

TEST(sandbox_generation, manifest_out_is_valid_with_the_credentials_out_profiles) {
  std::string pattern = std::filesystem::temp_directory_path() / "sandbox-out-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const auto creds_path = pattern + "/credentials.yaml";
  const auto manifest_path = pattern + "/manifest.yaml";
  unsigned short port = 0;
  {
    sandbox_process p({"--accounts", "200", "--seed", "5", "--credentials-out", creds_path,
                       "--manifest-out", manifest_path});
    port = p.port();
  }
  const auto creds = config::load_credentials(creds_path, {});  // also checks mode 0600
  ASSERT_TRUE(creds.problems.empty()) << creds.problems.to_text();
  ASSERT_NE(creds.value.find("sandbox-admin"), nullptr);
  EXPECT_EQ(creds.value.find("sandbox-admin")->base_url,
            "http://127.0.0.1:" + std::to_string(port));
  config::manifest_options options;
  options.known_profiles.emplace();
  for (const auto& profile : creds.value.profiles) {
    options.known_profiles->push_back(profile.name);
  }
  const auto manifest =
      config::parse_manifest(slurp(manifest_path), manifest_path, options, config::utc_today());
  ASSERT_TRUE(manifest.value.has_value()) << manifest.problems.to_text();
  std::set<config::unlink_mode> modes;
  for (const auto& a : manifest.value->accounts) {
    modes.insert(*a.mode);
  }
  EXPECT_EQ(modes.size(), 4U) << "every unlink mode is covered";
  std::filesystem::remove_all(pattern);
}

}  // namespace
}  // namespace unlinkd::test

namespace unlinkd::test {
namespace {

// As an operator checks it: the unlinkctl executable, with the credentials
// file the sandbox wrote, so the profile name is checked too.
TEST(sandbox_generation, manifest_out_passes_unlinkctl_validate) {
  std::string dir;
  {
    sandbox_process p({"--accounts", "100", "--seed", "9", "--credentials-out",
                       "{dir}/credentials.yaml", "--manifest-out", "{dir}/manifest.yaml"});
    // Keep the files: copy them out before the process's directory goes.
    std::string pattern = std::filesystem::temp_directory_path() / "sandbox-validate-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir = pattern;
    std::filesystem::copy_file(p.dir() + "/credentials.yaml", dir + "/credentials.yaml");
    std::filesystem::copy_file(p.dir() + "/manifest.yaml", dir + "/manifest.yaml");
  }
  const std::string command = std::string(UNLINKD_UNLINKCTL_BIN) + " validate --credentials " +
                              dir + "/credentials.yaml " + dir + "/manifest.yaml > " + dir +
                              "/out.txt 2>&1";
  const int status = std::system(command.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(dir + "/out.txt");
  EXPECT_NE(slurp(dir + "/out.txt").find("ok: batch sandbox-9"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace unlinkd::test
