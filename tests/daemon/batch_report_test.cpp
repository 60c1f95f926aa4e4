// The report of a batch (PRODUCT.md §6), built from stored records: every
// field per account, the summary's counts and API calls per account, a dry
// run's plan and its totals, and CSV quoting.
#include "daemon/batch_report.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace unlinkd::daemon {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const auto t0 = std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + 12h;

store::batch_record batch(bool dry_run) {
  store::batch_record b;
  b.id = 1;
  b.name = "acme-offboarding";
  b.dry_run = dry_run;
  b.state = store::batch_state::completed;
  b.created_at = t0;
  b.finished_at = t0 + 90s;
  return b;
}

store::account_record account(const std::string& id, store::account_state state,
                              std::uint64_t calls) {
  store::account_record a;
  a.settings.id = id;
  a.settings.label = "Client, \"North\"";
  a.settings.type = config::account_type::advertiser;
  a.settings.mode = config::unlink_mode::partner_share;
  a.state = state;
  a.api_calls = calls;
  a.started_at = t0 + 1s;
  a.ended_at = t0 + 31s;
  return a;
}

TEST(batch_report, every_account_field_and_the_summary) {
  auto failed = account("7100000000000000002", store::account_state::failed, 9);
  failed.step = store::pipeline_step::backup;
  failed.last_error = store::account_error{40002, "cannot read the ads", "2026112612000000ABC"};
  auto done = account("7100000000000000001", store::account_state::done, 11);
  done.backup = store::backup_record{"/var/lib/unlinkd/backups/acme/7100000000000000001", "ab12"};
  done.campaigns_paused = {"1", "2"};
  done.unlink_sent_at = t0 + 20s;
  const auto report = json::parse(report_json(batch(false), {done, failed})).as_object();

  const auto& rows = report.at("accounts").as_array();
  ASSERT_EQ(rows.size(), 2U);
  const auto& d = rows[0].as_object();
  EXPECT_EQ(d.at("state").as_string(), "done");
  EXPECT_EQ(d.at("api_calls").as_int64(), 11);
  EXPECT_EQ(d.at("started_at").as_string(), "2026-11-26T12:00:01Z");
  EXPECT_EQ(d.at("ended_at").as_string(), "2026-11-26T12:00:31Z");
  EXPECT_EQ(d.at("duration_seconds").as_int64(), 30);
  EXPECT_EQ(d.at("backup_digest").as_string(), "ab12");
  EXPECT_EQ(d.at("campaigns_paused").as_array().size(), 2U);
  EXPECT_EQ(d.at("unlinked_at").as_string(), "2026-11-26T12:00:20Z");
  EXPECT_FALSE(d.contains("plan")) << "a real run has no plan";
  const auto& f = rows[1].as_object();
  EXPECT_EQ(f.at("failed_step").as_string(), "backup");
  EXPECT_EQ(f.at("api_code").as_int64(), 40002);
  EXPECT_EQ(f.at("request_id").as_string(), "2026112612000000ABC");

  const auto& summary = report.at("summary").as_object();
  EXPECT_EQ(summary.at("accounts").as_int64(), 2);
  EXPECT_EQ(summary.at("by_state").at("done").as_int64(), 1);
  EXPECT_EQ(summary.at("by_state").at("failed").as_int64(), 1);
  EXPECT_EQ(summary.at("api_calls").as_int64(), 20);
  EXPECT_DOUBLE_EQ(summary.at("api_calls_per_account").as_double(), 10.0);
  EXPECT_EQ(summary.at("duration_seconds").as_int64(), 90);
}

TEST(batch_report, a_dry_run_reports_its_plan_and_the_totals) {
  auto a = account("7100000000000000001", store::account_state::done, 2);
  a.campaigns_to_pause = {"1"};
  a.plan = store::account_plan{"unlink", 12, 1200ms};
  auto b = account("7100000000000000002", store::account_state::done, 1);
  b.plan = store::account_plan{"already_unlinked", 3, 300ms};
  auto c = account("7100000000000000003", store::account_state::failed, 1);
  const auto report = json::parse(report_json(batch(true), {a, b, c})).as_object();

  const auto& rows = report.at("accounts").as_array();
  const auto& plan = rows[0].at("plan").as_object();
  EXPECT_EQ(plan.at("action").as_string(), "unlink");
  EXPECT_EQ(plan.at("estimated_api_calls").as_int64(), 12);
  EXPECT_DOUBLE_EQ(plan.at("estimated_seconds").as_double(), 1.2);
  EXPECT_EQ(plan.at("campaigns_to_pause").as_array().size(), 1U);
  EXPECT_EQ(rows[1].at("plan").at("action").as_string(), "already_unlinked");
  EXPECT_TRUE(rows[2].at("plan").is_null()) << "a failed preflight has no plan";

  const auto& totals = report.at("summary").at("plan").as_object();
  EXPECT_EQ(totals.at("estimated_api_calls").as_int64(), 15);
  EXPECT_DOUBLE_EQ(totals.at("estimated_seconds").as_double(), 1.5);
}

TEST(batch_report, csv_has_one_quoted_row_per_account) {
  auto a = account("7100000000000000001", store::account_state::done, 11);
  a.plan = store::account_plan{"unlink", 12, 1500ms};
  const auto csv = report_csv(batch(true), {a});
  const auto header_end = csv.find("\r\n");
  ASSERT_NE(header_end, std::string::npos);
  EXPECT_EQ(csv.substr(0, header_end),
            "batch,id,label,type,mode,state,failed_step,reason,api_code,request_id,backup_folder,"
            "backup_digest,campaigns_paused,api_calls,started_at,ended_at,plan_action,"
            "plan_api_calls,plan_seconds");
  const auto row = csv.substr(header_end + 2);
  EXPECT_EQ(row,
            "acme-offboarding,7100000000000000001,\"Client, \"\"North\"\"\",advertiser,"
            "partner_share,done,,,,,,,,11,2026-11-26T12:00:01Z,2026-11-26T12:00:31Z,unlink,12,"
            "1.5\r\n");
}

}  // namespace
}  // namespace unlinkd::daemon
