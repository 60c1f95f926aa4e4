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

// The exchange as one coroutine: the stream's expiry covers connect, write
// and read, since expires_at is set once before the first operation.
asio::awaitable<socket_result> exchange(std::string path, socket_request request,
                                        std::chrono::milliseconds deadline,
                                        std::size_t max_response_bytes) {
  beast::basic_stream<local, asio::any_io_executor> stream(co_await asio::this_coro::executor);
  stream.expires_after(deadline);
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
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_response_bytes);
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, awaitable_tuple);
  (void)read;
  if (rec) {
    const std::string why = rec == beast::error::timeout     ? "no answer in time"
                            : rec == http::error::body_limit ? "the answer is too large"
                                                             : rec.message();
    co_return socket_failure{socket_failure::kind::failed,
                             "reading unlinkd's answer on " + path + " failed: " + why};
  }
  auto res = parser.release();
  beast::error_code ignored;
  stream.socket().shutdown(local::socket::shutdown_both, ignored);
  co_return http_answer{res.result_int(), std::string(res[http::field::content_type]),
                        std::move(res.body())};
}

}  // namespace

socket_client::socket_client(std::string path, std::chrono::milliseconds deadline,
                             std::size_t max_response_bytes)
    : path_(std::move(path)), deadline_(deadline), max_response_bytes_(max_response_bytes) {}

socket_result socket_client::send(const socket_request& request) const {
  if (path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return socket_failure{socket_failure::kind::unreachable,
                          "the socket path " + path_ + " is too long for a Unix socket"};
  }
  asio::io_context io;
  std::optional<socket_result> outcome;
  asio::co_spawn(io, exchange(path_, request, deadline_, max_response_bytes_),
                 [&outcome](const std::exception_ptr& e, socket_result r) {
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& x) {
                       outcome =
                           socket_failure{socket_failure::kind::failed,
                                          std::string("talking to unlinkd failed: ") + x.what()};
                     }
                     return;
                   }
                   outcome = std::move(r);
                 });
  // The stream's expiry bounds the exchange; this bound is a safety net.
  io.run_for(deadline_ + std::chrono::seconds(5));
  if (!outcome) {
    return socket_failure{socket_failure::kind::failed, "no answer from " + path_ + " in time"};
  }
  return std::move(*outcome);
}

socket_result socket_client::get(const std::string& target) const {
  return send(socket_request{"GET", target, {}, {}, {}});
}

}  // namespace unlinkd::ctl
