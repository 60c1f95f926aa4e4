#pragma once
// `metrics_listen` (PRODUCT.md §6): the Prometheus text of GET /metrics also
// over loopback TCP, for a scraper that cannot reach the control socket.
// HTTP/1.1, one coroutine per connection owning its socket, on the daemon's
// io_context. It answers GET /metrics only (404 for other paths, 405 for
// other methods).
//
// Loopback only: open() refuses any other address (the config check refuses
// it first; this is the second lock). No authentication: what loopback users
// may read is the operator's call, and no metric carries a secret.
//
// Limits: a cap on connections (more are closed at once), header and body
// size limits, and a deadline on every read and write.
// Expected failures (bind, a bad address) are values; the text is a sentence.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/result.hpp>

namespace spdlog {
class logger;
}

namespace unlinkd::daemon {

struct metrics_listener_options {
  std::size_t max_connections = 16;
  std::size_t max_header_bytes = std::size_t{8} * 1024;
  std::size_t max_body_bytes = 4096;  // a GET has none; a stray POST's is read, then refused
  std::chrono::seconds deadline{10};  // per read or write
};

// "127.0.0.1:9464", "[::1]:9464" or "localhost:9464" as an endpoint; port 0
// asks for any free port. An error is a sentence naming the text.
boost::system::result<boost::asio::ip::tcp::endpoint, std::string> parse_loopback_endpoint(
    const std::string& text);

class metrics_listener {
 public:
  // `render` gives the exposition text; it runs on the executor's thread.
  metrics_listener(boost::asio::any_io_executor executor, std::function<std::string()> render,
                   metrics_listener_options options, spdlog::logger& log);

  boost::system::result<void, std::string> open(const std::string& address);
  // The bound endpoint (its port when opened with port 0).
  [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;

  boost::asio::awaitable<void> run();
  void stop();

  [[nodiscard]] std::uint64_t requests_served() const { return served_; }

 private:
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::any_io_executor executor_;
  std::function<std::string()> render_;
  metrics_listener_options options_;
  spdlog::logger& log_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::size_t connections_ = 0;
  std::uint64_t served_ = 0;
  bool stopping_ = false;
};

}  // namespace unlinkd::daemon
