// unlinkctl's argument parsing: global options anywhere, each command's own
// options and operand counts, and the usage errors' wording.
#include <gtest/gtest.h>

#include "ctl/command_line.hpp"

namespace unlinkd::ctl {
namespace {

boost::system::result<command_line, usage_error> parse(std::vector<std::string> args,
                                                       const char* env = nullptr) {
  return parse_command_line(args, env);
}

TEST(ctl_command_line, socket_defaults_then_env_then_option) {
  EXPECT_EQ(parse({"status"})->socket, "/run/unlinkd/unlinkd.sock");
  EXPECT_EQ(parse({"status"}, "/tmp/u.sock")->socket, "/tmp/u.sock");
  EXPECT_EQ(parse({"status"}, "")->socket, "/run/unlinkd/unlinkd.sock");
  EXPECT_EQ(parse({"--socket", "/x.sock", "status"}, "/tmp/u.sock")->socket, "/x.sock");
  EXPECT_EQ(parse({"status", "--socket", "/y.sock"})->socket, "/y.sock");
}

TEST(ctl_command_line, json_before_or_after_the_command) {
  EXPECT_TRUE(parse({"--json", "batches"})->json);
  EXPECT_TRUE(parse({"show", "b1", "--json"})->json);
  EXPECT_FALSE(parse({"show", "b1"})->json);
}

TEST(ctl_command_line, command_options) {
  const auto a = parse({"accounts", "b1", "--state", "failed", "--limit", "2500"});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->operands, std::vector<std::string>{"b1"});
  EXPECT_EQ(a->state, "failed");
  EXPECT_EQ(a->limit, 2500U);
  const auto w = parse({"watch", "--interval", "0.5", "b1"});
  ASSERT_TRUE(w);
  EXPECT_EQ(w->interval, std::chrono::milliseconds(500));
  const auto s = parse({"submit", "--dry-run", "dir/m.yaml"});
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->dry_run);
  EXPECT_EQ(s->operands, std::vector<std::string>{"dir/m.yaml"});
  EXPECT_EQ(parse({"history", "b1", "7001"})->operands, (std::vector<std::string>{"b1", "7001"}));
}

TEST(ctl_command_line, options_belong_to_their_command) {
  const auto r = parse({"show", "b1", "--state", "done"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "unlinkctl show: unknown option '--state'; see unlinkctl show --help");
  EXPECT_FALSE(parse({"status", "--dry-run"}));
  EXPECT_FALSE(parse({"accounts", "b1", "--interval", "3"}));
}

TEST(ctl_command_line, bad_values_are_usage_errors) {
  EXPECT_EQ(parse({"accounts", "b1", "--limit", "0"}).error().message,
            "unlinkctl accounts: --limit needs a whole number above 0; see unlinkctl accounts "
            "--help");
  EXPECT_FALSE(parse({"accounts", "b1", "--limit", "ten"}));
  EXPECT_FALSE(parse({"accounts", "b1", "--limit"}));
  EXPECT_FALSE(parse({"accounts", "b1", "--state", "done&limit=5"}));
  EXPECT_FALSE(parse({"watch", "b1", "--interval", "0"}));
  EXPECT_FALSE(parse({"watch", "b1", "--interval", "2s"}));
  EXPECT_FALSE(parse({"--socket"}));
}

TEST(ctl_command_line, operand_counts_are_checked) {
  EXPECT_EQ(parse({"show"}).error().message,
            "unlinkctl show: needs exactly BATCH; see unlinkctl show --help");
  EXPECT_EQ(parse({"history", "b1"}).error().message,
            "unlinkctl history: needs exactly BATCH ACCOUNT; see unlinkctl history --help");
  EXPECT_EQ(parse({"status", "extra"}).error().message,
            "unlinkctl status: takes no operands; see unlinkctl status --help");
  EXPECT_FALSE(parse({"pause", "b1", "b2"}));
}

TEST(ctl_command_line, names_that_would_change_the_url_are_refused) {
  EXPECT_FALSE(parse({"show", "../health"}));
  EXPECT_FALSE(parse({"show", "b1?x=1"}));
  EXPECT_FALSE(parse({"history", "b1", "70 01"}));
  EXPECT_TRUE(parse({"submit", "../m.yaml"}));  // a file path, not a name
}

TEST(ctl_command_line, unknown_command) {
  EXPECT_EQ(parse({"unlink", "b1"}).error().message,
            "unlinkctl: unknown command 'unlink'; see unlinkctl --help");
}

TEST(ctl_command_line, help_and_validate_pass_through) {
  const auto h = parse({"accounts", "--help"});
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->help);
  EXPECT_EQ(h->command, "accounts");
  const auto v = parse({"--json", "validate", "--credentials", "c.yaml", "m.yaml"});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->command, "validate");
  EXPECT_TRUE(v->json);
  EXPECT_EQ(v->passthrough, (std::vector<std::string>{"--credentials", "c.yaml", "m.yaml"}));
  const auto none = parse({"--json"});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->command.empty());
}

TEST(ctl_command_line, report_and_events_options) {
  const auto r = parse({"report", "b1", "--format", "csv", "-o", "out/r.csv"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->operands, std::vector<std::string>{"b1"});
  EXPECT_EQ(r->format, "csv");
  EXPECT_EQ(r->output, "out/r.csv");
  const auto d = parse({"report", "b1"});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->format, "json");
  EXPECT_FALSE(d->output);
  EXPECT_EQ(parse({"report", "b1", "--format", "xml"}).error().message,
            "unlinkctl report: --format needs csv or json; see unlinkctl report --help");
  EXPECT_EQ(parse({"report", "b1", "-o"}).error().message,
            "unlinkctl report: -o needs a FILE; see unlinkctl report --help");
  EXPECT_FALSE(parse({"report"}));
  EXPECT_FALSE(parse({"show", "b1", "--format", "csv"})) << "report's option only";

  const auto e = parse({"events", "--since", "42", "--follow", "--json"});
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->since, 42);
  EXPECT_TRUE(e->follow);
  EXPECT_TRUE(e->json);
  EXPECT_EQ(parse({"events"})->since, 0);
  EXPECT_FALSE(parse({"events"})->follow);
  EXPECT_EQ(parse({"events", "--since", "-1"}).error().message,
            "unlinkctl events: --since needs an event sequence number (0 for all); see unlinkctl "
            "events --help");
  EXPECT_FALSE(parse({"events", "b1"})) << "no operands";
}

TEST(ctl_command_line, validate_takes_the_socket_and_passes_the_rest) {
  const auto v = parse({"validate", "--socket", "/s.sock", "--offline", "m.yaml"});
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->socket, "/s.sock");
  EXPECT_EQ(v->passthrough, (std::vector<std::string>{"--offline", "m.yaml"}));
  const auto after = parse({"validate", "--", "--socket", "x"});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->socket, "/run/unlinkd/unlinkd.sock") << "after --, a file name";
  EXPECT_EQ(after->passthrough, (std::vector<std::string>{"--", "--socket", "x"}));
}

}  // namespace
}  // namespace unlinkd::ctl
