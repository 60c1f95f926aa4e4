#include "tests/fuzz/api_fuzz_server.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace unlinkd::fuzz {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Whether the raw response asks the client to close: the server closes too,
// which is what ends a close-delimited body.
bool closes(std::string_view response) {
  const auto head_end = response.find("\r\n\r\n");
  const auto head = response.substr(0, head_end);
  return head.find("Connection: close") != std::string_view::npos ||
         (head.find("Content-Length") == std::string_view::npos &&
          head.find("Transfer-Encoding") == std::string_view::npos);
}

}  // namespace

struct api_fuzz_server::state {
  explicit state(asio::io_context& io)
      : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {}
  tcp::acceptor acceptor;
  std::vector<std::string> responses;
  std::string fallback;
  std::size_t requests = 0;

  const std::string& next() {
    const std::size_t at = requests++;
    return at < responses.size() ? responses[at] : fallback;
  }
};

namespace {

asio::awaitable<void> serve(std::shared_ptr<api_fuzz_server::state> s, tcp::socket socket) {
  boost::beast::flat_buffer buffer;
  while (true) {
    http::request<http::string_body> request;
    auto [ec, n] = co_await http::async_read(socket, buffer, request, use_tuple);
    if (ec) {
      co_return;  // the client closed (or sent what no client sends)
    }
    const std::string response = s->next();  // a copy: script() may replace it meanwhile
    auto [wec, written] = co_await asio::async_write(socket, asio::buffer(response), use_tuple);
    if (wec || closes(response)) {
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
      co_return;
    }
  }
}

asio::awaitable<void> accept_loop(std::shared_ptr<api_fuzz_server::state> s) {
  while (s->acceptor.is_open()) {
    auto [ec, socket] = co_await s->acceptor.async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted) {
        co_return;
      }
      continue;
    }
    asio::co_spawn(s->acceptor.get_executor(), serve(s, std::move(socket)), asio::detached);
  }
}

}  // namespace

api_fuzz_server::api_fuzz_server(asio::io_context& io) : state_(std::make_shared<state>(io)) {
  asio::co_spawn(io, accept_loop(state_), asio::detached);
}

api_fuzz_server::~api_fuzz_server() {
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
}

unsigned short api_fuzz_server::port() const { return state_->acceptor.local_endpoint().port(); }

void api_fuzz_server::script(std::vector<std::string> responses, std::string fallback) {
  state_->responses = std::move(responses);
  state_->fallback = std::move(fallback);
  state_->requests = 0;
}

std::size_t api_fuzz_server::requests() const { return state_->requests; }

std::string http_response(unsigned status, std::string_view body, framing f, std::size_t chunk) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " Fuzz\r\n";
  out += "Content-Type: application/json\r\n";
  switch (f) {
    case framing::content_length:
    case framing::content_length_close:
      out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
      if (f == framing::content_length_close) {
        out += "Connection: close\r\n";
      }
      out += "\r\n";
      out += body;
      break;
    case framing::chunked: {
      out += "Transfer-Encoding: chunked\r\n\r\n";
      const std::size_t step = std::max<std::size_t>(chunk, 1);
      for (std::size_t at = 0; at < body.size(); at += step) {
        const auto piece = body.substr(at, step);
        char size[32];
        std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        out += size;
        out += piece;
        out += "\r\n";
      }
      out += "0\r\n\r\n";
      break;
    }
    case framing::close_delimited:
      out += "Connection: close\r\n\r\n";
      out += body;
      break;
  }
  return out;
}

}  // namespace unlinkd::fuzz
