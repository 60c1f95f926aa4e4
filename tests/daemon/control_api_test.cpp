// The control socket's requests as a function (no socket): who may do what,
// submit and validate with positioned problems, refusals as 409, reads from
// the store, controls through the engine, and errors with stable codes.
#include "daemon/control_api.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "tests/scheduler/fake_platform.hpp"

namespace unlinkd::daemon {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;

const std::string manifest = R"(version: 1
batch: api-test
credentials: acme
business_center_id: "7012345678901234567"
defaults:
  unlink: partner_share
  partner_id: "7099999999999999999"
accounts:
  - id: "7123456789012345678"
    type: advertiser
)";

class control_api_test : public ::testing::Test {
 protected:
  control_api_test() {
    std::string pattern = (fs::temp_directory_path() / "unlinkd-api-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    dir_ = pattern;
    store_ = std::move(store::store::open(dir_ + "/unlinkd.db", {}, log_).value());
    engine_ = std::make_unique<scheduler::engine>(
        io_.get_executor(), *store_, platform_,
        [](const store::batch_record&) { return std::optional<adapters::call_context>(); },
        scheduler::engine_options{}, log_);
    control_settings s;
    s.groups = {gid_t{5000}, gid_t{5001}};
    s.profiles = [] { return std::optional<std::vector<std::string>>({"acme"}); };
    api_ = std::make_unique<control_api>(*store_, *engine_, s);
  }
  ~control_api_test() override {
    store_.reset();
    engine_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

 public:
  control_api_test(const control_api_test&) = delete;
  control_api_test& operator=(const control_api_test&) = delete;

 protected:
  control_response call(const std::string& method, const std::string& target, const caller& who,
                        const std::string& body = {}, const std::string& name = "batch.yaml") {
    std::optional<control_response> out;
    control_request r{method, target, body, name};
    asio::co_spawn(io_, api_->handle(r, who), [&](const std::exception_ptr& e, control_response v) {
      if (e) {
        std::rethrow_exception(e);
      }
      out = std::move(v);
    });
    io_.restart();
    while (!out) {
      io_.run_one();
    }
    return *out;
  }

  static caller admin() { return {4242, 100, 1, {5001}}; }
  static caller reader() { return {4243, 100, 1, {5000}}; }
  static caller stranger() { return {4244, 100, 1, {}}; }

  std::string dir_;
  spdlog::logger log_{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  asio::io_context io_;
  std::unique_ptr<store::store> store_;
  scheduler::test::fake_platform platform_{io_.get_executor()};
  std::unique_ptr<scheduler::engine> engine_;
  std::unique_ptr<control_api> api_;
};

TEST_F(control_api_test, strangers_get_403_and_readers_may_not_change) {
  EXPECT_EQ(call("GET", "/v1/health", stranger()).status, 403U);
  EXPECT_EQ(call("GET", "/v1/health", reader()).status, 200U);
  const auto r = call("POST", "/v1/batches", reader(), manifest);
  EXPECT_EQ(r.status, 403U);
  EXPECT_EQ(json::parse(r.body).at("error").as_string(), "forbidden");
  EXPECT_EQ(call("GET", "/v1/health", caller{0, 0, 1, {}}).status, 200U) << "root always may";
}

TEST_F(control_api_test, a_submitted_manifest_becomes_a_batch_once) {
  const auto created = call("POST", "/v1/batches", admin(), manifest);
  ASSERT_EQ(created.status, 201U) << created.body;
  EXPECT_EQ(json::parse(created.body).at("batch").as_string(), "api-test");
  const auto again = call("POST", "/v1/batches", admin(), manifest);
  EXPECT_EQ(again.status, 409U);
  EXPECT_EQ(json::parse(again.body).at("error").as_string(), "duplicate_manifest");
  const auto list = json::parse(call("GET", "/v1/batches", reader()).body);
  ASSERT_EQ(list.at("batches").as_array().size(), 1U);
  const auto& b = list.at("batches").as_array()[0];
  EXPECT_EQ(b.at("submitter_uid").as_int64(), 4242) << "the caller, not the daemon";
  EXPECT_EQ(b.at("accounts").at("total").as_int64(), 1);
  const auto one = call("GET", "/v1/batches/api-test/accounts/7123456789012345678", reader());
  EXPECT_EQ(one.status, 200U) << one.body;
  const auto report = call("GET", "/v1/batches/api-test/report?format=csv", reader());
  EXPECT_EQ(report.status, 200U);
  EXPECT_NE(report.body.find("api-test,7123456789012345678,"), std::string::npos) << report.body;
  EXPECT_EQ(json::parse(call("GET", "/v1/batches/api-test/report", reader()).body)
                .at("summary")
                .at("accounts")
                .as_int64(),
            1);
  const auto events = call("GET", "/v1/events?since=0&follow=false", reader());
  EXPECT_EQ(events.content_type, "application/x-ndjson");
  EXPECT_FALSE(events.next) << "follow=false is one answer";
  EXPECT_NE(events.body.find("batch_accepted"), std::string::npos);
}

TEST_F(control_api_test, an_invalid_manifest_is_422_with_its_positions_and_nothing_stored) {
  const auto r = call("POST", "/v1/batches", admin(), "version: 1\nbatch: Bad\n");
  EXPECT_EQ(r.status, 422U);
  const auto body = json::parse(r.body);
  EXPECT_EQ(body.at("error").as_string(), "invalid_manifest");
  EXPECT_FALSE(body.at("problems").as_array().empty());
  EXPECT_TRUE(
      json::parse(call("GET", "/v1/batches", reader()).body).at("batches").as_array().empty());
  const auto unknown_profile = manifest.substr(0, manifest.find("credentials")) +
                               "credentials: nope\n" +
                               manifest.substr(manifest.find("business_center_id"));
  EXPECT_EQ(call("POST", "/v1/validate", reader(), unknown_profile).status, 422U)
      << "the daemon knows its profiles, and validating changes nothing: readers may";
  EXPECT_EQ(call("POST", "/v1/validate", admin(), manifest).status, 200U);
}

TEST_F(control_api_test, unknown_things_are_404_and_bad_queries_400) {
  EXPECT_EQ(call("GET", "/v1/nothing", reader()).status, 404U);
  EXPECT_EQ(call("GET", "/v1/batches/none", reader()).status, 404U);
  EXPECT_EQ(call("POST", "/v1/batches/none/pause", admin()).status, 404U);
  EXPECT_EQ(call("DELETE", "/v1/batches", admin()).status, 405U);
  ASSERT_EQ(call("POST", "/v1/batches", admin(), manifest).status, 201U);
  EXPECT_EQ(call("GET", "/v1/batches/api-test/accounts?state=happy", reader()).status, 400U);
  EXPECT_EQ(call("GET", "/v1/events?since=x", reader()).status, 400U);
  EXPECT_EQ(call("GET", "/v1/events?follow=maybe", reader()).status, 400U);
  EXPECT_EQ(call("GET", "/v1/events?follow=false&limit=0", reader()).status, 400U);
  EXPECT_EQ(call("GET", "/v1/events?follow=false&limit=x", reader()).status, 400U);
}

// Found by control_request_fuzz: X-Manifest-Name's bytes were stored as the
// batch's source_file and quoted into its event, so the event stream and
// the batch answer were not valid JSON (RFC 8259 §8.1 wants UTF-8).
TEST_F(control_api_test, a_manifest_name_that_is_not_utf8_is_stored_escaped) {
  ASSERT_EQ(call("POST", "/v1/batches", admin(), manifest, "acme\xff.yaml").status, 201U);
  const auto events = call("GET", "/v1/events?follow=false", reader()).body;
  ASSERT_FALSE(events.empty());
  for (std::size_t at = 0, end = events.find('\n'); end != std::string::npos;
       at = end + 1, end = events.find('\n', at)) {
    json::error_code ec;
    json::parse(events.substr(at, end - at), ec);  // strict: invalid UTF-8 is an error
    EXPECT_FALSE(ec) << events.substr(at, end - at);
  }
  EXPECT_NE(events.find("acme\\\\xFF.yaml"), std::string::npos) << events;
  json::error_code ec;
  const auto batch = json::parse(call("GET", "/v1/batches/api-test", reader()).body, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(batch.at("source_file").as_string(), "acme\\xFF.yaml");
}

TEST_F(control_api_test, follow_false_pages_by_limit_and_since) {
  ASSERT_EQ(call("POST", "/v1/batches", admin(), manifest).status, 201U);
  ASSERT_EQ(call("POST", "/v1/batches/api-test/pause", admin()).status, 200U);
  ASSERT_EQ(call("POST", "/v1/batches/api-test/resume", admin()).status, 200U);
  const auto lines = [](const std::string& ndjson) {
    std::vector<json::value> out;
    std::size_t at = 0;
    for (auto end = ndjson.find('\n'); end != std::string::npos;
         at = end + 1, end = ndjson.find('\n', at)) {
      out.push_back(json::parse(ndjson.substr(at, end - at)));
    }
    return out;
  };
  const auto all = lines(call("GET", "/v1/events?follow=false", reader()).body);
  ASSERT_GE(all.size(), 3U);
  const auto first_two = lines(call("GET", "/v1/events?follow=false&limit=2", reader()).body);
  ASSERT_EQ(first_two.size(), 2U);
  EXPECT_EQ(first_two[1], all[1]);
  const auto after = all[0].at("seq").as_int64();
  const auto rest =
      lines(call("GET", "/v1/events?follow=false&since=" + std::to_string(after), reader()).body);
  ASSERT_EQ(rest.size(), all.size() - 1);
  EXPECT_EQ(rest[0], all[1]);
}

// The stream's source, called as control_server calls it: the events after
// `since` first, then "" while nothing is new, then an event appended later.
TEST_F(control_api_test, a_followed_stream_gives_new_events_as_they_come) {
  ASSERT_EQ(call("POST", "/v1/batches", admin(), manifest).status, 201U);
  const auto stream = call("GET", "/v1/events?since=0", reader());
  ASSERT_EQ(stream.status, 200U);
  EXPECT_EQ(stream.content_type, "application/x-ndjson");
  ASSERT_TRUE(stream.next) << "following is the default";
  const auto next = [&] {
    std::optional<std::optional<std::string>> out;
    asio::co_spawn(io_, stream.next(),
                   [&](const std::exception_ptr& e, std::optional<std::string> v) {
                     if (e) {
                       std::rethrow_exception(e);
                     }
                     out = std::move(v);
                   });
    io_.restart();
    while (!out) {
      io_.run_one();
    }
    return *out;
  };
  const auto first = next();
  ASSERT_TRUE(first);
  EXPECT_NE(first->find("batch_accepted"), std::string::npos) << *first;
  const auto quiet = next();
  ASSERT_TRUE(quiet);
  EXPECT_EQ(*quiet, "") << "nothing new yet";
  ASSERT_EQ(call("POST", "/v1/batches/api-test/pause", admin()).status, 200U);
  const auto later = next();
  ASSERT_TRUE(later);
  EXPECT_NE(later->find("\"uid\":4242"), std::string::npos) << *later;
  EXPECT_EQ(later->find("batch_accepted"), std::string::npos) << "only what is new: " << *later;
}

TEST_F(control_api_test, metrics_are_routed_to_the_renderer_for_readers) {
  const auto unset = call("GET", "/metrics", reader());
  EXPECT_EQ(unset.status, 503U);
  EXPECT_EQ(json::parse(unset.body).at("error").as_string(), "metrics_unavailable");
  control_settings s;
  s.groups = {gid_t{5000}, gid_t{5001}};
  int rendered = 0;
  s.metrics = [&rendered] {
    ++rendered;
    return "# TYPE unlinkd_up gauge\nunlinkd_up " + std::to_string(rendered) + "\n";
  };
  api_ = std::make_unique<control_api>(*store_, *engine_, s);
  const auto m = call("GET", "/metrics", reader());
  EXPECT_EQ(m.status, 200U);
  EXPECT_EQ(m.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(m.body, "# TYPE unlinkd_up gauge\nunlinkd_up 1\n") << "rendered on each request";
  EXPECT_EQ(call("GET", "/metrics", reader()).body, "# TYPE unlinkd_up gauge\nunlinkd_up 2\n");
  EXPECT_EQ(call("GET", "/metrics", stranger()).status, 403U);
  EXPECT_EQ(call("POST", "/metrics", reader()).status, 403U) << "a POST is a change";
  EXPECT_EQ(call("POST", "/metrics", admin()).status, 404U);
}

TEST_F(control_api_test, controls_go_through_the_engine_and_conflicts_are_409) {
  ASSERT_EQ(call("POST", "/v1/batches", admin(), manifest).status, 201U);
  const auto paused = call("POST", "/v1/batches/api-test/pause", admin());
  EXPECT_EQ(paused.status, 200U) << paused.body;
  EXPECT_EQ(call("POST", "/v1/batches/api-test/pause", admin()).status, 409U);
  EXPECT_EQ(call("POST", "/v1/batches/api-test/resume", admin()).status, 200U);
  const auto events = call("GET", "/v1/events?since=0&follow=false", reader()).body;
  EXPECT_NE(events.find("\"uid\":4242"), std::string::npos) << "changes are audited with the uid";
}

}  // namespace
}  // namespace unlinkd::daemon
