#include "ctl/socket_client.hpp"

#include <optional>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <sys/un.h>

namespace unlinkd::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;

void throw_exception_from_error(const socket_failure& f, const boost::source_location& /*where*/) {
  throw std::runtime_error(f.message);
}

namespace {

constexpr auto awaitable_tuple = asio::as_tuple(asio::use_awaitable);

using stream_type = beast::basic_stream<local, asio::any_io_executor>;

// Connects and sends the request; a failure says why. The stream's expiry,
// set by the caller, covers both.
asio::awaitable<std::optional<socket_failure>> connect_and_send(stream_type& stream,
                                                                const std::string& path,
                                                                socket_request request) {
  auto [cec] = co_await stream.async_connect(local::endpoint(path), awaitable_tuple);
  if (cec) {
    // EACCES: the socket is there but its mode (0660, group socket_group)
    // keeps this user out; that is a refusal, not an absent daemon.
    const bool refused = cec == boost::system::errc::permission_denied;
    co_return socket_failure{
        refused ? socket_failure::kind::refused : socket_failure::kind::unreachable,
        "cannot connect to unlinkd's socket " + path + ": " + cec.message()};
  }
  http::request<http::string_body> req(
      request.method == "POST" ? http::verb::post : http::verb::get, request.target, 11);
  req.set(http::field::host, "unlinkd");
  req.set(http::field::user_agent, "unlinkctl");
  req.set(http::field::connection, "close");
  if (!request.content_type.empty()) {
    req.set(http::field::content_type, request.content_type);
  }
  if (!request.manifest_name.empty()) {
    req.set("X-Manifest-Name", request.manifest_name);
  }
  req.body() = std::move(request.body);
  req.prepare_payload();
  auto [wec, written] = co_await http::async_write(stream, req, awaitable_tuple);
  (void)written;
  if (wec) {
    co_return socket_failure{
        socket_failure::kind::failed,
        "sending the request to " + path + " failed: " +
            (wec == beast::error::timeout ? std::string("timed out") : wec.message())};
  }
  co_return std::nullopt;
}

socket_failure read_failure(const std::string& path, const beast::error_code& ec) {
  const std::string why = ec == beast::error::timeout     ? "no answer in time"
                          : ec == http::error::body_limit ? "the answer is too large"
                                                          : ec.message();
  return socket_failure{socket_failure::kind::failed,
                        "reading unlinkd's answer on " + path + " failed: " + why};
}

// The exchange as one coroutine: the stream's expiry covers connect, write
// and read, since expires_at is set once before the first operation.
asio::awaitable<socket_result> exchange(std::string path, socket_request request,
                                        std::chrono::milliseconds deadline,
                                        std::size_t max_response_bytes) {
  stream_type stream(co_await asio::this_coro::executor);
  stream.expires_after(deadline);
  if (auto failure = co_await connect_and_send(stream, path, std::move(request))) {
    co_return std::move(*failure);
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_response_bytes);
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, awaitable_tuple);
  (void)read;
  if (rec) {
    co_return read_failure(path, rec);
  }
  auto res = parser.release();
  beast::error_code ignored;
  stream.socket().shutdown(local::socket::shutdown_both, ignored);
  co_return http_answer{res.result_int(), std::string(res[http::field::content_type]),
                        std::move(res.body())};
}

// A streamed exchange: the deadline covers everything up to the header; the
// body then comes as it comes.
asio::awaitable<socket_result> stream_exchange(std::string path, socket_request request,
                                               std::chrono::milliseconds deadline,
                                               std::size_t max_response_bytes,
                                               std::function<void(std::string_view)> on_data) {
  stream_type stream(co_await asio::this_coro::executor);
  stream.expires_after(deadline);
  if (auto failure = co_await connect_and_send(stream, path, std::move(request))) {
    co_return std::move(*failure);
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_response_bytes);
  if (auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, awaitable_tuple);
      ec) {
    co_return read_failure(path, ec);
  }
  const unsigned status = parser.get().result_int();
  std::string content_type(parser.get()[http::field::content_type]);
  if (status < 200 || status >= 300) {
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, awaitable_tuple);
    if (ec) {
      co_return read_failure(path, ec);
    }
    co_return http_answer{status, std::move(content_type), std::move(parser.get().body())};
  }
  parser.body_limit(boost::none);  // a stream has no end in sight
  stream.expires_never();
  while (!parser.is_done()) {
    auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, awaitable_tuple);
    if (!parser.get().body().empty()) {
      on_data(parser.get().body());
      parser.get().body().clear();  // the body reader appends at the current end
    }
    if (ec) {
      co_return socket_failure{socket_failure::kind::failed,
                               "the stream from unlinkd on " + path + " broke: " + ec.message()};
    }
  }
  co_return http_answer{status, std::move(content_type), {}};
}

// Runs one exchange on its own io_context; `bound` is a safety net over the
// stream's own expiry (none for a stream).
socket_result run_exchange(asio::awaitable<socket_result> exchange,
                           std::optional<std::chrono::milliseconds> bound,
                           const std::string& path) {
  asio::io_context io;
  std::optional<socket_result> outcome;
  asio::co_spawn(io, std::move(exchange), [&outcome](const std::exception_ptr& e, socket_result r) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        outcome = socket_failure{socket_failure::kind::failed,
                                 std::string("talking to unlinkd failed: ") + x.what()};
      }
      return;
    }
    outcome = std::move(r);
  });
  if (bound) {
    io.run_for(*bound);
  } else {
    io.run();
  }
  if (!outcome) {
    return socket_failure{socket_failure::kind::failed, "no answer from " + path + " in time"};
  }
  return std::move(*outcome);
}

socket_result too_long(const std::string& path) {
  return socket_failure{socket_failure::kind::unreachable,
                        "the socket path " + path + " is too long for a Unix socket"};
}

}  // namespace

socket_client::socket_client(std::string path, std::chrono::milliseconds deadline,
                             std::size_t max_response_bytes)
    : path_(std::move(path)), deadline_(deadline), max_response_bytes_(max_response_bytes) {}

socket_result socket_client::send(const socket_request& request) const {
  if (path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return too_long(path_);
  }
  return run_exchange(exchange(path_, request, deadline_, max_response_bytes_),
                      deadline_ + std::chrono::seconds(5), path_);
}

socket_result socket_client::stream(const socket_request& request,
                                    const std::function<void(std::string_view)>& on_data) const {
  if (path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return too_long(path_);
  }
  return run_exchange(stream_exchange(path_, request, deadline_, max_response_bytes_, on_data),
                      std::nullopt, path_);
}

socket_result socket_client::get(const std::string& target) const {
  return send(socket_request{"GET", target, {}, {}, {}});
}

}  // namespace unlinkd::ctl
