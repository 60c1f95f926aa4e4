#include "adapters/http_api_client.hpp"

#include <algorithm>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/logger.h>

#include "adapters/answer_parser.hpp"
#include "adapters/api_url.hpp"
#include "adapters/connection_pool.hpp"
#include "adapters/deadline_race.hpp"
#include "adapters/redact.hpp"
#include "adapters/tls_context.hpp"

namespace unlinkd::adapters {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t excerpt_limit = 200;  // of a non-JSON error body, for the message

// What one exchange on one connection produced, before classification.
struct exchange_result {
  enum class stage : std::uint8_t { done, write, read };
  stage failed_at = stage::done;
  beast::error_code ec;    // the transport error when failed_at != done
  bool deadline = false;   // the error was our own deadline
  unsigned status = 0;     // the HTTP status, when a header arrived
  bool too_large = false;  // the body passed the size limit
  bool reusable = false;   // the connection may carry another request
  json::value body;        // the parsed JSON body (status 200)
  std::string list_lines;  // with list_as_lines: data.list's items
  std::size_t list_items = 0;
  std::string json_error;  // why a 200 body was not JSON
  std::string excerpt;     // the start of a non-200 body
};

clock::time_point op_expiry(clock::time_point deadline, std::chrono::milliseconds io_timeout) {
  return std::min(deadline, clock::now() + io_timeout);
}

// Writes the request, then reads the answer in chunks: a 200 body is fed to
// the JSON parser as it arrives (never held as text), any other body is kept
// only as a short excerpt for the error message.
template <class Stream>
asio::awaitable<exchange_result> exchange(Stream& stream, http_connection& c,
                                          http::request<http::string_body>& request,
                                          clock::time_point deadline,
                                          std::chrono::milliseconds io_timeout,
                                          std::size_t max_bytes, bool list_as_lines) {
  exchange_result r;
  c.lowest().expires_at(op_expiry(deadline, io_timeout));
  auto [wec, written] = co_await http::async_write(stream, request, use_tuple);
  if (wec) {
    r.failed_at = exchange_result::stage::write;
    r.ec = wec;
    r.deadline = wec == beast::error::timeout && clock::now() >= deadline;
    co_return r;
  }
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(max_bytes);
  c.lowest().expires_at(op_expiry(deadline, io_timeout));
  auto [hec, hn] = co_await http::async_read_header(stream, c.buffer, parser, use_tuple);
  if (hec == http::error::body_limit) {  // a Content-Length over the limit
    r.status = parser.get().result_int();
    r.too_large = true;
    co_return r;
  }
  if (hec) {
    r.failed_at = exchange_result::stage::read;
    r.ec = hec;
    r.deadline = hec == beast::error::timeout && clock::now() >= deadline;
    co_return r;
  }
  r.status = parser.get().result_int();
  const bool want_json = r.status == 200;
  answer_parser json_parser(list_as_lines);
  bool json_ok = true;
  std::vector<char>& chunk = c.body_chunk;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    c.lowest().expires_at(op_expiry(deadline, io_timeout));
    auto [ec, n] = co_await http::async_read(stream, c.buffer, parser, use_tuple);
    if (ec == http::error::need_buffer) {
      ec = {};
    }
    if (ec == http::error::body_limit) {
      r.too_large = true;
      co_return r;
    }
    if (ec) {
      r.failed_at = exchange_result::stage::read;
      r.ec = ec;
      r.deadline = ec == beast::error::timeout && clock::now() >= deadline;
      co_return r;
    }
    const std::size_t got = chunk.size() - parser.get().body().size;
    if (want_json) {
      if (json_ok && got > 0) {
        json::error_code jec;
        json_parser.write(chunk.data(), got, jec);
        if (jec) {
          json_ok = false;
          r.json_error = jec.message();
        }
      }
    } else if (r.excerpt.size() < excerpt_limit) {
      r.excerpt.append(chunk.data(), std::min(got, excerpt_limit - r.excerpt.size()));
    }
  }
  if (want_json && json_ok) {
    json::error_code jec;
    json_parser.finish(jec);
    if (jec) {
      r.json_error = jec.message();
    } else {
      r.body = json_parser.release();
      r.list_items = json_parser.line_count();
      r.list_lines = json_parser.take_lines();
    }
  }
  r.reusable = parser.keep_alive();
  co_return r;
}

std::string transport_words(const exchange_result& r) {
  if (r.deadline) {
    return "the call's deadline passed";
  }
  if (r.ec == beast::error::timeout) {
    return "timed out";
  }
  if (r.ec == http::error::end_of_stream || r.ec == asio::error::eof) {
    return "the connection was closed";
  }
  if (r.ec == asio::error::connection_reset) {
    return "the connection was reset";
  }
  return r.ec.message();
}

// 40100 for the daily quota reads "... temporarily restricted for today."
// (the API has no separate code for it).
bool is_daily_quota(std::int64_t code, std::string_view message) {
  return code == 40100 && message.find("for today") != std::string_view::npos;
}

// The endpoint as a label: the path alone, whatever a caller appended.
std::string endpoint_label(std::string_view path) {
  return std::string{path.substr(0, path.find('?'))};
}

}  // namespace

std::string api_call_code(bool ok, const api_error& error) {
  if (ok) {
    return "0";
  }
  if (error.code != 0) {
    return std::to_string(error.code);
  }
  if (error.http_status != 0) {
    return std::to_string(error.http_status);
  }
  return "transport";
}

struct http_api_client::attempt_outcome {
  bool ok = false;
  api_reply reply;  // when ok
  api_error error;  // when not ok
  gate_answer gate = gate_answer::ok;
  bool stale_connection = false;  // a reused connection died before any answer (GET only)
};

http_api_client::http_api_client(asio::any_io_executor ex, rate_gate& gate, spdlog::logger& log,
                                 client_options options)
    : ex_(std::move(ex)), gate_(gate), log_(log), options_(std::move(options)) {
  if (options_.random) {
    random_ = options_.random;
  } else {
    random_ = [engine = std::mt19937_64{std::random_device{}()}]() mutable {
      return std::uniform_real_distribution<double>{0.0, 1.0}(engine);
    };
  }
  tls_ = make_client_tls_context(options_.extra_ca_file);
  pool_ = std::make_unique<connection_pool>(
      ex_, *tls_,
      connection_pool_options{options_.max_connections_per_host, options_.io_timeout,
                              options_.idle_timeout});
}

http_api_client::~http_api_client() = default;

std::size_t http_api_client::open_connections() const { return pool_->open_connections(); }

asio::awaitable<api_result<api_reply>> http_api_client::call(const call_context& ctx,
                                                             api_request request) {
  ++counters_.calls;
  const char* method = request.mutating() ? "POST" : "GET";
  if (ctx.credential == nullptr) {
    co_return api_error{error_class::credential, 0, 0, "no credential profile for the call", {}};
  }
  const auto address = parse_base_url(ctx.base_url);
  if (!address) {
    co_return api_error{error_class::permanent, 0, 0, address.error().message, {}};
  }
  const std::string target = build_target(*address, request.path, request.query);
  const std::vector<std::string_view> secrets{ctx.credential->access_token.reveal(),
                                              ctx.credential->app_secret.reveal()};
  const auto clean = [&](std::string_view text) {
    return redact_values(redact_url(text), secrets);
  };
  // The target as logs may show it, made only for a line that is written
  // (redacting every call's target was a measurable share of its CPU).
  std::optional<std::string> shown_text;
  const auto shown = [&]() -> const std::string& {
    if (!shown_text) {
      shown_text = clean(target);
    }
    return *shown_text;
  };

  // Dry run: the client itself refuses every write, whatever the caller does.
  if (ctx.dry_run && request.mutating()) {
    ++counters_.dry_run_refusals;
    log_.info("dry run: refused {} {} (batch {})", method, shown(), ctx.batch);
    co_return api_error{error_class::permanent,
                        0,
                        0,
                        std::string{dry_run_refusal_prefix} + method + " " + shown(),
                        {}};
  }

  const gate_key key{ctx.credential->app_id, request.path, ctx.batch};
  std::uint32_t sent = 0;
  std::uint32_t tries = 0;  // spent on retryable failures; rate limiting spends none
  std::uint32_t rate_rounds = 0;
  bool stale_retried = false;
  api_error last{error_class::retryable, 0, 0, "the deadline passed before the call was sent", {}};

  while (true) {
    if (clock::now() >= ctx.deadline) {
      co_return last;
    }
    if (!co_await gate_.acquire_until(key, ctx.deadline)) {
      last.message =
          sent == 0 ? std::string{"the deadline passed while waiting for the rate gate"}
                    : "the deadline passed while waiting for the rate gate; last: " + last.message;
      co_return last;
    }
    ++tries;
    auto outcome = co_await attempt(ctx, request, *address, target);
    ++calls_by_outcome_[api_call_key{endpoint_label(request.path),
                                     api_call_code(outcome.ok, outcome.error)}];
    if (outcome.gate != gate_answer::not_sent) {
      ++sent;
    }
    gate_.report(key, outcome.gate, outcome.ok ? 0 : outcome.error.code);
    if (outcome.ok) {
      outcome.reply.attempts = std::max<std::uint32_t>(sent, 1);
      if (log_.should_log(spdlog::level::debug)) {
        log_.debug("{} {} ok, request_id {}, {} sent", method, shown(), outcome.reply.request_id,
                   sent);
      }
      co_return std::move(outcome.reply);
    }
    api_error error = std::move(outcome.error);
    error.message = clean(error.message);
    if (outcome.stale_connection && !stale_retried) {
      // A kept-alive connection the server had closed: not the API's fault,
      // try once more on a fresh one without spending a try.
      stale_retried = true;
      --tries;
      ++counters_.retries;
      log_.debug("{} {}: kept-alive connection lost ({}), sending again", method, shown(),
                 error.message);
      continue;
    }
    switch (error.kind) {
      case error_class::rate_limited:
        --tries;
        ++counters_.rate_limited;
        if (outcome.gate == gate_answer::daily_quota ||
            ++rate_rounds > options_.max_rate_limited_rounds) {
          co_return error;
        }
        log_.debug("{} {} rate limited ({}), back through the gate", method, shown(), error.code);
        last = std::move(error);
        continue;
      case error_class::retryable: {
        if (tries >= options_.retry.max_attempts) {
          log_.warn("{} {} failed after {} tries: {} (code {}, request_id {})", method, shown(),
                    tries, error.message, error.code, error.request_id);
          co_return error;
        }
        const auto wait = backoff_delay(options_.retry, tries + 1, random_());
        if (clock::now() + wait >= ctx.deadline) {
          co_return error;
        }
        ++counters_.retries;
        log_.info("{} {} retry {} in {} ms: {} (code {}, request_id {})", method, shown(), tries,
                  wait.count(), error.message, error.code, error.request_id);
        last = std::move(error);
        asio::steady_timer timer{ex_, wait};
        co_await timer.async_wait(use_tuple);
        continue;
      }
      case error_class::unknown_outcome:
        ++counters_.unknown_outcomes;
        log_.warn("{} {}: outcome unknown, not resent: {}", method, shown(), error.message);
        co_return error;
      case error_class::credential:
      case error_class::permanent:
        log_.info("{} {} failed: {} (code {}, request_id {})", method, shown(), error.message,
                  error.code, error.request_id);
        co_return error;
    }
  }
}

asio::awaitable<http_api_client::attempt_outcome> http_api_client::attempt(
    const call_context& ctx, const api_request& request, const endpoint_address& address,
    const std::string& target) {
  attempt_outcome out;
  const bool post = request.mutating();
  auto lease = co_await pool_->acquire(address, ctx.deadline);
  counters_.connections_opened = pool_->connections_opened();
  if (!lease) {
    out.gate = gate_answer::not_sent;
    out.error = api_error{error_class::retryable, 0, 0, lease.error(), {}};
    co_return out;
  }
  std::unique_ptr<http_connection> conn = std::move(*lease);
  const bool reused = conn->reused;
  if (reused) {
    ++counters_.connections_reused;
  }

  http::request<http::string_body> req{post ? http::verb::post : http::verb::get, target, 11};
  const bool default_port = address.port == (address.tls ? 443 : 80);
  req.set(http::field::host,
          default_port ? address.host : address.host + ":" + std::to_string(address.port));
  req.set(http::field::user_agent, "unlinkd/0.1");
  req.set(http::field::accept, "application/json");
  req.set("Access-Token", ctx.credential->access_token.reveal());
  req.keep_alive(true);
  if (post) {
    req.set(http::field::content_type, "application/json");
    req.body() = json::serialize(request.body);
  }
  req.prepare_payload();

  ++counters_.requests_sent;
  // Two statements, not `?:`: g++ 12 mishandles co_await inside a conditional expression.
  exchange_result r;
  if (conn->tls) {
    r = co_await exchange(*conn->tls, *conn, req, ctx.deadline, options_.io_timeout,
                          options_.max_response_bytes, request.list_as_lines);
  } else {
    r = co_await exchange(*conn->tcp, *conn, req, ctx.deadline, options_.io_timeout,
                          options_.max_response_bytes, request.list_as_lines);
  }
  const bool reusable = r.failed_at == exchange_result::stage::done && !r.too_large && r.reusable &&
                        r.json_error.empty();
  pool_->release(std::move(conn), reusable);

  const std::string what = std::string{post ? "POST " : "GET "} + request.path;
  if (r.failed_at == exchange_result::stage::write) {
    // An incomplete request is never processed: safe to send again, even a write.
    --counters_.requests_sent;
    out.gate = gate_answer::not_sent;
    out.error = api_error{
        error_class::retryable, 0, 0, what + ": sending failed: " + transport_words(r), {}};
    co_return out;
  }
  if (r.failed_at == exchange_result::stage::read) {
    const bool nothing_came = r.ec == http::error::end_of_stream || r.ec == asio::error::eof ||
                              r.ec == asio::error::connection_reset;
    out.stale_connection = reused && nothing_came && !post;
    out.error =
        api_error{post ? error_class::unknown_outcome : error_class::retryable,
                  0,
                  0,
                  what + ": no reply after the request was sent (" + transport_words(r) + ")",
                  {}};
    co_return out;
  }
  if (r.too_large) {
    out.error = api_error{post ? error_class::unknown_outcome : error_class::permanent,
                          0,
                          static_cast<int>(r.status),
                          what + ": the response is larger than " +
                              std::to_string(options_.max_response_bytes) + " bytes",
                          {}};
    co_return out;
  }
  const int status = static_cast<int>(r.status);
  if (status != 200) {
    std::string excerpt = r.excerpt;
    std::replace_if(
        excerpt.begin(), excerpt.end(), [](char ch) { return ch == '\n' || ch == '\r'; }, ' ');
    error_class kind = error_class::permanent;
    if (status >= 500) {
      kind = error_class::retryable;
    } else if (status == 429) {
      kind = error_class::rate_limited;
      out.gate = gate_answer::rate_limited;
    }
    out.error = api_error{kind,
                          0,
                          status,
                          what + ": HTTP " + std::to_string(status) +
                              (excerpt.empty() ? std::string{} : ": " + excerpt),
                          {}};
    co_return out;
  }
  // The envelope: {code, message, request_id, data}.
  const auto* envelope = r.body.if_object();
  const json::value* code_v = envelope != nullptr ? envelope->if_contains("code") : nullptr;
  if (!r.json_error.empty() || code_v == nullptr || !(code_v->is_int64() || code_v->is_uint64())) {
    out.error = api_error{post ? error_class::unknown_outcome : error_class::permanent,
                          0,
                          status,
                          what + ": the reply is not an API envelope" +
                              (r.json_error.empty() ? std::string{} : " (" + r.json_error + ")"),
                          {}};
    co_return out;
  }
  const std::int64_t code =
      code_v->is_int64() ? code_v->get_int64() : static_cast<std::int64_t>(code_v->get_uint64());
  std::string message;
  if (const auto* m = envelope->if_contains("message"); m != nullptr && m->is_string()) {
    message = std::string{m->get_string()};
  }
  std::string request_id;
  if (const auto* id = envelope->if_contains("request_id"); id != nullptr && id->is_string()) {
    request_id = std::string{id->get_string()};
  }
  if (code != 0 && message.empty()) {
    message = "the API answered code " + std::to_string(code) + " without a message";
  }
  if (code == 0) {
    out.ok = true;
    if (auto* data = r.body.get_object().if_contains("data")) {
      out.reply.data = std::move(*data);
    }
    out.reply.request_id = std::move(request_id);
    out.reply.list_lines = std::move(r.list_lines);
    out.reply.list_items = r.list_items;
    co_return out;
  }
  const error_class kind = classify_api_code(code, request.scope);
  if (kind == error_class::rate_limited) {
    out.gate = is_daily_quota(code, message) ? gate_answer::daily_quota : gate_answer::rate_limited;
  }
  out.error = api_error{kind, code, status, std::move(message), std::move(request_id)};
  co_return out;
}

}  // namespace unlinkd::adapters
