#include "tests/adapters/client_tls_server.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <openssl/ssl.h>

namespace unlinkd::test {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

test_pki::test_pki() {
  std::string pattern = std::filesystem::temp_directory_path() / "client-tls-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  dir_ = pattern;
}

test_pki::~test_pki() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void test_pki::run(const std::string& command) const {
  const std::string line = "cd '" + dir_ + "' && " + command + " >>openssl.log 2>&1";
  if (std::system(line.c_str()) != 0) {  // NOLINT(cert-env33-c): a test helper running openssl
    throw std::runtime_error("openssl failed: " + command);
  }
}

std::string test_pki::make_ca(const std::string& name) {
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -keyout " +
      name + ".key -out " + name + ".pem -subj '/CN=" + name + "'");
  return path(name + ".pem");
}

void test_pki::make_server_cert(const std::string& name, const std::string& ca,
                                const std::vector<std::string>& sans) {
  std::string alt;
  for (const auto& s : sans) {
    alt += (alt.empty() ? "" : ",") + s;
  }
  std::ofstream(path(name + ".ext"))
      << "subjectAltName=" << alt << "\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
  run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name +
      ".key -out " + name + ".csr -subj '/CN=" + name + "'");
  run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
      ".key -CAcreateserial -days 2 -out " + name + ".pem -extfile " + name + ".ext");
}

tls_test_server::tls_test_server(asio::io_context& io, const std::string& cert_pem,
                                 const std::string& key_pem)
    : tls_(ssl::context::tls_server),
      acceptor_(io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}) {
  tls_.use_certificate_chain_file(cert_pem);
  tls_.use_private_key_file(key_pem, ssl::context::pem);
  asio::co_spawn(io, serve(), [](const std::exception_ptr&) {});
}

asio::awaitable<void> tls_test_server::serve() {
  while (true) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      co_return;
    }
    asio::co_spawn(acceptor_.get_executor(), connection(std::move(socket)),
                   [](const std::exception_ptr&) {});
  }
}

asio::awaitable<void> tls_test_server::connection(tcp::socket socket) {
  ssl::stream<tcp::socket> stream{std::move(socket), tls_};
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::server,
                                               asio::as_tuple(asio::use_awaitable));
  if (hec) {
    ++failed_handshakes;
    co_return;
  }
  ++handshakes;
  if (const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name)) {
    last_sni = sni;
  } else {
    last_sni.clear();
  }
  boost::beast::flat_buffer buffer;
  while (true) {
    http::request<http::string_body> request;
    auto [ec, n] =
        co_await http::async_read(stream, buffer, request, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      co_return;
    }
    ++requests;
    http::response<http::string_body> response{http::status::ok, 11};
    response.set(http::field::content_type, "application/json");
    response.body() = R"({"code":0,"message":"OK","request_id":"tls","data":{"path":")" +
                      std::string{request.target()} + "\"}}";
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    auto [wec, wn] =
        co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
    if (wec) {
      co_return;
    }
  }
}

}  // namespace unlinkd::test
