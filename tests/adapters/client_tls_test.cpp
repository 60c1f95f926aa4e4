// TLS against a local server with certificates made at test time: the right
// host is accepted (SNI sent), a wrong host name and an untrusted CA refused.
#include <gtest/gtest.h>

#include "tests/adapters/client_test_support.hpp"
#include "tests/adapters/client_tls_server.hpp"

namespace unlinkd::test {
namespace {

namespace asio = boost::asio;
using adapters::error_class;
using namespace std::chrono_literals;

// One CA we trust, one we do not; server certificates from each.
class client_tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new test_pki;
    pki_->make_ca("trusted-ca");
    pki_->make_ca("rogue-ca");
    pki_->make_server_cert("localhost", "trusted-ca", {"DNS:localhost", "IP:127.0.0.1"});
    pki_->make_server_cert("other-host", "trusted-ca", {"DNS:other.example"});
    pki_->make_server_cert("rogue", "rogue-ca", {"DNS:localhost", "IP:127.0.0.1"});
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  adapters::api_result<adapters::api_reply> call(const std::string& cert, const std::string& host,
                                                 bool trust_test_ca) {
    server_ = std::make_unique<tls_test_server>(io_, pki_->path(cert + ".pem"),
                                                pki_->path(cert + ".key"));
    auto options = fast_options();
    options.retry.max_attempts = 1;
    if (trust_test_ca) {
      options.extra_ca_file = pki_->path("trusted-ca.pem");
    }
    client_ = std::make_unique<adapters::http_api_client>(io_.get_executor(), gate_, *log_.logger,
                                                          options);
    profile_ = fixture_admin(server_->port());
    profile_.base_url = "https://" + host + ":" + std::to_string(server_->port());
    return again();
  }
  adapters::api_result<adapters::api_reply> again() {
    adapters::call_context ctx{"b", &profile_, profile_.base_url};
    adapters::api_request request;
    request.path = "/bc/get/";
    return run_bounded(io_, client_->call(ctx, request), 10s);
  }
  // Lets the server's side of a refused handshake finish (bounded).
  void settle() {
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (server_->failed_handshakes + server_->handshakes == 0 &&
           std::chrono::steady_clock::now() < until) {
      io_.restart();
      io_.run_one_until(until);
    }
  }

  static test_pki* pki_;
  asio::io_context io_;
  captured_logger log_;
  adapters::simple_rate_gate gate_{io_.get_executor()};
  std::unique_ptr<tls_test_server> server_;
  std::unique_ptr<adapters::http_api_client> client_;
  config::credential_profile profile_;
};

test_pki* client_tls::pki_ = nullptr;

TEST_F(client_tls, the_right_host_with_a_trusted_ca_is_accepted_and_kept_alive) {
  const auto reply = call("localhost", "localhost", true);
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->request_id, "tls");
  EXPECT_EQ(reply->data.at("path").as_string(), "/open_api/v1.3/bc/get/");
  EXPECT_EQ(server_->last_sni, "localhost");
  ASSERT_TRUE(again());
  EXPECT_EQ(server_->handshakes, 1U);
  EXPECT_EQ(client_->counters().connections_reused, 1U);
}

TEST_F(client_tls, an_ip_address_in_the_certificate_is_accepted_without_sni) {
  const auto reply = call("localhost", "127.0.0.1", true);
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(server_->last_sni, "");
}

TEST_F(client_tls, a_certificate_for_another_host_is_refused) {
  const auto reply = call("other-host", "localhost", true);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, error_class::retryable);
  EXPECT_NE(reply.error().message.find("TLS handshake"), std::string::npos)
      << reply.error().message;
  settle();
  EXPECT_EQ(server_->requests, 0U);
  EXPECT_EQ(client_->counters().requests_sent, 0U);
}

TEST_F(client_tls, a_certificate_from_an_untrusted_ca_is_refused) {
  const auto reply = call("rogue", "localhost", true);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().message.find("certificate verify failed"), std::string::npos)
      << reply.error().message;
  settle();
  EXPECT_EQ(server_->requests, 0U);
}

TEST_F(client_tls, the_system_store_alone_does_not_trust_a_test_ca) {
  const auto reply = call("localhost", "localhost", false);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().message.find("certificate verify failed"), std::string::npos)
      << reply.error().message;
}

TEST_F(client_tls, an_unreadable_ca_file_stops_the_start) {
  auto options = fast_options();
  options.extra_ca_file = pki_->path("missing.pem");
  EXPECT_THROW(adapters::http_api_client(io_.get_executor(), gate_, *log_.logger, options),
               std::runtime_error);
}

}  // namespace
}  // namespace unlinkd::test
