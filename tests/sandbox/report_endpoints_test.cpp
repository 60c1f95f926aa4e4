// Contract tests of the ad group, ad and report endpoints: the real
// unlinkd-sandbox process on port 0, driven over HTTP.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::test {
namespace {

namespace json = boost::json;

const std::string api = "/open_api/v1.3";
constexpr unsigned seed = 3;
// An ad account ID of the right shape that no world of seed 3 has.
const std::string unreachable = "7100003999999999999";

// Query values are percent-encoded, JSON ones included.
std::string encode(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

std::string ids_json(const std::vector<std::string>& ids) {
  json::array a;
  for (const auto& id : ids) {
    a.emplace_back(id);
  }
  return json::serialize(a);
}

class sandbox_reports : public ::testing::Test {
 protected:
  // --no-limits: many calls (and report tasks) at once; the budget is
  // budget_test.cpp's.
  sandbox_process sandbox_{{"--accounts", "40", "--seed", std::to_string(seed), "--no-limits"}};
  http_client client_{sandbox_.port()};
  const std::string token_ = "sbx-admin-" + std::to_string(seed);

  json::value get(const std::string& path_and_query) {
    return client_.get(api + path_and_query, token_).json();
  }
  json::value post(const std::string& path, const json::object& body) {
    return client_.post(api + path, json::serialize(body), token_).json();
  }

  // The ad accounts the admin token reaches, as unlinkd lists them.
  std::vector<std::string> advertisers() {
    char app_id[24];
    std::snprintf(app_id, sizeof app_id, "70%05u000000000001", seed % 100000);
    const auto reply = get(std::string("/oauth2/advertiser/get/?app_id=") + app_id +
                           "&secret=sandbox-secret-admin");
    std::vector<std::string> ids;
    for (const auto& a : reply.at("data").at("list").as_array()) {
      ids.emplace_back(a.at("advertiser_id").as_string());
    }
    return ids;
  }

  json::array list_of(const std::string& path, const std::string& advertiser_id,
                      const std::string& filtering = {}) {
    std::string target = path + "?advertiser_id=" + advertiser_id + "&page_size=1000";
    if (!filtering.empty()) {
      target += "&filtering=" + encode(filtering);
    }
    const auto reply = get(target);
    EXPECT_EQ(reply.at("code").as_int64(), 0) << reply;
    return reply.at("data").at("list").as_array();
  }

  // The first ad account with at least `campaigns` campaigns.
  std::string account_with_campaigns(std::size_t campaigns) {
    for (const auto& id : advertisers()) {
      if (list_of("/campaign/get/", id).size() >= campaigns) {
        return id;
      }
    }
    ADD_FAILURE() << "no ad account with " << campaigns << " campaigns";
    return {};
  }

  std::string report_query(const std::string& advertiser_id, const std::string& data_level,
                           const std::string& dimensions, const std::string& start,
                           const std::string& end, const std::string& extra = {}) {
    return "/report/integrated/get/?advertiser_id=" + advertiser_id +
           "&report_type=BASIC&data_level=" + data_level + "&dimensions=" + encode(dimensions) +
           "&start_date=" + start + "&end_date=" + end + extra;
  }
};

TEST_F(sandbox_reports, adgroups_and_ads_carry_their_fields_and_their_parents) {
  const auto id = account_with_campaigns(2);
  const auto campaigns = list_of("/campaign/get/", id);
  const auto groups = list_of("/adgroup/get/", id);
  ASSERT_GE(groups.size(), 2U);
  std::set<std::string> campaign_ids;
  for (const auto& c : campaigns) {
    campaign_ids.emplace(c.at("campaign_id").as_string());
  }
  for (const auto& v : groups) {
    const auto& g = v.as_object();
    for (const char* field :
         {"adgroup_id", "adgroup_name", "campaign_id", "advertiser_id", "operation_status",
          "secondary_status", "create_time", "modify_time"}) {
      ASSERT_TRUE(g.contains(field) && g.at(field).is_string()) << field << " in " << g;
    }
    EXPECT_EQ(g.at("adgroup_id").as_string().size(), 19U);
    EXPECT_EQ(g.at("advertiser_id").as_string(), id);
    EXPECT_TRUE(campaign_ids.contains(std::string(g.at("campaign_id").as_string())));
    const std::string status(g.at("secondary_status").as_string());
    EXPECT_TRUE(status.starts_with("ADGROUP_STATUS_")) << status;
    EXPECT_NE(g.at("operation_status").as_string(), "DELETE");
    EXPECT_TRUE(
        std::regex_match(std::string(g.at("create_time").as_string()),
                         std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")))
        << g;
  }
  const auto ads = list_of("/ad/get/", id);
  ASSERT_FALSE(ads.empty());
  for (const auto& v : ads) {
    const auto& a = v.as_object();
    for (const char* field :
         {"ad_id", "ad_name", "adgroup_id", "campaign_id", "advertiser_id", "operation_status",
          "secondary_status", "create_time", "modify_time"}) {
      ASSERT_TRUE(a.contains(field) && a.at(field).is_string()) << field << " in " << a;
    }
    EXPECT_EQ(a.at("advertiser_id").as_string(), id);
    const std::string status(a.at("secondary_status").as_string());
    EXPECT_TRUE(status.starts_with("AD_STATUS_")) << status;
    EXPECT_NE(status, "AD_STATUS_DELETE");
  }
}

TEST_F(sandbox_reports, adgroup_and_ad_filters_narrow_the_list) {
  const auto id = account_with_campaigns(2);
  const auto campaigns = list_of("/campaign/get/", id);
  const std::string campaign(campaigns[0].at("campaign_id").as_string());
  const auto groups = list_of("/adgroup/get/", id, R"({"campaign_ids":[")" + campaign + R"("]})");
  ASSERT_FALSE(groups.empty());
  EXPECT_LT(groups.size(), list_of("/adgroup/get/", id).size());
  for (const auto& g : groups) {
    EXPECT_EQ(g.at("campaign_id").as_string(), campaign);
  }
  const std::string group(groups[0].at("adgroup_id").as_string());
  const auto one = list_of("/adgroup/get/", id, R"({"adgroup_ids":[")" + group + R"("]})");
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0].at("adgroup_id").as_string(), group);

  const auto ads = list_of("/ad/get/", id, R"({"adgroup_ids":[")" + group + R"("]})");
  for (const auto& a : ads) {
    EXPECT_EQ(a.at("adgroup_id").as_string(), group);
    EXPECT_EQ(a.at("campaign_id").as_string(), campaign);
  }
  for (const auto& a : list_of("/ad/get/", id, R"({"campaign_ids":[")" + campaign + R"("]})")) {
    EXPECT_EQ(a.at("campaign_id").as_string(), campaign);
  }
  const auto nothing = list_of("/ad/get/", id, R"({"ad_ids":["1900003999999999999"]})");
  EXPECT_TRUE(nothing.empty());
}

TEST_F(sandbox_reports, deleted_ads_are_listed_only_when_asked_for_by_id) {
  // Ads are numbered in a row per ad account, so asking for every number
  // around the visible ones finds the deleted ones among them.
  std::size_t deleted = 0;
  for (const auto& id : advertisers()) {
    const auto visible = list_of("/ad/get/", id);
    if (visible.empty()) {
      continue;
    }
    std::set<std::string> shown;
    unsigned long long low = ~0ULL;
    unsigned long long high = 0;
    for (const auto& a : visible) {
      const std::string ad_id(a.at("ad_id").as_string());
      shown.insert(ad_id);
      low = std::min(low, std::stoull(ad_id));
      high = std::max(high, std::stoull(ad_id));
    }
    std::vector<std::string> asked;
    for (auto n = low - 2; n <= high + 2 && asked.size() < 100; ++n) {
      asked.push_back(std::to_string(n));
    }
    for (const auto& a : list_of("/ad/get/", id, R"({"ad_ids":)" + ids_json(asked) + "}")) {
      if (!shown.contains(std::string(a.at("ad_id").as_string()))) {
        // Reads show ENABLE or DISABLE; the deletion is in secondary_status.
        EXPECT_EQ(a.at("operation_status").as_string(), "DISABLE") << a;
        EXPECT_EQ(a.at("secondary_status").as_string(), "AD_STATUS_DELETE") << a;
        ++deleted;
      }
    }
    // STATUS_ALL lists them too, STATUS_DELETE only them.
    const auto all = list_of("/ad/get/", id, R"({"primary_status":"STATUS_ALL"})");
    const auto gone = list_of("/ad/get/", id, R"({"primary_status":"STATUS_DELETE"})");
    EXPECT_EQ(all.size(), visible.size() + gone.size());
    for (const auto& a : gone) {
      EXPECT_FALSE(shown.contains(std::string(a.at("ad_id").as_string())));
    }
  }
  EXPECT_GT(deleted, 0U) << "the world of seed 3 has deleted ads";
}

TEST_F(sandbox_reports, secondary_status_follows_the_parents) {
  std::size_t paused_by_campaign = 0;
  for (const auto& id : advertisers()) {
    std::set<std::string> disabled_campaigns;
    for (const auto& c : list_of("/campaign/get/", id)) {
      if (c.at("operation_status").as_string() == "DISABLE") {
        disabled_campaigns.emplace(c.at("campaign_id").as_string());
      }
    }
    for (const auto& g : list_of("/adgroup/get/", id)) {
      const bool paused = disabled_campaigns.contains(std::string(g.at("campaign_id").as_string()));
      EXPECT_EQ(g.at("secondary_status").as_string(),
                paused ? "ADGROUP_STATUS_CAMPAIGN_DISABLE" : "ADGROUP_STATUS_DELIVERY_OK")
          << g;
      paused_by_campaign += paused ? 1 : 0;
    }
    for (const auto& a : list_of("/ad/get/", id)) {
      const bool paused = disabled_campaigns.contains(std::string(a.at("campaign_id").as_string()));
      EXPECT_EQ(a.at("secondary_status").as_string(),
                paused ? "AD_STATUS_CAMPAIGN_DISABLE" : "AD_STATUS_DELIVERY_OK")
          << a;
    }
  }
  EXPECT_GT(paused_by_campaign, 0U);
}

TEST_F(sandbox_reports, adgroup_and_ad_reads_check_access_and_page_size) {
  const auto id = advertisers().front();
  for (const std::string path : {"/adgroup/get/", "/ad/get/"}) {
    const auto refused = get(path + "?advertiser_id=" + unreachable);
    EXPECT_EQ(refused.at("code").as_int64(), 40001) << path;
    EXPECT_EQ(refused.at("message").as_string(),
              "The advertiser " + unreachable + " doesn't exist or has been deleted.");
    EXPECT_EQ(get(path).at("code").as_int64(), 40002) << path;
    EXPECT_EQ(get(path + "?advertiser_id=" + id + "&page_size=1001").at("code").as_int64(), 40002)
        << path;
    EXPECT_EQ(get(path + "?advertiser_id=" + id + "&page_size=1000").at("code").as_int64(), 0)
        << path;
    EXPECT_EQ(get(path + "?advertiser_id=" + id + "&filtering=%7B").at("code").as_int64(), 40002)
        << path;
  }
}

TEST_F(sandbox_reports, a_daily_report_of_30_days_has_a_row_per_campaign_and_day) {
  const auto id = account_with_campaigns(2);
  const auto campaigns = list_of("/campaign/get/", id);
  const auto reply = get(report_query(id, "AUCTION_CAMPAIGN", R"(["campaign_id","stat_time_day"])",
                                      "2025-03-01", "2025-03-30", "&page_size=1000"));
  ASSERT_EQ(reply.at("code").as_int64(), 0) << reply;
  const auto& rows = reply.at("data").at("list").as_array();
  EXPECT_EQ(rows.size(), campaigns.size() * 30);
  EXPECT_EQ(reply.at("data").at("page_info").at("total_number").as_int64(),
            static_cast<std::int64_t>(campaigns.size() * 30));
  std::size_t dashes = 0;
  std::size_t numbers = 0;
  std::set<std::string> days;
  for (const auto& row : rows) {
    const auto& dimensions = row.at("dimensions").as_object();
    ASSERT_EQ(dimensions.size(), 2U);
    EXPECT_EQ(dimensions.at("campaign_id").as_string().size(), 19U);
    days.emplace(dimensions.at("stat_time_day").as_string());
    const auto& metrics = row.at("metrics").as_object();
    ASSERT_EQ(metrics.size(), 2U) << "spend and impressions by default";
    for (const auto& [name, value] : metrics) {
      ASSERT_TRUE(value.is_string()) << name << " in " << row;
      (value.as_string() == "-" ? dashes : numbers) += 1;
    }
    if (metrics.at("spend").as_string() != "-") {
      EXPECT_TRUE(std::regex_match(std::string(metrics.at("spend").as_string()),
                                   std::regex("[0-9]+\\.[0-9]{2}")))
          << row;
    }
  }
  EXPECT_EQ(days.size(), 30U);
  EXPECT_EQ(*days.begin(), "2025-03-01 00:00:00");
  EXPECT_EQ(*days.rbegin(), "2025-03-30 00:00:00");
  EXPECT_GT(dashes, 0U) << "some days have no data";
  EXPECT_GT(numbers, 0U) << "most days have data";
}

TEST_F(sandbox_reports, a_report_by_day_only_and_every_metric_are_strings) {
  const auto id = account_with_campaigns(1);
  const auto reply = get(report_query(
      id, "AUCTION_AD", R"(["stat_time_day"])", "2025-02-01", "2025-02-28",
      "&metrics=" + encode(R"(["spend","impressions","clicks","ctr","cpc","cpm","conversion"])") +
          "&enable_total_metrics=true&page_size=100"));
  ASSERT_EQ(reply.at("code").as_int64(), 0) << reply;
  const auto& rows = reply.at("data").at("list").as_array();
  EXPECT_EQ(rows.size(), 28U);
  for (const auto& row : rows) {
    EXPECT_EQ(row.at("dimensions").as_object().size(), 1U);
    EXPECT_EQ(row.at("metrics").as_object().size(), 7U);
    for (const auto& [name, value] : row.at("metrics").as_object()) {
      EXPECT_TRUE(value.is_string()) << name;
    }
  }
  const auto& totals = reply.at("data").at("total_metrics").as_object();
  EXPECT_TRUE(totals.at("spend").is_string());
}

TEST_F(sandbox_reports, more_than_30_days_by_day_is_40002_but_not_without_the_day) {
  const auto id = account_with_campaigns(1);
  const auto too_long = get(report_query(
      id, "AUCTION_CAMPAIGN", R"(["campaign_id","stat_time_day"])", "2025-03-01", "2025-03-31"));
  EXPECT_EQ(too_long.at("code").as_int64(), 40002);
  EXPECT_EQ(too_long.at("message").as_string(), "max time span is 30 days when use stat_time_day");
  const auto lifetime =
      get(report_query(id, "AUCTION_CAMPAIGN", R"(["campaign_id"])", "2025-03-01", "2025-03-31"));
  EXPECT_EQ(lifetime.at("code").as_int64(), 0) << lifetime;
  const auto backwards =
      get(report_query(id, "AUCTION_CAMPAIGN", R"(["campaign_id"])", "2025-03-02", "2025-03-01"));
  EXPECT_EQ(backwards.at("code").as_int64(), 40002);
  const auto bad_date =
      get(report_query(id, "AUCTION_CAMPAIGN", R"(["campaign_id"])", "2025-02-30", "2025-03-01"));
  EXPECT_EQ(bad_date.at("code").as_int64(), 40002);
}

TEST_F(sandbox_reports, report_parameters_are_checked) {
  const auto id = account_with_campaigns(1);
  const auto daily = [&](const std::string& extra) {
    return get(report_query(id, "AUCTION_CAMPAIGN", R"(["campaign_id","stat_time_day"])",
                            "2025-03-01", "2025-03-02", extra))
        .at("code")
        .as_int64();
  };
  EXPECT_EQ(daily("&page_size=1000"), 0);
  EXPECT_EQ(daily("&page_size=1001"), 40002);
  EXPECT_EQ(daily("&page=0"), 40002);
  EXPECT_EQ(daily("&metrics=" + encode(R"(["no_such_metric"])")), 40002);
  EXPECT_EQ(daily("&metrics=%5B"), 40002);
  EXPECT_EQ(get(report_query(id, "AUCTION_AD", R"(["campaign_id"])", "2025-03-01", "2025-03-02"))
                .at("code")
                .as_int64(),
            40002);
  EXPECT_EQ(
      get(report_query(id, "AUCTION_NOTHING", R"(["stat_time_day"])", "2025-03-01", "2025-03-02"))
          .at("code")
          .as_int64(),
      40002);
  EXPECT_EQ(get("/report/integrated/get/?advertiser_id=" + id + "&report_type=BASIC")
                .at("code")
                .as_int64(),
            40002);
}

TEST_F(sandbox_reports, the_same_request_gives_the_same_rows_in_this_process_and_another) {
  const auto id = account_with_campaigns(1);
  const auto query =
      report_query(id, "AUCTION_ADGROUP", R"(["adgroup_id","stat_time_day"])", "2025-01-01",
                   "2025-01-30", "&metrics=" + encode(R"(["spend","impressions","clicks"])"));
  const auto first = get(query).at("data");
  const auto second = get(query).at("data");
  EXPECT_EQ(json::serialize(first), json::serialize(second));
  sandbox_process other({"--accounts", "40", "--seed", std::to_string(seed), "--no-limits"});
  http_client other_client(other.port());
  const auto third = other_client.get(api + query, token_).json().at("data");
  EXPECT_EQ(json::serialize(first), json::serialize(third));
  // Another range gives other numbers.
  const auto later =
      get(report_query(id, "AUCTION_ADGROUP", R"(["adgroup_id","stat_time_day"])", "2025-02-01",
                       "2025-03-02", "&metrics=" + encode(R"(["spend","impressions","clicks"])")))
          .at("data");
  EXPECT_NE(json::serialize(first.at("list")), json::serialize(later.at("list")));
}

TEST_F(sandbox_reports, pages_of_a_report_join_up_to_the_whole) {
  const auto id = account_with_campaigns(2);
  const auto whole = get(report_query(id, "AUCTION_CAMPAIGN", R"(["campaign_id","stat_time_day"])",
                                      "2025-04-01", "2025-04-30", "&page_size=1000"))
                         .at("data")
                         .at("list")
                         .as_array();
  json::array joined;
  for (int page = 1;; ++page) {
    const auto part =
        get(report_query(id, "AUCTION_CAMPAIGN", R"(["campaign_id","stat_time_day"])", "2025-04-01",
                         "2025-04-30", "&page_size=7&page=" + std::to_string(page)))
            .at("data");
    for (const auto& row : part.at("list").as_array()) {
      joined.push_back(row);
    }
    if (page >= part.at("page_info").at("total_page").as_int64()) {
      break;
    }
  }
  EXPECT_EQ(json::serialize(whole), json::serialize(joined));
}

TEST_F(sandbox_reports, a_report_task_queues_processes_succeeds_and_downloads) {
  const auto id = account_with_campaigns(1);
  const auto created =
      post("/report/task/create/", {{"advertiser_id", id},
                                    {"report_type", "BASIC"},
                                    {"data_level", "AUCTION_CAMPAIGN"},
                                    {"dimensions", json::array{"campaign_id", "stat_time_day"}},
                                    {"metrics", json::array{"spend", "impressions"}},
                                    {"start_date", "2025-03-01"},
                                    {"end_date", "2025-03-30"},
                                    {"output_format", "CSV_DOWNLOAD"}});
  ASSERT_EQ(created.at("code").as_int64(), 0) << created;
  const std::string task(created.at("data").at("task_id").as_string());
  EXPECT_EQ(task.size(), 19U);
  const std::string ids = "?advertiser_id=" + id + "&task_id=" + task;

  EXPECT_EQ(get("/report/task/download/" + ids).at("code").as_int64(), 40201);
  std::vector<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    const auto check = get("/report/task/check/" + ids);
    ASSERT_EQ(check.at("code").as_int64(), 0) << check;
    seen.emplace_back(check.at("data").at("status").as_string());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"QUEUING", "PROCESSING", "SUCCESS", "SUCCESS"}));

  const auto download = get("/report/task/download/" + ids);
  ASSERT_EQ(download.at("code").as_int64(), 0) << download;
  const auto& data = download.at("data").as_object();
  EXPECT_EQ(
      data.at("download_url").as_string(),
      "http://127.0.0.1:" + std::to_string(sandbox_.port()) + "/_sandbox/report-files/" + task);
  EXPECT_EQ(data.at("output_format").as_string(), "CSV_DOWNLOAD");
  EXPECT_EQ(data.at("file_name").as_string(), task + ".csv");

  // A finished task cannot be canceled.
  EXPECT_EQ(post("/report/task/cancel/", {{"advertiser_id", id}, {"task_id", task}})
                .at("code")
                .as_int64(),
            40002);
  // The next task gets the next ID.
  const auto next = post("/report/task/create/", {{"advertiser_id", id},
                                                  {"report_type", "BASIC"},
                                                  {"data_level", "AUCTION_ADVERTISER"},
                                                  {"dimensions", json::array{"stat_time_day"}},
                                                  {"start_date", "2025-03-01"},
                                                  {"end_date", "2025-03-01"}});
  ASSERT_EQ(next.at("code").as_int64(), 0) << next;
  EXPECT_NE(next.at("data").at("task_id").as_string(), task);
}

TEST_F(sandbox_reports, a_canceled_task_stays_canceled_and_has_no_file) {
  const auto id = account_with_campaigns(1);
  const auto created = post("/report/task/create/", {{"advertiser_id", id},
                                                     {"report_type", "BASIC"},
                                                     {"data_level", "AUCTION_AD"},
                                                     {"dimensions", json::array{"ad_id"}},
                                                     {"start_date", "2025-01-01"},
                                                     {"end_date", "2025-06-30"}});
  ASSERT_EQ(created.at("code").as_int64(), 0) << created;
  const std::string task(created.at("data").at("task_id").as_string());
  const std::string ids = "?advertiser_id=" + id + "&task_id=" + task;
  EXPECT_EQ(get("/report/task/check/" + ids).at("data").at("status").as_string(), "QUEUING");
  for (int i = 0; i < 2; ++i) {  // canceling twice answers the same
    const auto cancel = post("/report/task/cancel/", {{"advertiser_id", id}, {"task_id", task}});
    ASSERT_EQ(cancel.at("code").as_int64(), 0) << cancel;
    EXPECT_EQ(cancel.at("data").at("status").as_string(), "CANCELED");
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(get("/report/task/check/" + ids).at("data").at("status").as_string(), "CANCELED");
  }
  EXPECT_EQ(get("/report/task/download/" + ids).at("code").as_int64(), 40002);
}

TEST_F(sandbox_reports, report_tasks_are_checked_like_the_report) {
  const auto id = account_with_campaigns(1);
  json::object body{{"advertiser_id", id},
                    {"report_type", "BASIC"},
                    {"data_level", "AUCTION_CAMPAIGN"},
                    {"dimensions", json::array{"campaign_id", "stat_time_day"}},
                    {"start_date", "2025-03-01"},
                    {"end_date", "2025-03-31"}};
  EXPECT_EQ(post("/report/task/create/", body).at("code").as_int64(), 40002) << "31 days";
  body["end_date"] = "2025-03-30";
  body["output_format"] = "PDF";
  EXPECT_EQ(post("/report/task/create/", body).at("code").as_int64(), 40002);
  body["output_format"] = "XLSX_DOWNLOAD";
  EXPECT_EQ(post("/report/task/create/", body).at("code").as_int64(), 40002);
  body["output_format"] = "CSV_STRING";
  body["file_name"] = "march";
  const auto named = post("/report/task/create/", body);
  ASSERT_EQ(named.at("code").as_int64(), 0) << named;
  const std::string task(named.at("data").at("task_id").as_string());
  for (int i = 0; i < 3; ++i) {
    get("/report/task/check/?advertiser_id=" + id + "&task_id=" + task);
  }
  const auto download =
      get("/report/task/download/?advertiser_id=" + id + "&task_id=" + task).at("data");
  EXPECT_EQ(download.at("file_name").as_string(), "march");
  EXPECT_EQ(download.at("output_format").as_string(), "CSV_STRING");
  body.erase("output_format");
  body.erase("dimensions");
  EXPECT_EQ(post("/report/task/create/", body).at("code").as_int64(), 40002);
  EXPECT_EQ(client_.post(api + "/report/task/create/", "{", token_).json().at("code").as_int64(),
            40002);
}

TEST_F(sandbox_reports, an_unknown_or_malformed_task_id_is_40002) {
  const auto ids = advertisers();
  ASSERT_GE(ids.size(), 2U);
  const auto& id = ids[0];
  EXPECT_EQ(get("/report/task/check/?advertiser_id=" + id + "&task_id=7300003999999999999")
                .at("code")
                .as_int64(),
            40002);
  EXPECT_EQ(get("/report/task/download/?advertiser_id=" + id + "&task_id=7300003999999999999")
                .at("code")
                .as_int64(),
            40002);
  EXPECT_EQ(
      post("/report/task/cancel/", {{"advertiser_id", id}, {"task_id", "7300003999999999999"}})
          .at("code")
          .as_int64(),
      40002);
  EXPECT_EQ(get("/report/task/check/?advertiser_id=" + id + "&task_id=7300003999999999999")
                .at("message")
                .as_string(),
            "Task 7300003999999999999 does not exist.");
  EXPECT_EQ(get("/report/task/check/?advertiser_id=" + id + "&task_id=abc").at("code").as_int64(),
            40002);
  EXPECT_EQ(get("/report/task/check/?advertiser_id=" + id).at("code").as_int64(), 40002);
  // A task is found only with the ad account it was made for.
  const auto created = post("/report/task/create/", {{"advertiser_id", id},
                                                     {"report_type", "BASIC"},
                                                     {"data_level", "AUCTION_ADVERTISER"},
                                                     {"dimensions", json::array{"stat_time_day"}},
                                                     {"start_date", "2025-03-01"},
                                                     {"end_date", "2025-03-01"}});
  ASSERT_EQ(created.at("code").as_int64(), 0) << created;
  const std::string task(created.at("data").at("task_id").as_string());
  EXPECT_EQ(
      get("/report/task/check/?advertiser_id=" + ids[1] + "&task_id=" + task).at("code").as_int64(),
      40002);
  // Reset forgets tasks.
  ASSERT_EQ(client_.post("/_sandbox/reset", "").status, 200U);
  EXPECT_EQ(
      get("/report/task/check/?advertiser_id=" + id + "&task_id=" + task).at("code").as_int64(),
      40002);
}

TEST_F(sandbox_reports, an_ad_account_out_of_reach_is_40001_everywhere) {
  EXPECT_EQ(get(report_query(unreachable, "AUCTION_CAMPAIGN", R"(["campaign_id"])", "2025-03-01",
                             "2025-03-02"))
                .at("code")
                .as_int64(),
            40001);
  // Parameters are checked before access (docs/SANDBOX_API.md §1.4).
  EXPECT_EQ(get("/report/integrated/get/?advertiser_id=" + unreachable).at("code").as_int64(),
            40002);
  EXPECT_EQ(post("/report/task/create/", {{"advertiser_id", unreachable},
                                          {"report_type", "BASIC"},
                                          {"data_level", "AUCTION_ADVERTISER"},
                                          {"dimensions", json::array{"stat_time_day"}},
                                          {"start_date", "2025-03-01"},
                                          {"end_date", "2025-03-01"}})
                .at("code")
                .as_int64(),
            40001);
  for (const std::string path : {"/report/task/check/", "/report/task/download/"}) {
    EXPECT_EQ(get(path + "?advertiser_id=" + unreachable + "&task_id=7300003000000000001")
                  .at("code")
                  .as_int64(),
              40001)
        << path;
  }
  EXPECT_EQ(post("/report/task/cancel/", {{"advertiser_id", unreachable}, {"task_id", "1"}})
                .at("code")
                .as_int64(),
            40001);
  // Without a token nothing is answered.
  EXPECT_EQ(client_.get(api + "/report/integrated/get/").json().at("code").as_int64(), 40104);
}

// Money in cents, from a metric string.
long long cents(const json::value& v) {
  const std::string text(v.as_string());
  return text == "-" ? 0 : std::llround(std::stod(text) * 100);
}

TEST_F(sandbox_reports, campaign_rows_add_up_to_the_ad_account_and_hours_to_the_day) {
  const auto id = account_with_campaigns(2);
  const auto by_campaign =
      get(report_query(id, "AUCTION_CAMPAIGN", R"(["campaign_id","stat_time_day"])", "2025-05-01",
                       "2025-05-10", "&page_size=1000"))
          .at("data")
          .at("list")
          .as_array();
  const auto by_account = get(report_query(id, "AUCTION_ADVERTISER", R"(["stat_time_day"])",
                                           "2025-05-01", "2025-05-10"))
                              .at("data")
                              .at("list")
                              .as_array();
  ASSERT_EQ(by_account.size(), 10U);
  std::map<std::string, long long> per_day;
  for (const auto& row : by_campaign) {
    per_day[std::string(row.at("dimensions").at("stat_time_day").as_string())] +=
        cents(row.at("metrics").at("spend"));
  }
  for (const auto& row : by_account) {
    const std::string day(row.at("dimensions").at("stat_time_day").as_string());
    EXPECT_EQ(per_day[day], cents(row.at("metrics").at("spend"))) << day;
  }

  // A day with data, split into 24 hours that add up to it.
  const auto* const daily = std::find_if(by_account.begin(), by_account.end(), [](const auto& row) {
    return row.at("metrics").at("spend").as_string() != "-";
  });
  ASSERT_NE(daily, by_account.end());
  const std::string day =
      std::string(daily->at("dimensions").at("stat_time_day").as_string()).substr(0, 10);
  const auto hours =
      get(report_query(id, "AUCTION_ADVERTISER", R"(["stat_time_hour"])", day, day,
                       "&metrics=" + encode(R"(["spend","impressions"])") + "&page_size=100"));
  ASSERT_EQ(hours.at("code").as_int64(), 0) << hours;
  const auto& list = hours.at("data").at("list").as_array();
  ASSERT_EQ(list.size(), 24U);
  EXPECT_EQ(list[0].at("dimensions").at("stat_time_hour").as_string(), day + " 00:00:00");
  EXPECT_EQ(list[23].at("dimensions").at("stat_time_hour").as_string(), day + " 23:00:00");
  long long spend = 0;
  long long impressions = 0;
  for (const auto& row : list) {
    spend += cents(row.at("metrics").at("spend"));
    impressions += std::stoll(std::string(row.at("metrics").at("impressions").as_string()));
  }
  EXPECT_EQ(spend, cents(daily->at("metrics").at("spend")));
  EXPECT_EQ(impressions,
            std::stoll(std::string(daily->at("metrics").at("impressions").as_string())));
  // Hours cover one day at most.
  EXPECT_EQ(get(report_query(id, "AUCTION_ADVERTISER", R"(["stat_time_hour"])", "2025-05-01",
                             "2025-05-02"))
                .at("message")
                .as_string(),
            "max time span is 1 day when use stat_time_hour");
}

TEST_F(sandbox_reports, order_field_sorts_the_rows) {
  const auto id = account_with_campaigns(1);
  const auto query = [&](const std::string& order) {
    return get(report_query(id, "AUCTION_AD", R"(["ad_id","stat_time_day"])", "2025-06-01",
                            "2025-06-30", "&page_size=1000" + order))
        .at("data")
        .at("list")
        .as_array();
  };
  const auto plain = query("");
  const auto desc = query("&order_field=spend");
  const auto asc = query("&order_field=spend&order_type=ASC");
  ASSERT_EQ(plain.size(), desc.size());
  ASSERT_FALSE(desc.empty());
  for (std::size_t i = 1; i < desc.size(); ++i) {
    EXPECT_GE(cents(desc[i - 1].at("metrics").at("spend")),
              cents(desc[i].at("metrics").at("spend")));
    EXPECT_LE(cents(asc[i - 1].at("metrics").at("spend")), cents(asc[i].at("metrics").at("spend")));
  }
  // Unordered: ID ascending, then day ascending.
  for (std::size_t i = 1; i < plain.size(); ++i) {
    const auto key = [](const json::value& row) {
      const std::string ad(row.at("dimensions").at("ad_id").as_string());
      return std::make_pair(ad.size(),
                            ad + std::string(row.at("dimensions").at("stat_time_day").as_string()));
    };
    EXPECT_LT(key(plain[i - 1]), key(plain[i]));
  }
  EXPECT_EQ(get(report_query(id, "AUCTION_AD", R"(["ad_id"])", "2025-06-01", "2025-06-30",
                             "&order_field=clicks"))
                .at("code")
                .as_int64(),
            40002)
      << "only a requested metric";
}

TEST_F(sandbox_reports, deleted_ads_are_in_a_report_only_with_status_all) {
  std::size_t more = 0;
  for (const auto& id : advertisers()) {
    const auto count = [&](const std::string& extra) {
      const auto reply = get(report_query(id, "AUCTION_AD", R"(["ad_id"])", "2025-06-01",
                                          "2025-06-30", "&page_size=1000" + extra));
      EXPECT_EQ(reply.at("code").as_int64(), 0) << reply;
      return reply.at("data").at("list").as_array().size();
    };
    const auto plain = count("");
    EXPECT_EQ(plain, list_of("/ad/get/", id).size());
    const auto all = count(
        "&filtering=" +
        encode(
            R"([{"field_name":"ad_status","filter_type":"IN","filter_value":"[\"STATUS_ALL\"]"}])"));
    EXPECT_GE(all, plain);
    more += all - plain;
  }
  EXPECT_GT(more, 0U);
}

TEST_F(sandbox_reports, a_lifetime_report_has_one_row_per_object_and_no_time) {
  const auto id = account_with_campaigns(1);
  const auto reply = get("/report/integrated/get/?advertiser_id=" + id +
                         "&report_type=BASIC&data_level=AUCTION_CAMPAIGN&dimensions=" +
                         encode(R"(["campaign_id"])") + "&query_lifetime=true");
  ASSERT_EQ(reply.at("code").as_int64(), 0) << reply;
  EXPECT_EQ(reply.at("data").at("list").as_array().size(), list_of("/campaign/get/", id).size());
  const auto with_day = get("/report/integrated/get/?advertiser_id=" + id +
                            "&report_type=BASIC&data_level=AUCTION_CAMPAIGN&dimensions=" +
                            encode(R"(["campaign_id","stat_time_day"])") + "&query_lifetime=true");
  EXPECT_EQ(with_day.at("code").as_int64(), 40002);
}

}  // namespace
}  // namespace unlinkd::test
