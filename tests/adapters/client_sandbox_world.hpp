#pragma once
// The client against the real sandbox process on port 0, serving the fixture
// world (examples/sandbox-fixture.yaml), with a captured logger and the test
// rate gate. One per test: nothing is shared between tests.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tests/adapters/client_test_support.hpp"
#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::test {

inline const std::string fixture_advertiser = "7100000000000000001";
inline const std::string fixture_campaign = "1700000000000000001";
inline const std::string fixture_bc = "7000000000000000100";

struct sandbox_world {
  explicit sandbox_world(std::vector<std::string> extra = {"--no-limits"},
                         adapters::client_options options = fast_options(),
                         adapters::simple_rate_gate_options gate_options = {})
      : sandbox(with_fixture(std::move(extra))),
        admin(sandbox.port()),
        profile(fixture_admin(sandbox.port())),
        gate(io.get_executor(), gate_options),
        client(io.get_executor(), gate, *log.logger, std::move(options)) {
    ctx.batch = "client-test";
    ctx.credential = &profile;
    ctx.base_url = profile.base_url;
  }

  adapters::api_result<adapters::api_reply> call(
      adapters::api_request request, std::chrono::milliseconds limit = std::chrono::seconds{30}) {
    return run_bounded(io, client.call(ctx, std::move(request)), limit);
  }

  [[nodiscard]] boost::json::value stats() { return admin.get("/_sandbox/stats").json(); }
  [[nodiscard]] std::uint64_t total_calls() {
    return stats().at("total_calls").to_number<std::uint64_t>();
  }
  [[nodiscard]] std::uint64_t fault_count(const std::string& kind) {
    return stats().at("faults").at(kind).to_number<std::uint64_t>();
  }
  void set_faults(const std::string& profile_json) {
    const auto reply = admin.put("/_sandbox/faults", profile_json);
    if (reply.status != 200) {
      throw std::runtime_error("PUT /_sandbox/faults: " + reply.body);
    }
  }

  static std::vector<std::string> with_fixture(std::vector<std::string> extra) {
    std::vector<std::string> args{"--fixture", UNLINKD_EXAMPLES "/sandbox-fixture.yaml"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  sandbox_process sandbox;
  http_client admin;
  config::credential_profile profile;
  boost::asio::io_context io;
  captured_logger log;
  adapters::simple_rate_gate gate;
  adapters::http_api_client client;
  adapters::call_context ctx;
};

inline adapters::api_request list_bcs() {
  adapters::api_request r;
  r.path = "/bc/get/";
  r.scope = adapters::call_scope::credential_level;
  return r;
}

inline adapters::api_request list_campaigns(const std::string& advertiser = fixture_advertiser) {
  adapters::api_request r;
  r.path = "/campaign/get/";
  r.query = {{"advertiser_id", advertiser}};
  return r;
}

inline adapters::api_request set_campaign_status(const std::string& status,
                                                 const std::string& campaign = fixture_campaign) {
  adapters::api_request r;
  r.method = adapters::http_method::post;
  r.path = "/campaign/status/update/";
  r.body = {{"advertiser_id", fixture_advertiser},
            {"campaign_ids", boost::json::array{campaign}},
            {"operation_status", status}};
  return r;
}

}  // namespace unlinkd::test
