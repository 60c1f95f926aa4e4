#include "adapters/tls_context.hpp"

#include <stdexcept>

namespace unlinkd::adapters {

namespace ssl = boost::asio::ssl;

std::unique_ptr<ssl::context> make_client_tls_context(const std::string& extra_ca_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::no_compression);
  boost::system::error_code ec;
  ctx->set_default_verify_paths(ec);
  if (ec) {
    throw std::runtime_error("cannot load the system CA store: " + ec.message());
  }
  if (!extra_ca_file.empty()) {
    ctx->load_verify_file(extra_ca_file, ec);
    if (ec) {
      throw std::runtime_error("cannot load the CA file " + extra_ca_file + ": " + ec.message());
    }
  }
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return ctx;
}

}  // namespace unlinkd::adapters
