#pragma once
// The control socket (PRODUCT.md §7): HTTP/1.1 over a Unix socket, one
// coroutine per connection owning its socket, each request answered by
// control_api with the caller taken from SO_PEERCRED. The socket is the one
// systemd passes (unlinkd.socket) or, without one, bound at the config's
// path with mode 0660 and group socket_group.
//
// Limits: a cap on connections (more are closed at once), a header and a
// body size limit, and a deadline on every read and write.
//
// Streams (an answer with a chunk_source, GET /v1/events): the header with
// chunked transfer encoding, then each piece as a chunk; when nothing is new
// the server waits `stream_poll` and asks again. A stream ends when its
// source ends, the client closes its end, a write misses its deadline, or
// stop() is called (the last chunk is then sent at once, so a SIGTERM is not
// held up). At most `max_streams` at a time; more get 503 too_many_streams.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/result.hpp>

#include "daemon/control_api.hpp"

namespace spdlog {
class logger;
}

namespace unlinkd::daemon {

struct control_server_options {
  std::size_t max_connections = 256;
  std::size_t max_header_bytes = std::size_t{16} * 1024;
  std::size_t max_body_bytes = (std::size_t{16} << 20U) + 4096;  // a manifest, plus slack
  std::chrono::seconds deadline{30};                             // per read or write
  std::size_t max_streams = 64;
  std::chrono::milliseconds stream_poll{200};  // a stream's wait when nothing is new
};

class control_server {
 public:
  control_server(boost::asio::any_io_executor executor, control_api& api,
                 control_server_options options, spdlog::logger& log);

  // Adopts the socket systemd passed (LISTEN_FDS), else binds `path`
  // (replacing a stale socket file, never another kind of file), mode 0660,
  // group `group` when given. The error is a sentence.
  boost::system::result<void, std::string> open(const std::string& path,
                                                std::optional<gid_t> group);
  [[nodiscard]] bool from_systemd() const { return from_systemd_; }

  boost::asio::awaitable<void> run();
  // Stops accepting and ends every open stream.
  void stop();
  [[nodiscard]] std::size_t streams() const { return streams_; }

 private:
  boost::asio::awaitable<void> serve(boost::asio::local::stream_protocol::socket socket);
  // Sends a streamed answer on `socket` (with its Beast stream); the
  // connection closes after it.
  template <class Stream>
  boost::asio::awaitable<void> stream_answer(Stream& stream, control_response& answer);

  boost::asio::any_io_executor executor_;
  control_api& api_;
  control_server_options options_;
  spdlog::logger& log_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::size_t connections_ = 0;
  std::size_t streams_ = 0;
  // The poll timers of open streams, so stop() can wake them.
  std::set<boost::asio::steady_timer*> stream_waits_;
  bool from_systemd_ = false;
  bool stopping_ = false;
};

}  // namespace unlinkd::daemon
