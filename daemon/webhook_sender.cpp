#include "daemon/webhook_sender.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "adapters/deadline_race.hpp"
#include "adapters/tls_context.hpp"
#include "config/file_reader.hpp"
#include "daemon/webhook_payload.hpp"

#ifndef UNLINKD_VERSION
#define UNLINKD_VERSION "0.1.0"
#endif

namespace unlinkd::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_secret_bytes = 4096;

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

boost::system::result<webhook_url, std::string> parse_webhook_url(std::string_view url) {
  webhook_url out;
  if (url.starts_with("https://")) {
    url.remove_prefix(8);
    out.tls = true;
    out.port = 443;
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
    out.tls = false;
    out.port = 80;
  } else {
    return std::string{"the URL is neither http:// nor https://"};
  }
  if (const auto hash = url.find('#'); hash != std::string_view::npos) {
    url = url.substr(0, hash);
  }
  const auto end = url.find_first_of("/?");
  std::string_view authority = url.substr(0, end);
  std::string_view rest = end == std::string_view::npos ? std::string_view{} : url.substr(end);
  if (authority.find('@') != std::string_view::npos) {
    return std::string{"the URL carries user information, which unlinkd does not send"};
  }
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return std::string{"the URL's IPv6 address has no closing bracket"};
    }
    out.host = std::string(authority.substr(1, close - 1));
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) {
        return std::string{"the URL's host is followed by something other than a port"};
      }
      port_text = after.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    out.host = std::string(authority.substr(0, colon));
    port_text = authority.substr(colon + 1);
  } else {
    out.host = std::string(authority);
  }
  if (out.host.empty()) {
    return std::string{"the URL has no host"};
  }
  if (!port_text.empty() || authority.ends_with(':')) {
    unsigned port = 0;
    const auto* first = port_text.data();
    const auto* last = first + port_text.size();
    const auto [ptr, ec] = std::from_chars(first, last, port);
    if (port_text.empty() || ec != std::errc{} || ptr != last || port == 0 || port > 65535) {
      return std::string{"the URL's port is not a number from 1 to 65535"};
    }
    out.port = static_cast<std::uint16_t>(port);
  }
  if (rest.empty()) {
    out.target = "/";
  } else if (rest.starts_with('?')) {
    out.target = "/" + std::string(rest);
  } else {
    out.target = std::string(rest);
  }
  return out;
}

std::string webhook_log_host(std::string_view url) {
  auto parsed = parse_webhook_url(url);
  return parsed ? parsed->host : std::string{"(invalid URL)"};
}

std::chrono::milliseconds webhook_retry_delay(std::uint32_t attempt,
                                              const webhook_retry_options& options, double jitter) {
  // Doubling stops once past the cap, so a large attempt number cannot overflow.
  auto cap = options.initial_backoff;
  for (std::uint32_t i = 1; i < attempt && cap < options.max_backoff; ++i) {
    cap *= 2;
  }
  cap = std::min(cap, options.max_backoff);
  const double j = std::clamp(jitter, 0.0, 1.0);
  return std::chrono::milliseconds{
      static_cast<std::chrono::milliseconds::rep>(j * static_cast<double>(cap.count()))};
}

attempt_verdict classify_webhook_status(unsigned status) {
  if (status >= 200 && status < 300) {
    return attempt_verdict::delivered;
  }
  if (status == 408 || status == 429) {
    return attempt_verdict::retry;  // the receiver asks to be asked again
  }
  if (status >= 400 && status < 500) {
    return attempt_verdict::give_up;
  }
  // 5xx, and 1xx/3xx (redirects are not followed: the URL is the manifest's).
  return status >= 500 ? attempt_verdict::retry : attempt_verdict::give_up;
}

boost::system::result<config::secret, std::string> load_webhook_secret(const std::string& path) {
  // config::secret is constructible from a string too: say which side is meant.
  using loaded = boost::system::result<config::secret, std::string>;
  const auto refuse = [](std::string why) {
    return loaded(boost::system::in_place_error, std::move(why));
  };
  auto file = config::read_regular_file(path, max_secret_bytes);
  if (!file.value) {
    return refuse("webhook_secret_file " + path + ": " +
                  (file.too_large ? std::string("is larger than 4 KiB; a key is a line of text")
                                  : file.error));
  }
  if ((file.value->mode & 077U) != 0) {
    char mode[16];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(file.value->mode));
    return refuse("webhook_secret_file " + path + " has mode " + mode +
                  ", so group or others may read the signing key: run chmod 600 " + path);
  }
  std::string key = std::move(file.value->bytes);
  if (key.ends_with("\r\n")) {
    key.resize(key.size() - 2);
  } else if (key.ends_with('\n')) {
    key.pop_back();
  }
  if (key.empty()) {
    return refuse("webhook_secret_file " + path + " is empty; write the signing key into it");
  }
  return config::secret{std::move(key)};
}

std::string_view to_string(delivery_outcome o) {
  switch (o) {
    case delivery_outcome::delivered:
      return "delivered";
    case delivery_outcome::gave_up:
      return "gave_up";
    case delivery_outcome::exhausted:
      return "exhausted";
    case delivery_outcome::stopped:
      return "stopped";
  }
  return "unknown";
}

webhook_sender::webhook_sender(asio::any_io_executor executor, webhook_sender_options options,
                               spdlog::logger& log)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      log_(log),
      tls_(adapters::make_client_tls_context(options_.extra_ca_file)),
      random_(options_.seed != 0 ? options_.seed : std::random_device{}()) {}

webhook_sender::~webhook_sender() = default;

void webhook_sender::set_secret(std::optional<config::secret> key) {
  secret_ = key ? std::make_shared<const config::secret>(std::move(*key)) : nullptr;
}

asio::awaitable<delivery_result> webhook_sender::deliver(webhook_delivery d, delivery_stop& stop) {
  const std::string host = webhook_log_host(d.url);
  delivery_result out;
  while (!stop.requested()) {
    ++out.attempts;
    const attempt_result r = co_await attempt(d);
    out.status = r.status;
    const std::string what = r.status != 0 ? "HTTP " + std::to_string(r.status) : r.error;
    if (r.verdict == attempt_verdict::delivered) {
      out.outcome = delivery_outcome::delivered;
      out.message = what;
      log_.info("batch {}: webhook {} to {} delivered (attempt {}, {})", d.batch, d.event, host,
                out.attempts, what);
      co_return out;
    }
    if (r.verdict == attempt_verdict::give_up) {
      out.outcome = delivery_outcome::gave_up;
      out.message = what + "; the receiver refuses it, so it is not sent again";
      log_.warn("batch {}: webhook {} to {} given up: {}", d.batch, d.event, host, out.message);
      co_return out;
    }
    if (out.attempts >= options_.retry.max_attempts) {
      out.outcome = delivery_outcome::exhausted;
      out.message = what + " on the last of " + std::to_string(out.attempts) + " attempts";
      log_.warn("batch {}: webhook {} to {} not delivered: {}", d.batch, d.event, host,
                out.message);
      co_return out;
    }
    const auto wait = webhook_retry_delay(
        out.attempts, options_.retry, std::uniform_real_distribution<double>(0.0, 1.0)(random_));
    log_.info("batch {}: webhook {} to {} attempt {} failed ({}); next in {} ms", d.batch, d.event,
              host, out.attempts, what, wait.count());
    if (stop.requested()) {
      break;
    }
    asio::steady_timer timer{executor_, wait};
    stop.backoff_ = &timer;
    co_await timer.async_wait(use_tuple);
    stop.backoff_ = nullptr;
  }
  out.outcome = delivery_outcome::stopped;
  out.message = "stopped after " + std::to_string(out.attempts) + " attempts";
  co_return out;
}

asio::awaitable<attempt_result> webhook_sender::attempt(const webhook_delivery& d) {
  auto url = parse_webhook_url(d.url);
  if (!url) {
    co_return attempt_result{attempt_verdict::give_up, 0, url.error()};
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.retry.attempt_timeout;
  co_return co_await exchange(*url, d, secret_, deadline);
}

asio::awaitable<attempt_result> webhook_sender::exchange(
    const webhook_url& url, const webhook_delivery& d, std::shared_ptr<const config::secret> key,
    std::chrono::steady_clock::time_point deadline) {
  const auto fail = [](std::string why) {
    return attempt_result{attempt_verdict::retry, 0, std::move(why)};
  };
  tcp::resolver resolver{executor_};
  auto resolved = co_await adapters::value_before(
      [](tcp::resolver& r, std::string host, std::string port)
          -> asio::awaitable<std::tuple<boost::system::error_code, tcp::resolver::results_type>> {
        co_return co_await r.async_resolve(host, port, use_tuple);
      }(resolver, url.host, std::to_string(url.port)),
      deadline);
  if (!resolved) {
    co_return fail("resolving " + url.host + " timed out");
  }
  auto& [rec, endpoints] = *resolved;
  if (rec) {
    co_return fail("cannot resolve " + url.host + ": " + rec.message());
  }

  http::request<http::string_body> req{http::verb::post, url.target, 11};
  const bool bracket = url.host.find(':') != std::string::npos;
  const bool default_port = url.port == (url.tls ? 443 : 80);
  req.set(http::field::host, (bracket ? "[" + url.host + "]" : url.host) +
                                 (default_port ? "" : ":" + std::to_string(url.port)));
  req.set(http::field::user_agent, "unlinkd/" UNLINKD_VERSION);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  req.set("X-Unlinkd-Event", d.event);
  req.set("X-Unlinkd-Delivery", d.delivery_id);
  if (key) {
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(options_.clock().time_since_epoch())
            .count();
    const std::string timestamp = std::to_string(seconds);
    req.set("X-Unlinkd-Timestamp", timestamp);
    req.set("X-Unlinkd-Signature", webhook_signature(key->reveal(), timestamp, d.body));
  }
  req.body() = d.body;
  req.prepare_payload();

  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options_.max_response_header_bytes));
  const std::string where = url.host + ":" + std::to_string(url.port);
  const auto io_failed = [&](const char* what, const boost::system::error_code& ec) {
    return fail(std::string(what) + " " + where + " failed: " +
                (ec == beast::error::timeout ? std::string("the deadline passed") : ec.message()));
  };

  if (url.tls) {
    beast::ssl_stream<beast::tcp_stream> stream{executor_, *tls_};
    stream.next_layer().expires_at(deadline);
    auto [cec, ep] = co_await stream.next_layer().async_connect(endpoints, use_tuple);
    if (cec) {
      co_return io_failed("connecting to", cec);
    }
    // SNI names the host (never an IP literal, RFC 6066); the certificate must match it.
    if (!is_ip_literal(url.host) &&
        SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str()) != 1) {
      co_return fail("cannot set the TLS server name for " + url.host);
    }
    stream.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    stream.set_verify_callback(ssl::host_name_verification(url.host));
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
      co_return io_failed("the TLS handshake with", hec);
    }
    auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
    if (wec) {
      co_return io_failed("sending to", wec);
    }
    auto [rec2, rn] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    if (rec2) {
      co_return io_failed("reading the answer of", rec2);
    }
  } else {
    beast::tcp_stream stream{executor_};
    stream.expires_at(deadline);
    auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
    if (cec) {
      co_return io_failed("connecting to", cec);
    }
    auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
    if (wec) {
      co_return io_failed("sending to", wec);
    }
    auto [rec2, rn] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    if (rec2) {
      co_return io_failed("reading the answer of", rec2);
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
  const unsigned status = parser.get().result_int();
  co_return attempt_result{classify_webhook_status(status), status, {}};
}

}  // namespace unlinkd::daemon
