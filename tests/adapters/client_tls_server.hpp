#pragma once
// For the TLS tests: certificates made at test time with the openssl CLI in a
// temporary directory, and a TLS server on 127.0.0.1:0 that answers every
// request with a success envelope and records the SNI name it was sent.
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

namespace unlinkd::test {

// A throwaway PKI: CAs and server certificates signed by one of them.
class test_pki {
 public:
  test_pki();
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;
  ~test_pki();
  // Writes NAME.pem and NAME.key, a self-signed CA; returns the PEM path.
  std::string make_ca(const std::string& name);
  // NAME.pem and NAME.key signed by CA `ca`, for the subjectAltName entries
  // given ("DNS:localhost", "IP:127.0.0.1").
  void make_server_cert(const std::string& name, const std::string& ca,
                        const std::vector<std::string>& sans);
  [[nodiscard]] std::string path(const std::string& file) const { return dir_ + "/" + file; }

 private:
  void run(const std::string& command) const;
  std::string dir_;
};

class tls_test_server {
 public:
  tls_test_server(boost::asio::io_context& io, const std::string& cert_pem,
                  const std::string& key_pem);
  [[nodiscard]] unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::size_t handshakes = 0;         // completed
  std::size_t failed_handshakes = 0;  // refused by the client (or broken)
  std::size_t requests = 0;
  std::string last_sni;

 private:
  boost::asio::awaitable<void> serve();
  boost::asio::awaitable<void> connection(boost::asio::ip::tcp::socket socket);
  boost::asio::ssl::context tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace unlinkd::test
