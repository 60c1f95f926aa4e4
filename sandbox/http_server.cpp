#include "sandbox/http_server.hpp"

#include <iostream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace unlinkd::sandbox {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

http_method method_of(http::verb v) {
  switch (v) {
    case http::verb::get:
      return http_method::get;
    case http::verb::post:
      return http_method::post;
    case http::verb::put:
      return http_method::put;
    default:
      return http_method::other;
  }
}

api_request to_api_request(const http::request<http::string_body>& req) {
  api_request r;
  r.method = method_of(req.method());
  r.target = std::string(req.target());
  if (const auto it = req.find("Access-Token"); it != req.end()) {
    r.access_token = std::string(it->value());
  }
  r.body = req.body();
  return r;
}

// One connection: read a request, answer it, until the peer closes, asks to
// close, stays idle past the deadline or sends something unreadable.
asio::awaitable<void> serve_connection(beast::tcp_stream stream, api_service& service,
                                       server_limits limits) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    stream.expires_after(limits.idle_timeout);
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (read_error) {
      if (read_error == http::error::body_limit || read_error == http::error::header_limit) {
        http::response<http::string_body> too_large{http::status::payload_too_large, 11};
        too_large.set(http::field::content_type, "text/plain");
        too_large.body() = "request too large";
        too_large.keep_alive(false);
        too_large.prepare_payload();
        stream.expires_after(limits.idle_timeout);
        co_await http::async_write(stream, too_large, use_tuple);
      }
      break;
    }
    const auto request = parser.release();
    const api_response answer = service.handle(to_api_request(request));
    if (answer.delay.count() > 0) {  // injected latency: wait without blocking the io_context
      asio::steady_timer timer(stream.get_executor(), answer.delay);
      co_await timer.async_wait(use_tuple);
    }
    if (answer.fault == response_fault::close_without_reply) {
      // An injected connection reset: linger 0 makes close() send RST.
      beast::error_code ignored;
      stream.socket().set_option(asio::socket_base::linger(true, 0), ignored);
      stream.socket().close(ignored);
      co_return;
    }
    http::response<http::string_body> response{static_cast<http::status>(answer.status),
                                               request.version()};
    response.set(http::field::content_type, answer.content_type);
    response.set(http::field::server, "unlinkd-sandbox");
    response.body() = answer.body;
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    stream.expires_after(limits.idle_timeout);
    auto [write_error, written] = co_await http::async_write(stream, response, use_tuple);
    if (write_error || !response.keep_alive()) {
      break;
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace

asio::awaitable<void> serve(asio::ip::tcp::acceptor& acceptor, api_service& service,
                            server_limits limits) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(use_tuple);
    if (error) {
      if (error == asio::error::operation_aborted || !acceptor.is_open()) {
        co_return;
      }
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    // A connection's failure is its own: log it and keep the server up.
    asio::co_spawn(acceptor.get_executor(),
                   serve_connection(beast::tcp_stream(std::move(socket)), service, limits),
                   [](const std::exception_ptr& e) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         std::cerr << "unlinkd-sandbox: connection failed: " << ex.what() << '\n';
                       }
                     }
                   });
  }
}

}  // namespace unlinkd::sandbox
