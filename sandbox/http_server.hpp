#pragma once
// The sandbox's HTTP/1.1 server: one coroutine per connection on one
// io_context, keep-alive, a size limit on every request and a deadline on
// every read and write. Requests go to `api_service`.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "sandbox/api_service.hpp"

namespace unlinkd::sandbox {

struct server_limits {
  std::size_t max_header_bytes = std::size_t{16} * 1024;
  std::size_t max_body_bytes = std::size_t{1024} * 1024;
  std::chrono::seconds idle_timeout{30};  // per read or write of one message
};

// Accepts connections until the acceptor is closed.
boost::asio::awaitable<void> serve(boost::asio::ip::tcp::acceptor& acceptor, api_service& service,
                                   server_limits limits);

}  // namespace unlinkd::sandbox
