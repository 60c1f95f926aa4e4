#pragma once
// Keep-alive connections per host (scheme, host, port), at most a bound of
// them open at once; a caller over the bound waits for one to come back.
// Internal to the client: it holds Beast streams, so only .cpp files include it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/system/result.hpp>

#include "adapters/api_url.hpp"

namespace unlinkd::adapters {

// One open connection, plain or TLS, with its read buffer.
struct http_connection {
  std::string pool_key;
  std::optional<boost::beast::tcp_stream> tcp;                            // plain HTTP
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls;  // HTTPS
  // Beast reads at most the buffer's free capacity (512 bytes when empty),
  // and a buffer_body parser drains it: without a reserve a 100 KB answer
  // takes about 200 reads (connection_pool.cpp reserves read_buffer_bytes).
  boost::beast::flat_buffer buffer;
  // Where a response body is parsed from, read_buffer_bytes, kept with the
  // connection (in the exchange's coroutine frame it made each call a
  // large allocation).
  std::vector<char> body_chunk;
  std::chrono::steady_clock::time_point idle_since{};
  bool reused = false;  // this lease is not the connection's first request
  boost::beast::tcp_stream& lowest() { return tls ? tls->next_layer() : *tcp; }
};

// The read buffer of each connection: a loopback or LAN segment's worth.
inline constexpr std::size_t read_buffer_bytes = std::size_t{64} * 1024;

struct connection_pool_options {
  std::size_t max_per_host = 16;
  std::chrono::milliseconds io_timeout{30'000};  // connect and handshake
  std::chrono::milliseconds idle_timeout{20'000};
};

class connection_pool {
 public:
  using clock = std::chrono::steady_clock;
  connection_pool(boost::asio::any_io_executor ex, boost::asio::ssl::context& tls,
                  connection_pool_options options);
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;
  ~connection_pool();

  // An idle connection to `address`, or a new one. The error is a sentence
  // (resolve, connect, TLS handshake, deadline); nothing was sent then.
  boost::asio::awaitable<boost::system::result<std::unique_ptr<http_connection>, std::string>>
  acquire(const endpoint_address& address, clock::time_point deadline);
  // Gives the connection back: kept for reuse when `reusable`, else closed.
  void release(std::unique_ptr<http_connection> connection, bool reusable);

  [[nodiscard]] std::size_t open_connections() const;
  [[nodiscard]] std::uint64_t connections_opened() const { return opened_; }

 private:
  struct host_state {
    std::size_t open = 0;  // idle and leased
    std::deque<std::unique_ptr<http_connection>> idle;
    // Callers waiting for a connection, oldest first; `woken` ones have been
    // told to look again, so the next release wakes the next caller.
    struct waiter {
      boost::asio::steady_timer* timer;
      bool woken = false;
    };
    std::list<waiter> waiters;
  };
  boost::asio::awaitable<boost::system::result<std::unique_ptr<http_connection>, std::string>>
  connect(const endpoint_address& address, clock::time_point deadline);
  void wake_one(host_state& host);

  boost::asio::any_io_executor ex_;
  boost::asio::ssl::context& tls_;
  connection_pool_options options_;
  std::map<std::string, host_state, std::less<>> hosts_;
  std::uint64_t opened_ = 0;
};

}  // namespace unlinkd::adapters
