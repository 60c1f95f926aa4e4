#pragma once
// The control socket (PRODUCT.md §7): HTTP/1.1 over a Unix socket, one
// coroutine per connection owning its socket, each request answered by
// control_api with the caller taken from SO_PEERCRED. The socket is the one
// systemd passes (unlinkd.socket) or, without one, bound at the config's
// path with mode 0660 and group socket_group.
//
// Limits: a cap on connections (more are closed at once), a header and a
// body size limit, and a deadline on every read and write.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>
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
  void stop();

 private:
  boost::asio::awaitable<void> serve(boost::asio::local::stream_protocol::socket socket);

  boost::asio::any_io_executor executor_;
  control_api& api_;
  control_server_options options_;
  spdlog::logger& log_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::size_t connections_ = 0;
  bool from_systemd_ = false;
  bool stopping_ = false;
};

}  // namespace unlinkd::daemon
