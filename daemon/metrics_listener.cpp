#include "daemon/metrics_listener.hpp"

#include <charconv>
#include <exception>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

namespace unlinkd::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto awaitable_tuple = asio::as_tuple(asio::use_awaitable);

boost::system::result<tcp::endpoint, std::string> parse_loopback_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    return "metrics_listen \"" + text + "\" is not HOST:PORT (e.g. 127.0.0.1:9464)";
  }
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return "metrics_listen \"" + text + "\": \"" + port_text + "\" is not a port (0-65535)";
  }
  if (host == "localhost") {
    host = "127.0.0.1";
  } else if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code aec;
  const auto address = asio::ip::make_address(host, aec);
  if (aec) {
    return "metrics_listen \"" + text + "\": \"" + host + "\" is not an IP address or localhost";
  }
  if (!address.is_loopback()) {
    return "metrics_listen \"" + text +
           "\" is not a loopback address; metrics are served on loopback only (127.0.0.1, "
           "[::1] or localhost)";
  }
  return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

metrics_listener::metrics_listener(asio::any_io_executor executor,
                                   std::function<std::string()> render,
                                   metrics_listener_options options, spdlog::logger& log)
    : executor_(std::move(executor)),
      render_(std::move(render)),
      options_(options),
      log_(log),
      acceptor_(executor_) {}

boost::system::result<void, std::string> metrics_listener::open(const std::string& address) {
  auto endpoint = parse_loopback_endpoint(address);
  if (!endpoint) {
    return endpoint.error();
  }
  boost::system::error_code ec;
  acceptor_.open(endpoint->protocol(), ec);
  if (!ec) {
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(*endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return "cannot listen for metrics on " + address + ": " + ec.message();
  }
  return {};
}

tcp::endpoint metrics_listener::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void metrics_listener::stop() {
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> metrics_listener::run() {
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(awaitable_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) {
        break;
      }
      log_.warn("metrics: accept failed: {}", ec.message());
      continue;
    }
    if (connections_ >= options_.max_connections) {
      continue;  // closed at once: the socket goes out of scope
    }
    ++connections_;
    asio::co_spawn(executor_, serve(std::move(socket)), [this](const std::exception_ptr& e) {
      --connections_;
      if (e) {
        // One connection's failure must not stop the daemon: log and drop it.
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          log_.error("metrics: a connection failed: {}", x.what());
        }
      }
    });
  }
}

asio::awaitable<void> metrics_listener::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
    parser.body_limit(options_.max_body_bytes);  // read, then refused with 405
    stream.expires_after(options_.deadline);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, awaitable_tuple);
    if (ec) {
      co_return;  // closed, timed out, too large or malformed: drop the connection
    }
    const auto& req = parser.get();
    http::response<http::string_body> res;
    res.version(11);
    res.set(http::field::server, "unlinkd");
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics") {
      res.result(http::status::not_found);
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = "not found: this listener serves GET /metrics only\n";
    } else if (req.method() != http::verb::get) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET");
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = "method not allowed: /metrics answers GET only\n";
    } else {
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = render_();
      ++served_;
    }
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    stream.expires_after(options_.deadline);
    auto [wec, written] = co_await http::async_write(stream, res, awaitable_tuple);
    if (wec || !res.keep_alive()) {
      co_return;
    }
  }
}

}  // namespace unlinkd::daemon
