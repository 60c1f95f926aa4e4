#pragma once
// The client's TLS settings, made once: TLS 1.2 or newer, the peer verified
// against the system CA store (plus an optional PEM file), never unverified.
// Host-name checks and SNI are set per connection (connection_pool).
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace unlinkd::adapters {

// Throws std::runtime_error (a startup failure) when the CA file cannot be read.
std::unique_ptr<boost::asio::ssl::context> make_client_tls_context(
    const std::string& extra_ca_file);

}  // namespace unlinkd::adapters
