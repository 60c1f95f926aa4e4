// Transport limits: response size, deadlines, refused connections, stale
// kept-alive connections, bodies that are not envelopes, and large bodies
// streamed into the JSON parser chunk by chunk.
#include <deque>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>

#include "tests/adapters/client_sandbox_world.hpp"

namespace unlinkd::test {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using adapters::error_class;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

// A scripted HTTP server on 127.0.0.1:0: each request gets the next raw
// answer; `close_after` closes the connection once it is written.
class scripted_server {
 public:
  struct answer {
    std::string raw;
    bool close_after = false;
  };
  explicit scripted_server(asio::io_context& io)
      : acceptor_(io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io, serve(), [](const std::exception_ptr&) {});
  }
  [[nodiscard]] unsigned short port() const { return acceptor_.local_endpoint().port(); }
  void push(answer a) { answers_.push_back(std::move(a)); }
  std::size_t accepted = 0;
  std::size_t requests = 0;
  std::size_t closed = 0;

 private:
  asio::awaitable<void> serve() {
    while (true) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        co_return;
      }
      ++accepted;
      asio::co_spawn(acceptor_.get_executor(), connection(std::move(socket)),
                     [](const std::exception_ptr&) {});
    }
  }
  asio::awaitable<void> connection(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    while (!answers_.empty()) {
      http::request<http::string_body> request;
      auto [ec, n] =
          co_await http::async_read(socket, buffer, request, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        co_return;
      }
      ++requests;
      const answer a = answers_.front();
      answers_.pop_front();
      co_await asio::async_write(socket, asio::buffer(a.raw), asio::use_awaitable);
      if (a.close_after) {
        socket.shutdown(tcp::socket::shutdown_both);
        ++closed;
        co_return;
      }
    }
  }
  tcp::acceptor acceptor_;
  std::deque<answer> answers_;
};

std::string ok_envelope(const std::string& data = R"({"n":1})") {
  const std::string body = R"({"code":0,"message":"OK","request_id":"r1","data":)" + data + "}";
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct local_client {
  explicit local_client(adapters::client_options options = fast_options())
      : server(io),
        profile(fixture_admin(server.port())),
        gate(io.get_executor(), {std::chrono::microseconds{0}, 5ms}),
        client(io.get_executor(), gate, *log.logger, std::move(options)) {
    ctx.batch = "b";
    ctx.credential = &profile;
    ctx.base_url = profile.base_url;
  }
  adapters::api_result<adapters::api_reply> call(adapters::api_request r) {
    return run_bounded(io, client.call(ctx, std::move(r)), 10s);
  }
  asio::io_context io;
  scripted_server server;
  config::credential_profile profile;
  captured_logger log;
  adapters::simple_rate_gate gate;
  adapters::http_api_client client;
  adapters::call_context ctx;
};

TEST(client_transport, a_response_over_the_size_limit_fails_and_the_connection_is_dropped) {
  auto options = fast_options();
  options.max_response_bytes = 64;
  sandbox_world w{{"--no-limits"}, options};
  const auto reply = w.call(list_bcs());
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, error_class::permanent);
  EXPECT_NE(reply.error().message.find("larger than 64 bytes"), std::string::npos)
      << reply.error().message;
  EXPECT_EQ(w.client.open_connections(), 0U);
  EXPECT_EQ(w.client.counters().requests_sent, 1U);
}

TEST(client_transport, the_call_deadline_bounds_a_slow_read) {
  sandbox_world w{{"--no-limits"}, fast_options()};
  w.set_faults(R"({"latency": {"fixed": "3s"}})");
  w.ctx.deadline = std::chrono::steady_clock::now() + 300ms;
  const auto start = std::chrono::steady_clock::now();
  const auto reply = w.call(list_bcs());
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, error_class::retryable);
  EXPECT_NE(reply.error().message.find("deadline"), std::string::npos) << reply.error().message;
  EXPECT_LT(took, 2s);
  EXPECT_GE(took, 250ms);
}

TEST(client_transport, a_write_past_its_deadline_is_unknown_outcome) {
  sandbox_world w{{"--no-limits"}, fast_options()};
  w.set_faults(R"({"latency": {"fixed": "3s"}, "mutating_only": true})");
  w.ctx.deadline = std::chrono::steady_clock::now() + 300ms;
  const auto reply = w.call(set_campaign_status("DISABLE"));
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, error_class::unknown_outcome);
  EXPECT_EQ(w.client.counters().requests_sent, 1U);
}

TEST(client_transport, the_per_operation_timeout_applies_without_a_call_deadline) {
  auto options = fast_options();
  options.io_timeout = 200ms;
  options.retry.max_attempts = 2;
  sandbox_world w{{"--no-limits"}, options};
  w.set_faults(R"({"latency": {"fixed": "2s"}})");
  const auto reply = w.call(list_bcs());
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, error_class::retryable);
  EXPECT_NE(reply.error().message.find("timed out"), std::string::npos) << reply.error().message;
  EXPECT_EQ(w.client.counters().requests_sent, 2U);
}

TEST(client_transport, a_refused_connection_is_retryable_and_never_counted_as_sent) {
  asio::io_context io;
  unsigned short port = 0;
  {
    tcp::acceptor probe(io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }  // closed: nothing listens there now
  captured_logger log;
  adapters::simple_rate_gate gate{io.get_executor()};
  adapters::http_api_client client{io.get_executor(), gate, *log.logger, fast_options()};
  const auto profile = fixture_admin(port);
  adapters::call_context ctx{"b", &profile, profile.base_url};
  const auto reply = run_bounded(io, client.call(ctx, set_campaign_status("DISABLE")), 10s);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, error_class::retryable);  // a write never sent is safe to retry
  EXPECT_NE(reply.error().message.find("cannot connect"), std::string::npos)
      << reply.error().message;
  EXPECT_EQ(gate.counters().not_sent, 4U);
  EXPECT_EQ(client.counters().requests_sent, 0U);
  EXPECT_EQ(client.open_connections(), 0U);
}

TEST(client_transport, a_kept_alive_connection_closed_by_the_server_is_not_reused) {
  local_client c;
  c.server.push({ok_envelope(), true});
  c.server.push({ok_envelope(), false});
  ASSERT_TRUE(c.call(set_campaign_status("DISABLE")));
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (c.server.closed == 0 && std::chrono::steady_clock::now() < until) {
    c.io.restart();
    c.io.run_one_until(until);
  }
  ASSERT_EQ(c.server.closed, 1U);
  // The server closed the first connection after answering; the pool must
  // notice before it sends a write on it (which would be unknown_outcome).
  const auto second = c.call(set_campaign_status("DISABLE"));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(c.server.accepted, 2U);
  EXPECT_EQ(c.client.counters().connections_reused, 0U);
}

TEST(client_transport, a_body_that_is_not_an_envelope_is_permanent_for_reads_unknown_for_writes) {
  local_client c;
  const std::string garbage = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!";
  c.server.push({garbage, false});
  c.server.push({garbage, false});
  c.server.push({"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n{\"a\":1}\n", false});
  auto read = c.call(list_bcs());
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().kind, error_class::permanent);
  EXPECT_NE(read.error().message.find("not an API envelope"), std::string::npos)
      << read.error().message;
  const auto write = c.call(set_campaign_status("DISABLE"));
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().kind, error_class::unknown_outcome);
  read = c.call(list_bcs());  // JSON, but no code
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().kind, error_class::permanent);
}

TEST(client_transport, a_large_chunked_body_is_parsed_as_it_streams) {
  local_client c;
  json::array list;
  for (int i = 0; i < 5000; ++i) {
    list.push_back(
        json::object{{"campaign_id", std::to_string(1700000000000000000LL + i)}, {"name", "n"}});
  }
  const std::string body = R"({"code":0,"message":"OK","request_id":"big","data":{"list":)" +
                           json::serialize(list) + "}}";
  std::string raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (std::size_t at = 0; at < body.size(); at += 7000) {
    const auto part = body.substr(at, 7000);
    std::ostringstream size;
    size << std::hex << part.size();
    raw += size.str() + "\r\n" + part + "\r\n";
  }
  raw += "0\r\n\r\n";
  ASSERT_GT(body.size(), 200'000U);
  c.server.push({raw, false});
  c.server.push({ok_envelope(), false});
  const auto reply = c.call(list_bcs());
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->request_id, "big");
  EXPECT_EQ(reply->data.at("list").as_array().size(), 5000U);
  EXPECT_EQ(reply->data.at("list").at(4999).at("campaign_id").as_string(), "1700000000000004999");
  // The connection stays usable after a chunked body.
  ASSERT_TRUE(c.call(list_bcs()));
  EXPECT_EQ(c.server.accepted, 1U);
}

TEST(client_transport, http_429_is_rate_limited) {
  local_client c;
  c.server.push({"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n", false});
  c.server.push({ok_envelope(), false});
  auto options_free = c.call(list_bcs());
  ASSERT_TRUE(options_free) << options_free.error().message;
  EXPECT_EQ(c.gate.counters().rate_limited, 1U);
  EXPECT_EQ(options_free->attempts, 2U);
}

}  // namespace
}  // namespace unlinkd::test
