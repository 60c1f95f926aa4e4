// The one translation unit that compiles Asio and its OpenSSL layer; every
// other target sees only declarations (BOOST_ASIO_SEPARATE_COMPILATION).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
