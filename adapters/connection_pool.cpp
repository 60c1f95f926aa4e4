#include "adapters/connection_pool.hpp"

#include <algorithm>
#include <cerrno>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "adapters/deadline_race.hpp"

namespace unlinkd::adapters {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// An idle connection the server has closed (or sent something unasked on)
// must not carry a request: a POST on it would end as unknown_outcome.
bool still_open(http_connection& c) {
  char byte = 0;
  const auto n = ::recv(c.lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

connection_pool::connection_pool(asio::any_io_executor ex, ssl::context& tls,
                                 connection_pool_options options)
    : ex_(std::move(ex)), tls_(tls), options_(options) {}

connection_pool::~connection_pool() = default;

std::size_t connection_pool::open_connections() const {
  std::size_t n = 0;
  for (const auto& [key, host] : hosts_) {
    n += host.open;
  }
  return n;
}

void connection_pool::wake_one(host_state& host) {
  for (auto& w : host.waiters) {
    if (!w.woken) {
      w.woken = true;
      w.timer->cancel();
      return;
    }
  }
}

asio::awaitable<boost::system::result<std::unique_ptr<http_connection>, std::string>>
connection_pool::acquire(const endpoint_address& address, clock::time_point deadline) {
  const std::string key = address.key();
  while (true) {
    host_state& host = hosts_[key];
    // Newest first: the most recently used connection is the least likely to be stale.
    while (!host.idle.empty()) {
      auto c = std::move(host.idle.back());
      host.idle.pop_back();
      if (clock::now() - c->idle_since < options_.idle_timeout && still_open(*c)) {
        c->reused = true;
        co_return c;
      }
      --host.open;  // dropped: closes the socket
    }
    if (host.open < options_.max_per_host) {
      ++host.open;
      auto made = co_await connect(address, deadline);
      if (!made) {
        host_state& again = hosts_[key];
        --again.open;
        wake_one(again);
      }
      co_return made;
    }
    if (clock::now() >= deadline) {
      co_return std::string{"the deadline passed while waiting for a free connection to " + key};
    }
    asio::steady_timer timer{ex_, deadline};
    host.waiters.push_back({&timer});
    const auto me = std::prev(host.waiters.end());
    auto [ec] = co_await timer.async_wait(use_tuple);
    hosts_[key].waiters.erase(me);
    // Cancelled means a connection came back (or a slot freed): look again.
    if (!ec && clock::now() >= deadline) {
      co_return std::string{"the deadline passed while waiting for a free connection to " + key};
    }
  }
}

void connection_pool::release(std::unique_ptr<http_connection> connection, bool reusable) {
  auto it = hosts_.find(connection->pool_key);
  if (it == hosts_.end()) {
    return;
  }
  host_state& host = it->second;
  if (reusable) {
    connection->idle_since = clock::now();
    connection->reused = false;
    host.idle.push_back(std::move(connection));
  } else {
    connection.reset();
    --host.open;
  }
  wake_one(host);
}

asio::awaitable<boost::system::result<std::unique_ptr<http_connection>, std::string>>
connection_pool::connect(const endpoint_address& address, clock::time_point deadline) {
  const auto where = address.host + ":" + std::to_string(address.port);
  const auto op_deadline = [&] { return std::min(deadline, clock::now() + options_.io_timeout); };

  tcp::resolver resolver{ex_};
  auto resolved = co_await value_before(
      [](tcp::resolver& r, std::string host, std::string port)
          -> asio::awaitable<std::tuple<boost::system::error_code, tcp::resolver::results_type>> {
        co_return co_await r.async_resolve(host, port, use_tuple);
      }(resolver, address.host, std::to_string(address.port)),
      op_deadline());
  if (!resolved) {
    co_return std::string{"resolving " + address.host + " timed out"};
  }
  auto& [rec, endpoints] = *resolved;
  if (rec) {
    co_return std::string{"cannot resolve " + address.host + ": " + rec.message()};
  }

  auto c = std::make_unique<http_connection>();
  c->pool_key = address.key();
  c->buffer.reserve(read_buffer_bytes);
  c->body_chunk.resize(read_buffer_bytes);
  if (address.tls) {
    c->tls.emplace(ex_, tls_);
  } else {
    c->tcp.emplace(ex_);
  }
  c->lowest().expires_at(op_deadline());
  auto [cec, ep] = co_await c->lowest().async_connect(endpoints, use_tuple);
  if (cec) {
    co_return std::string{"cannot connect to " + where + ": " + cec.message()};
  }
  c->lowest().socket().set_option(tcp::no_delay{true});
  if (address.tls) {
    // SNI names the host (never an IP literal, RFC 6066); the certificate must match it.
    if (!is_ip_literal(address.host) &&
        SSL_set_tlsext_host_name(c->tls->native_handle(), address.host.c_str()) != 1) {
      co_return std::string{"cannot set the TLS server name for " + address.host};
    }
    c->tls->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    c->tls->set_verify_callback(ssl::host_name_verification(address.host));
    c->lowest().expires_at(op_deadline());
    auto [hec] = co_await c->tls->async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
      co_return std::string{"TLS handshake with " + where + " failed: " + hec.message()};
    }
  }
  ++opened_;
  co_return c;
}

}  // namespace unlinkd::adapters
