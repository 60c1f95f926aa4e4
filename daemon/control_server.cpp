#include "daemon/control_server.hpp"

#include <cerrno>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

namespace unlinkd::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;
constexpr auto awaitable_tuple = asio::as_tuple(asio::use_awaitable);

control_server::control_server(asio::any_io_executor executor, control_api& api,
                               control_server_options options, spdlog::logger& log)
    : executor_(std::move(executor)),
      api_(api),
      options_(options),
      log_(log),
      acceptor_(executor_) {}

boost::system::result<void, std::string> control_server::open(const std::string& path,
                                                              std::optional<gid_t> group) {
  boost::system::error_code ec;
  if (sd_listen_fds(1) >= 1 &&
      sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, nullptr, 0) > 0) {
    acceptor_.assign(local(), SD_LISTEN_FDS_START, ec);
    if (ec) {
      return "cannot use the socket systemd passed: " + ec.message();
    }
    from_systemd_ = true;
    return {};
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return path + " exists and is not a socket; move it away or set `socket:` elsewhere";
    }
    ::unlink(path.c_str());  // a stale socket of an earlier run
  }
  // 0660 from the start: no moment where others could connect.
  const mode_t old_mask = ::umask(0117);
  acceptor_.open(local(), ec);
  if (!ec) {
    acceptor_.bind(local::endpoint(path), ec);
  }
  ::umask(old_mask);
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return "cannot listen on " + path + ": " + ec.message();
  }
  if (group && ::chown(path.c_str(), static_cast<uid_t>(-1), *group) != 0) {
    log_.warn("control socket: cannot give {} to group {}: {}", path, *group, std::strerror(errno));
  }
  return {};
}

void control_server::stop() {
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (auto* wait : stream_waits_) {
    wait->cancel();  // the stream sees stopping_ and sends its last chunk
  }
}

asio::awaitable<void> control_server::run() {
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(awaitable_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) {
        break;
      }
      log_.warn("control socket: accept failed: {}", ec.message());
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
          log_.error("control socket: a connection failed: {}", x.what());
        }
      }
    });
  }
}

namespace {

// Whether the client closed its end (or the socket failed), without reading.
bool peer_gone(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace

template <class Stream>
asio::awaitable<void> control_server::stream_answer(Stream& stream, control_response& answer) {
  ++streams_;
  asio::steady_timer wait(executor_);
  stream_waits_.insert(&wait);
  // Leaves the count and the wake-up list however the stream ends.
  struct leave {
    leave(control_server& server, asio::steady_timer& wait) : server_(server), wait_(wait) {}
    leave(const leave&) = delete;
    leave& operator=(const leave&) = delete;
    leave(leave&&) = delete;
    leave& operator=(leave&&) = delete;
    ~leave() {
      --server_.streams_;
      server_.stream_waits_.erase(&wait_);
    }
    control_server& server_;
    asio::steady_timer& wait_;
  } on_exit(*this, wait);

  http::response<http::empty_body> res{static_cast<http::status>(answer.status), 11};
  res.set(http::field::content_type, answer.content_type);
  res.set(http::field::server, "unlinkd");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(false);
  res.chunked(true);
  http::response_serializer<http::empty_body> header(res);
  stream.expires_after(options_.deadline);
  if (auto [ec, n] = co_await http::async_write_header(stream, header, awaitable_tuple); ec) {
    co_return;
  }
  std::string pending = std::move(answer.body);
  while (!stopping_) {
    if (pending.empty()) {
      auto next = co_await answer.next();
      if (!next) {
        break;
      }
      pending = std::move(*next);
    }
    if (!pending.empty()) {
      stream.expires_after(options_.deadline);
      auto [ec, n] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(pending)),
                                                awaitable_tuple);
      if (ec) {
        co_return;  // the client is gone or stuck: drop it
      }
      pending.clear();
      continue;  // there may be more than one page waiting
    }
    if (peer_gone(stream.socket().native_handle())) {
      co_return;
    }
    wait.expires_after(options_.stream_poll);
    co_await wait.async_wait(awaitable_tuple);
  }
  stream.expires_after(options_.deadline);
  co_await asio::async_write(stream, http::make_chunk_last(), awaitable_tuple);
  boost::system::error_code ignored;
  stream.socket().shutdown(local::socket::shutdown_send, ignored);
}

asio::awaitable<void> control_server::serve(local::socket socket) {
  const auto who = peer_of(socket.native_handle());
  beast::basic_stream<local, asio::any_io_executor> stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
    parser.body_limit(options_.max_body_bytes);
    stream.expires_after(options_.deadline);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, awaitable_tuple);
    if (ec) {
      if (ec == http::error::body_limit || ec == http::error::header_limit) {
        const auto too_big =
            error_response(413, "too_large", "the request is larger than unlinkd accepts");
        http::response<http::string_body> res{http::status::payload_too_large, 11};
        res.set(http::field::content_type, too_big.content_type);
        res.body() = too_big.body;
        res.prepare_payload();
        stream.expires_after(options_.deadline);
        co_await http::async_write(stream, res, awaitable_tuple);
      }
      co_return;  // closed, timed out or malformed: drop the connection
    }
    auto req = parser.release();
    control_request r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.body = std::move(req.body());
    r.manifest_name = std::string(req["X-Manifest-Name"]);
    // An if, not `?:`: g++ 12 destroys the result of a co_await inside a
    // conditional expression too early.
    control_response answer;
    if (who) {
      caller c = *who;
      answer = co_await api_.handle(std::move(r), std::move(c));
    } else {
      answer = error_response(403, "forbidden", "the caller's identity could not be read");
    }
    // A refused stream closes the connection: it was asked for the stream.
    const bool refused_stream = answer.next && streams_ >= options_.max_streams;
    if (refused_stream) {
      answer = error_response(503, "too_many_streams",
                              std::to_string(streams_) +
                                  " event streams are open, the most unlinkd serves; close one "
                                  "or poll with follow=false");
    }
    if (answer.next) {
      co_await stream_answer(stream, answer);
      co_return;
    }
    http::response<http::string_body> res{static_cast<http::status>(answer.status), 11};
    res.set(http::field::content_type, answer.content_type);
    res.set(http::field::server, "unlinkd");
    res.keep_alive(req.keep_alive() && !refused_stream);
    res.body() = std::move(answer.body);
    res.prepare_payload();
    stream.expires_after(options_.deadline);
    auto [wec, written] = co_await http::async_write(stream, res, awaitable_tuple);
    if (wec || !res.keep_alive()) {
      co_return;
    }
  }
}

}  // namespace unlinkd::daemon
