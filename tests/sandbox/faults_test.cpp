// Contract tests of fault injection (issue 4, "Faults") against the real
// process: API codes in an HTTP 200 envelope, HTTP 5xx, connection resets
// before processing and after a write was applied, counted in the stats, and
// switched at run time with PUT /_sandbox/faults.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "config/manifest_parser.hpp"
#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::test {
namespace {

namespace json = boost::json;

const std::string api = "/open_api/v1.3";
const std::string admin_token = "sbx-admin-4";

// A profile file that outlives the process reading it.
class profile_file {
 public:
  explicit profile_file(const std::string& text) {
    std::string pattern = std::filesystem::temp_directory_path() / "unlinkd-faults-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    dir_ = pattern;
    path_ = dir_ + "/faults.yaml";
    std::ofstream(path_) << text;
  }
  profile_file(const profile_file&) = delete;
  profile_file& operator=(const profile_file&) = delete;
  ~profile_file() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

std::unique_ptr<sandbox_process> start(const profile_file& profile) {
  return std::make_unique<sandbox_process>(
      std::vector<std::string>{"--accounts", "30", "--seed", "4", "--manifest-out", "{dir}/m.yaml",
                               "--no-limits", "--faults", profile.path()});
}

std::uint64_t fault_count(http_client& client, const std::string& kind) {
  return client.get("/_sandbox/stats").json().at("faults").at(kind).to_number<std::uint64_t>();
}

TEST(sandbox_faults, an_api_code_fault_answers_in_an_envelope) {
  const profile_file profile("faults:\n  api_50002: 1\npaths: [/user/info/]\n");
  const auto sandbox = start(profile);
  http_client client(sandbox->port());
  for (int i = 0; i < 5; ++i) {
    const auto reply = client.get(api + "/user/info/", admin_token);
    ASSERT_EQ(reply.status, 200U);
    const auto body = reply.json();
    EXPECT_EQ(body.at("code").as_int64(), 50002) << reply.body;
    EXPECT_TRUE(body.at("data").as_object().empty());
    EXPECT_FALSE(body.at("message").as_string().empty());
  }
  // Another path is not faulted.
  const auto other = client.get(api + "/oauth2/advertiser/get/?app_id=x&secret=y", admin_token);
  EXPECT_EQ(other.status, 200U);
  EXPECT_NE(other.json().at("code").as_int64(), 50002);
  const auto stats = client.get("/_sandbox/stats").json();
  EXPECT_EQ(stats.at("faults").at("api_50002").as_int64(), 5);
  EXPECT_EQ(stats.at("calls").at(api + "/user/info/").at("50002").as_int64(), 5);
}

TEST(sandbox_faults, an_http_fault_answers_its_status) {
  const profile_file profile("faults:\n  http_503: 1\n");
  const auto sandbox = start(profile);
  http_client client(sandbox->port());
  const auto reply = client.get(api + "/user/info/", admin_token);
  EXPECT_EQ(reply.status, 503U);
  EXPECT_EQ(fault_count(client, "http_503"), 1U);
}

TEST(sandbox_faults, a_reset_before_processing_loses_the_call) {
  const profile_file profile("faults:\n  reset_before: 1\n");
  const auto sandbox = start(profile);
  {
    http_client doomed(sandbox->port());
    EXPECT_ANY_THROW(doomed.get(api + "/user/info/", admin_token));
  }
  http_client client(sandbox->port());
  const auto stats = client.get("/_sandbox/stats").json();
  EXPECT_EQ(stats.at("faults").at("reset_before").as_int64(), 1);
  EXPECT_EQ(stats.at("total_calls").as_int64(), 0);  // the endpoint never ran
}

TEST(sandbox_faults, a_reset_after_apply_applies_the_write_and_loses_the_reply) {
  const profile_file profile(
      "faults:\n  reset_after_apply: 1\npaths: [/bc/partner/asset/delete/]\n");
  const auto sandbox = start(profile);
  std::ifstream in(sandbox->dir() + "/m.yaml");
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = config::parse_manifest(text.str(), "m.yaml", {}, config::utc_today());
  ASSERT_TRUE(parsed.value.has_value()) << parsed.problems.to_text();
  const config::account* share = nullptr;
  for (const auto& a : parsed.value->accounts) {
    if (a.mode == config::unlink_mode::partner_share) {
      share = &a;
      break;
    }
  }
  ASSERT_NE(share, nullptr);
  http_client client(sandbox->port());
  const auto state = [&] { return client.get("/_sandbox/state?asset_id=" + share->id).json(); };
  EXPECT_EQ(state().at("shared_with_partners").as_array().size(), 1U);
  const json::object body{{"bc_id", parsed.value->business_center_id},
                          {"partner_id", share->partner_id},
                          {"asset_type", "ADVERTISER"},
                          {"asset_ids", json::array{json::value(share->id)}}};
  {
    http_client doomed(sandbox->port());
    EXPECT_ANY_THROW(
        doomed.post(api + "/bc/partner/asset/delete/", json::serialize(body), admin_token));
  }
  EXPECT_TRUE(state().at("shared_with_partners").as_array().empty());
  const auto stats = client.get("/_sandbox/stats").json();
  EXPECT_EQ(stats.at("faults").at("reset_after_apply").as_int64(), 1);
  const auto& account = stats.at("accounts").at(share->id);
  EXPECT_EQ(account.at("mutations_attempted").as_int64(), 1);
  EXPECT_EQ(account.at("mutations_applied").as_int64(), 1);
}

TEST(sandbox_faults, put_faults_switches_them_at_run_time_and_reset_restores_them) {
  const profile_file profile("faults:\n  http_500: 1\n");
  const auto sandbox = start(profile);
  http_client client(sandbox->port());
  EXPECT_EQ(client.get(api + "/user/info/", admin_token).status, 500U);
  const auto off = client.put("/_sandbox/faults", R"({"faults": {}})");
  EXPECT_EQ(off.status, 200U) << off.body;
  const auto reply = client.get(api + "/user/info/", admin_token);
  EXPECT_EQ(reply.status, 200U);
  EXPECT_EQ(reply.json().at("code").as_int64(), 0);
  // A bad profile is refused with its position and changes nothing.
  const auto bad = client.put("/_sandbox/faults", "faults:\n  http_500: 2\n");
  EXPECT_EQ(bad.status, 400U);
  EXPECT_NE(bad.body.find(":2:"), std::string::npos) << bad.body;
  EXPECT_EQ(client.get(api + "/user/info/", admin_token).status, 200U);
  // On again, as JSON.
  EXPECT_EQ(client.put("/_sandbox/faults", R"({"faults": {"api_60001": 1}})").status, 200U);
  EXPECT_EQ(client.get(api + "/user/info/", admin_token).json().at("code").as_int64(), 60001);
  EXPECT_EQ(fault_count(client, "api_60001"), 1U);
  // Reset restores the --faults profile and clears the counts.
  EXPECT_EQ(client.post("/_sandbox/reset", "").status, 200U);
  EXPECT_EQ(fault_count(client, "http_500"), 0U);
  EXPECT_EQ(client.get(api + "/user/info/", admin_token).status, 500U);
}

TEST(sandbox_faults, latency_delays_the_reply_of_the_covered_paths) {
  const profile_file profile("latency:\n  fixed: 300ms\npaths: [/user/info/]\n");
  const auto sandbox = start(profile);
  http_client client(sandbox->port());
  const auto started = std::chrono::steady_clock::now();
  const auto reply = client.get(api + "/user/info/", admin_token);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(300));
  EXPECT_EQ(reply.json().at("code").as_int64(), 0);
  // Latency is not a fault: nothing is counted.
  const auto faults = client.get("/_sandbox/stats").json().at("faults").as_object();
  for (const auto& [kind, n] : faults) {
    EXPECT_EQ(n.as_int64(), 0) << kind;
  }
}

TEST(sandbox_faults, a_faulted_call_the_budget_admitted_counts_as_accepted) {
  const profile_file profile("faults:\n  http_502: 1\n");
  sandbox_process sandbox({"--accounts", "30", "--seed", "4", "--faults", profile.path()});
  http_client client(sandbox.port());
  EXPECT_EQ(client.get(api + "/user/info/", admin_token).status, 502U);
  const auto apps = client.get("/_sandbox/stats").json().at("apps").as_object();
  ASSERT_EQ(apps.size(), 1U);
  EXPECT_EQ(apps.begin()->value().at("accepted").as_int64(), 1);
  EXPECT_EQ(apps.begin()->value().at("refused").as_int64(), 0);
}

TEST(sandbox_faults, a_bad_profile_stops_the_start) {
  const profile_file profile("faults:\n  http_500: maybe\n");
  EXPECT_ANY_THROW(start(profile));
}

}  // namespace
}  // namespace unlinkd::test
