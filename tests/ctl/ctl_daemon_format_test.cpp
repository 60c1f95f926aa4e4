// The tables and lines unlinkctl prints for people, from JSON shaped as
// daemon/control_api.cpp answers.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "ctl/daemon_format.hpp"
#include "ctl/exit_codes.hpp"

namespace unlinkd::ctl {
namespace {

const char* const batches_json = R"({"batches":[
  {"name":"acme-q3","id":1,"state":"running","state_reason":"","action":"unlink","dry_run":false,
   "credentials":"default","business_center_id":"7000","source_file":"acme.yaml",
   "submitter_uid":0,"created_at":"2026-11-26T16:00:00Z",
   "accounts":{"total":6,"by_state":{"done":4,"failed":1,"needs_attention":1},
               "in_progress_by_step":{"unlink":1}}},
  {"name":"b2","id":2,"state":"completed","state_reason":"all accounts finished",
   "action":"unlink","dry_run":true,"credentials":"default","business_center_id":"7000",
   "source_file":"b2.yaml","submitter_uid":1000,"created_at":"2026-11-26T16:05:00Z",
   "finished_at":"2026-11-26T16:06:00Z",
   "accounts":{"total":2,"by_state":{"done":2},"in_progress_by_step":{}}}]})";

TEST(ctl_daemon_format, table_pads_columns_and_trims_ends) {
  EXPECT_EQ(format_table({{"A", "BB", "C"}, {"long", "x", ""}}), "A     BB  C\nlong  x\n");
  EXPECT_EQ(format_table({}), "");
}

TEST(ctl_daemon_format, status_has_health_and_a_line_per_batch) {
  const auto health = boost::json::parse(R"({"status":"ok","in_flight":3})");
  EXPECT_EQ(format_status(health, boost::json::parse(batches_json)),
            "unlinkd: ok, 3 accounts in flight\n"
            "  acme-q3  running    4/6 done, 1 failed, 1 need attention\n"
            "  b2       completed  2/2 done, 0 failed\n");
  EXPECT_EQ(format_status(boost::json::parse(R"({"status":"ok","in_flight":1})"),
                          boost::json::parse(R"({"batches":[]})")),
            "unlinkd: ok, 1 account in flight\nno batches\n");
}

TEST(ctl_daemon_format, batches_table) {
  EXPECT_EQ(format_batches_table(boost::json::parse(batches_json)),
            "BATCH    ID  STATE      ACTION  DRY RUN  TOTAL  DONE  FAILED  ATTENTION  CREATED\n"
            "acme-q3  1   running    unlink  no       6      4     1       1          "
            "2026-11-26T16:00:00Z\n"
            "b2       2   completed  unlink  yes      2      2     0       0          "
            "2026-11-26T16:05:00Z\n");
  EXPECT_EQ(format_batches_table(boost::json::parse("{}")), "no batches\n");
}

TEST(ctl_daemon_format, batch_shows_reason_and_counts_by_state_and_step) {
  const auto all = boost::json::parse(batches_json);
  const std::string first = format_batch(all.at("batches").at(0));
  EXPECT_EQ(first,
            "batch acme-q3 (id 1)\n"
            "  state:             running\n"
            "  state reason:      -\n"
            "  action:            unlink\n"
            "  credentials:       default\n"
            "  business center:   7000\n"
            "  source file:       acme.yaml\n"
            "  submitted by uid:  0\n"
            "  created:           2026-11-26T16:00:00Z\n"
            "  finished:          -\n"
            "accounts: 6\n"
            "  by state:\n"
            "    done             4\n"
            "    failed           1\n"
            "    needs_attention  1\n"
            "  in progress by step:\n"
            "    unlink  1\n");
  const std::string second = format_batch(all.at("batches").at(1));
  EXPECT_NE(second.find("  state reason:      all accounts finished\n"), std::string::npos);
  EXPECT_NE(second.find("  action:            unlink (dry run)\n"), std::string::npos);
  EXPECT_NE(second.find("  finished:          2026-11-26T16:06:00Z\n"), std::string::npos);
  EXPECT_EQ(second.find("in progress by step"), std::string::npos) << "empty: not shown";
}

TEST(ctl_daemon_format, accounts_table) {
  const auto accounts = boost::json::parse(R"([
    {"id":"7001","label":"Shop A","type":"advertiser","state":"done","step":"verify",
     "attempts":1,"next_attempt_at":"2026-11-26T16:00:00Z","campaigns_paused":[]},
    {"id":"7002","label":"","type":"pixel","state":"failed","step":"unlink","attempts":5,
     "last_error":{"code":"40100","message":"rate limited","request_id":"r1"}}])");
  EXPECT_EQ(format_accounts_table(accounts),
            "ACCOUNT  LABEL   TYPE        STATE   STEP    ATTEMPTS  LAST ERROR\n"
            "7001     Shop A  advertiser  done    verify  1         -\n"
            "7002     -       pixel       failed  unlink  5         40100: rate limited\n");
  EXPECT_EQ(format_accounts_table(boost::json::array{}), "no accounts\n");
}

TEST(ctl_daemon_format, history_shows_the_account_then_its_events) {
  const auto account = boost::json::parse(R"({"id":"7002","label":"Shop B","type":"advertiser",
    "state":"failed","step":"unlink","attempts":2,"next_attempt_at":"2026-11-26T16:10:00Z",
    "last_error":{"code":"40001","message":"no permission","request_id":"req-9"},
    "backup":{"folder":"/var/lib/unlinkd/backups/1/7002","digest":"abc"},
    "campaigns_paused":["c1","c2"],
    "events":[{"seq":5,"at":"2026-11-26T16:01:00Z","kind":"transition","detail":"",
               "from_state":"pending","to_state":"preflight","step":"preflight","batch_id":1,
               "account_id":"7002"},
              {"seq":9,"at":"2026-11-26T16:02:00Z","kind":"retry_failed","detail":"by request",
               "from_state":"failed","to_state":"unlink","step":"unlink","uid":1000}]})");
  EXPECT_EQ(format_history(account),
            "account 7002 (Shop B, advertiser)\n"
            "  state:             failed\n"
            "  step:              unlink\n"
            "  attempts:          2\n"
            "  next attempt:      2026-11-26T16:10:00Z\n"
            "  last error:        40001: no permission (request req-9)\n"
            "  backup:            /var/lib/unlinkd/backups/1/7002 (abc)\n"
            "  campaigns paused:  c1, c2\n"
            "events:\n"
            "SEQ  AT                    KIND          FROM     TO         STEP       UID   DETAIL\n"
            "5    2026-11-26T16:01:00Z  transition    pending  preflight  preflight  -     -\n"
            "9    2026-11-26T16:02:00Z  retry_failed  failed   unlink     unlink     1000  by "
            "request\n");
}

TEST(ctl_daemon_format, problems_as_validate_prints_them) {
  const auto answer =
      boost::json::parse(R"({"error":"invalid_manifest","message":"m.yaml is not a valid manifest",
    "problems":[{"line":3,"column":5,"message":"accounts[0].id: not a number"},
    {"line":9,"column":1,"message":"action: must be unlink"}],"problems_not_shown":2})");
  EXPECT_EQ(format_problems("dir/m.yaml", answer),
            "dir/m.yaml:3:5: error: accounts[0].id: not a number\n"
            "dir/m.yaml:9:1: error: action: must be unlink\n"
            "dir/m.yaml: 2 more problems not shown\n");
  EXPECT_EQ(format_problems("m.yaml", boost::json::parse(R"({"message":"too big"})")),
            "m.yaml: error: too big\n");
}

TEST(ctl_daemon_format, error_messages) {
  EXPECT_EQ(error_message(404, R"({"error":"batch_not_found","message":"no batch named 'x'"})"),
            "no batch named 'x' (batch_not_found)");
  EXPECT_EQ(error_message(502, "<html>bad gateway</html>\n"),
            "unlinkd answered HTTP 502: <html>bad gateway</html>");
  EXPECT_EQ(error_message(500, ""), "unlinkd answered HTTP 500");
}

TEST(ctl_daemon_format, exit_codes_follow_product_md) {
  EXPECT_EQ(exit_code_of(200), exit_ok);
  EXPECT_EQ(exit_code_of(201), exit_ok);
  EXPECT_EQ(exit_code_of(422), exit_invalid_manifest);
  EXPECT_EQ(exit_code_of(404), exit_not_found);
  EXPECT_EQ(exit_code_of(403), exit_refused);
  EXPECT_EQ(exit_code_of(409), exit_refused);
  EXPECT_EQ(exit_code_of(400), exit_usage);
  EXPECT_EQ(exit_code_of(405), exit_usage);
  EXPECT_EQ(exit_code_of(500), exit_usage);
}

TEST(ctl_daemon_format, an_event_is_one_line_without_empty_parts) {
  EXPECT_EQ(format_event_line(boost::json::parse(
                R"({"seq":12,"at":"2026-11-26T16:01:00Z","kind":"transition","detail":"",)"
                R"("from_state":"pending","to_state":"preflight","step":"preflight",)"
                R"("batch_id":1,"account_id":"7001"})")),
            "12  2026-11-26T16:01:00Z  transition  batch 1  account 7001  pending -> preflight  "
            "step preflight\n");
  EXPECT_EQ(format_event_line(boost::json::parse(
                R"({"seq":15,"at":"2026-11-26T16:01:02Z","kind":"batch_paused",)"
                R"("detail":"paused by an operator","from_state":"","to_state":"","step":"",)"
                R"("batch_id":1,"uid":0})")),
            "15  2026-11-26T16:01:02Z  batch_paused  batch 1  uid 0  paused by an operator\n");
  EXPECT_EQ(format_event_line(boost::json::parse("{}")), "-  -  -\n") << "missing fields show as -";
}

}  // namespace
}  // namespace unlinkd::ctl
