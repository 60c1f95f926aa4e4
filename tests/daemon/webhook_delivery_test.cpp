// Webhooks end to end over real sockets: a Beast HTTP receiver on 127.0.0.1
// port 0 on the test's io_context, a real SQLite store in a temporary folder
// whose event log gets batch events the way the engine appends them, and the
// notifier following it. Retries use millisecond backoffs through options;
// nothing sleeps: the io_context runs in bounded slices until a condition holds.
#include <deque>
#include <fstream>
#include <list>
#include <map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "daemon/batch_notifier.hpp"
#include "daemon/webhook_payload.hpp"
#include "daemon/webhook_sender.hpp"
#include "tests/store/store_test_support.hpp"

namespace unlinkd::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using store::account_state;
using store::batch_state;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct received_request {
  std::string path;
  std::map<std::string, std::string> headers;
  std::string body;
};

// A webhook receiver: per path, the statuses to answer in turn (the last one
// repeats); 0 means read the request and never answer.
class receiver {
 public:
  explicit receiver(asio::io_context& io)
      : io_(io), acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, accept(), asio::detached);
  }
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;
  ~receiver() { stop(); }

  void script(const std::string& path, std::deque<unsigned> statuses) {
    scripts_[path] = std::move(statuses);
  }
  [[nodiscard]] std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  [[nodiscard]] std::vector<received_request> on(const std::string& path) const {
    std::vector<received_request> out;
    for (const auto& r : requests_) {
      if (r.path == path) {
        out.push_back(r);
      }
    }
    return out;
  }
  [[nodiscard]] const std::vector<received_request>& all() const { return requests_; }
  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& t : holds_) {
      t->cancel();
    }
  }

 private:
  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (ec) {
        co_return;
      }
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }
  asio::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
    if (ec) {
      co_return;
    }
    received_request r;
    r.path = std::string(req.target());
    for (const auto& f : req) {
      r.headers[std::string(f.name_string())] = std::string(f.value());
    }
    r.body = req.body();
    requests_.push_back(r);
    unsigned status = 200;
    if (auto it = scripts_.find(r.path); it != scripts_.end() && !it->second.empty()) {
      status = it->second.front();
      if (it->second.size() > 1) {
        it->second.pop_front();
      }
    }
    if (status == 0) {
      // Hold the connection open, answering nothing, until the test ends.
      auto timer = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
      holds_.push_back(timer);
      co_await timer->async_wait(use_tuple);
      co_return;
    }
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::connection, "close");
    res.body() = "ok";
    res.prepare_payload();
    co_await http::async_write(stream, res, use_tuple);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  std::map<std::string, std::deque<unsigned>> scripts_;
  std::vector<received_request> requests_;
  std::list<std::shared_ptr<asio::steady_timer>> holds_;
};

// A self-signed certificate for "localhost" (no IP address in it), made
// with OpenSSL at run time, written as PEM for the sender to trust.
struct test_certificate {
  explicit test_certificate(const std::filesystem::path& dir)
      : cert_file((dir / "cert.pem").string()), key_file((dir / "key.pem").string()) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    if (key == nullptr || cert == nullptr) {
      throw std::runtime_error("cannot make a test key");
    }
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost");
    X509_add_ext(cert, san, -1);
    X509_EXTENSION_free(san);
    if (X509_sign(cert, key, EVP_sha256()) == 0) {
      throw std::runtime_error("cannot sign the test certificate");
    }
    FILE* c = std::fopen(cert_file.c_str(), "w");
    FILE* k = std::fopen(key_file.c_str(), "w");
    PEM_write_X509(c, cert);
    PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(c);
    std::fclose(k);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  std::string cert_file;
  std::string key_file;
};

// An HTTPS receiver that answers 200 and records the SNI name it was sent.
class tls_receiver {
 public:
  tls_receiver(asio::io_context& io, const test_certificate& cert)
      : io_(io),
        tls_(asio::ssl::context::tls_server),
        acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    tls_.use_certificate_chain_file(cert.cert_file);
    tls_.use_private_key_file(cert.key_file, asio::ssl::context::pem);
    asio::co_spawn(io_, accept(), asio::detached);
  }
  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
  std::vector<std::string> server_names;  // SNI of each handshake that completed
  std::vector<std::string> bodies;

 private:
  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (ec) {
        co_return;
      }
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }
  asio::awaitable<void> serve(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), tls_);
    stream.next_layer().expires_after(5s);
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (hec) {
      co_return;
    }
    const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    server_names.emplace_back(sni != nullptr ? sni : "");
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    auto [rec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
    if (rec) {
      co_return;
    }
    bodies.push_back(req.body());
    http::response<http::string_body> res{http::status::no_content, 11};
    res.set(http::field::connection, "close");
    res.prepare_payload();
    co_await http::async_write(stream, res, use_tuple);
  }

  asio::io_context& io_;
  asio::ssl::context tls_;
  tcp::acceptor acceptor_;
};

class webhook_delivery_test : public ::testing::Test {
 protected:
  webhook_delivery_test() {
    store_ = store::test::open_store(dir_.file("unlinkd.db"), *log_.logger);
  }
  ~webhook_delivery_test() override {
    stop_notifier();
    receiver_.stop();
    notifier_.reset();
    sender_.reset();
    store_.reset();
  }

 public:
  webhook_delivery_test(const webhook_delivery_test&) = delete;
  webhook_delivery_test& operator=(const webhook_delivery_test&) = delete;

 protected:
  webhook_sender_options sender_options() {
    webhook_sender_options o;
    o.retry.max_attempts = 4;
    o.retry.attempt_timeout = 300ms;
    o.retry.initial_backoff = 1ms;
    o.retry.max_backoff = 4ms;
    o.seed = 7;
    return o;
  }

  void start_notifier(std::optional<std::string> secret = std::nullopt,
                      std::size_t max_pending = 1000,
                      std::optional<webhook_sender_options> so = std::nullopt) {
    sender_ = std::make_unique<webhook_sender>(io_.get_executor(), so ? *so : sender_options(),
                                               *log_.logger);
    if (secret) {
      sender_->set_secret(config::secret{*secret});
    }
    batch_notifier_options o;
    o.state_file = dir_.path() / "webhooks.json";
    o.reports_dir = dir_.path() / "reports";
    o.poll_interval = 10ms;
    o.cursor_save_interval = 0ms;
    o.max_pending = max_pending;
    o.on_finished = [this](const delivery_report& r) { reports_.push_back(r); };
    notifier_ =
        std::make_unique<batch_notifier>(io_.get_executor(), *store_, *sender_, o, *log_.logger);
    auto loaded = notifier_->load();
    ASSERT_TRUE(loaded) << loaded.error();
    notifier_done_ = false;
    asio::co_spawn(io_, notifier_->run(), [this](const std::exception_ptr& e) {
      notifier_done_ = true;
      if (e) {
        std::rethrow_exception(e);
      }
    });
  }

  void stop_notifier() {
    if (!notifier_ || notifier_done_) {
      return;
    }
    notifier_->stop();
    EXPECT_TRUE(run_until([&] { return notifier_done_; })) << "the notifier did not stop";
  }

  // Runs the io_context in slices until `done` holds or `limit` passes.
  template <class Pred>
  bool run_until(Pred done, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    io_.restart();
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
      io_.run_for(5ms);
      io_.restart();
    }
    return true;
  }

  template <class T>
  T await(asio::awaitable<T> a) {
    std::optional<T> out;
    asio::co_spawn(io_, std::move(a), [&](const std::exception_ptr& e, T v) {
      if (e) {
        std::rethrow_exception(e);
      }
      out.emplace(std::move(v));
    });
    if (!run_until([&] { return out.has_value(); })) {
      throw std::runtime_error("a store call did not finish");
    }
    return std::move(*out);
  }

  std::int64_t ingest(const std::string& name, std::vector<std::string> notify,
                      std::size_t accounts = 2) {
    // Accounts of distinct batches may not overlap while both run.
    auto m = store::test::make_manifest(name, accounts, next_account_);
    next_account_ += accounts;
    m.notify = std::move(notify);
    auto outcome = await(store_->ingest(store::test::make_request(std::move(m))));
    EXPECT_TRUE(outcome) << outcome.error().message;
    return std::get<store::ingest_accepted>(*outcome).batch_id;
  }

  // The engine's batch events (scheduler/engine.cpp).
  void batch_event(std::int64_t id, batch_state from, batch_state to, std::string kind,
                   std::string detail, std::optional<std::uint32_t> uid = std::nullopt) {
    store::batch_transition t;
    t.batch_id = id;
    t.expected = from;
    t.to = to;
    t.reason = kind == "batch_paused" ? detail : "";
    t.event = {std::move(kind), std::move(detail), uid};
    auto r = await(store_->commit(t));
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(*r, store::commit_outcome::applied);
  }
  void account_event(std::int64_t id, const std::string& account, account_state from,
                     account_state to, std::string kind, std::string detail) {
    store::transition t;
    t.batch_id = id;
    t.account_id = account;
    t.expected = from;
    t.to = to;
    t.event = {std::move(kind), std::move(detail), std::nullopt};
    auto r = await(store_->commit(t));
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(*r, store::commit_outcome::applied);
  }
  void hold(const std::string& profile, const std::string& reason) {
    auto r = await(store_->hold_credential({profile, reason, std::nullopt}));
    ASSERT_TRUE(r) << r.error().message;
  }

  std::size_t finished(const std::string& event) const {
    return static_cast<std::size_t>(std::count_if(reports_.begin(), reports_.end(),
                                                  [&](const auto& r) { return r.event == event; }));
  }

  // The accounts of the first batch a test ingests.
  static std::string account(std::size_t i) { return std::to_string(first_account + i); }
  static constexpr std::uint64_t first_account = 7100000000000000000ULL;

  store::test::temp_dir dir_;
  store::test::captured_log log_;
  asio::io_context io_;
  std::unique_ptr<store::store> store_;
  receiver receiver_{io_};
  std::unique_ptr<webhook_sender> sender_;
  std::unique_ptr<batch_notifier> notifier_;
  bool notifier_done_ = true;
  std::uint64_t next_account_ = first_account;
  std::vector<delivery_report> reports_;
};

TEST_F(webhook_delivery_test, started_needs_attention_and_ended_arrive_signed_with_their_payload) {
  start_notifier("s3cret");
  const auto id = ingest("acme-hooks", {receiver_.url("/hook")});
  batch_event(id, batch_state::queued, batch_state::running, "batch_started", "started");
  ASSERT_TRUE(run_until([&] { return receiver_.all().size() == 1; }));
  hold("acme-bc", "the API refused the credential of profile 'acme-bc' (code 40104)");
  account_event(id, account(0), account_state::pending, account_state::needs_attention,
                "needs_attention", "credential refused: token expired");
  account_event(id, account(1), account_state::pending, account_state::needs_attention,
                "needs_attention", "the credential of profile 'acme-bc' is held");
  account_event(id, account(0), account_state::needs_attention, account_state::failed, "failed",
                "gave up");
  account_event(id, account(1), account_state::needs_attention, account_state::done, "done",
                "the relationship is gone");
  batch_event(id, batch_state::running, batch_state::completed, "batch_completed",
              "1 done, 1 failed");
  ASSERT_TRUE(run_until([&] { return finished("batch.ended") == 1; }));
  ASSERT_TRUE(run_until([&] { return reports_.size() == 3; }));

  const auto got = receiver_.on("/hook");
  ASSERT_EQ(got.size(), 3U) << "one needs_attention for the hold, not one per account";
  const char* events[] = {"batch.started", "batch.needs_attention", "batch.ended"};
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& r = got[i];
    EXPECT_EQ(r.headers.at("X-Unlinkd-Event"), events[i]);
    EXPECT_EQ(r.headers.at("Content-Type"), "application/json");
    EXPECT_TRUE(r.headers.at("User-Agent").starts_with("unlinkd/"));
    const auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body.at("event").as_string(), events[i]);
    EXPECT_EQ(body.at("batch").as_string(), "acme-hooks");
    EXPECT_EQ(body.at("delivery_id").as_string(), r.headers.at("X-Unlinkd-Delivery"));
    EXPECT_EQ(body.at("schema_version").as_int64(), 1);
    EXPECT_FALSE(body.at("dry_run").as_bool());
    EXPECT_TRUE(verify_webhook_signature("s3cret", r.headers.at("X-Unlinkd-Timestamp"), r.body,
                                         r.headers.at("X-Unlinkd-Signature")));
    EXPECT_FALSE(verify_webhook_signature("not-the-secret", r.headers.at("X-Unlinkd-Timestamp"),
                                          r.body, r.headers.at("X-Unlinkd-Signature")));
  }
  const auto started = json::parse(got[0].body).as_object();
  EXPECT_EQ(started.at("state").as_string(), "running");
  EXPECT_EQ(started.at("counts").at("pending").as_int64(), 2);
  const auto attention = json::parse(got[1].body).as_object();
  EXPECT_EQ(attention.at("cause").as_string(), "credential_hold");
  EXPECT_NE(std::string(attention.at("reason").as_string()).find("40104"), std::string::npos);
  const auto ended = json::parse(got[2].body).as_object();
  EXPECT_EQ(ended.at("state").as_string(), "completed");
  EXPECT_EQ(ended.at("counts").at("done").as_int64(), 1);
  EXPECT_EQ(ended.at("counts").at("failed").as_int64(), 1);
  EXPECT_EQ(ended.at("counts").at("total").as_int64(), 2);
  EXPECT_EQ(ended.at("reports").at("json").as_string(),
            (dir_.path() / "reports" / "acme-hooks.json").string());
  for (const auto& r : reports_) {
    EXPECT_EQ(r.result.outcome, delivery_outcome::delivered);
    EXPECT_EQ(r.host, "127.0.0.1");
  }
}

TEST_F(webhook_delivery_test, unsigned_without_a_secret_and_the_log_names_the_host_only) {
  start_notifier();
  const auto id = ingest("acme-plain", {receiver_.url("/hook?token=tok-SECRET-123")});
  batch_event(id, batch_state::queued, batch_state::running, "batch_started", "started");
  ASSERT_TRUE(run_until([&] { return reports_.size() == 1; }));
  const auto got = receiver_.on("/hook?token=tok-SECRET-123");
  ASSERT_EQ(got.size(), 1U);
  EXPECT_FALSE(got[0].headers.contains("X-Unlinkd-Signature"));
  EXPECT_FALSE(got[0].headers.contains("X-Unlinkd-Timestamp"));
  EXPECT_NE(log_.text().find("delivered"), std::string::npos) << log_.text();
  EXPECT_EQ(log_.text().find("tok-SECRET-123"), std::string::npos) << log_.text();
}

TEST_F(webhook_delivery_test, a_503_twice_then_200_takes_three_attempts_with_one_delivery_id) {
  receiver_.script("/flaky", {503, 503, 200});
  start_notifier("k");
  const auto id = ingest("acme-flaky", {receiver_.url("/flaky")});
  batch_event(id, batch_state::queued, batch_state::running, "batch_started", "started");
  ASSERT_TRUE(run_until([&] { return reports_.size() == 1; }));
  EXPECT_EQ(reports_[0].result.outcome, delivery_outcome::delivered);
  EXPECT_EQ(reports_[0].result.attempts, 3U);
  const auto got = receiver_.on("/flaky");
  ASSERT_EQ(got.size(), 3U);
  for (const auto& r : got) {
    EXPECT_EQ(r.headers.at("X-Unlinkd-Delivery"), reports_[0].delivery_id);
    EXPECT_EQ(r.body, got[0].body) << "every attempt sends the same bytes";
  }
}

TEST_F(webhook_delivery_test, a_receiver_that_never_answers_does_not_hold_up_the_others) {
  receiver_.script("/hang", {0});
  start_notifier();
  const auto id = ingest("acme-hang", {receiver_.url("/hang"), receiver_.url("/ok")});
  batch_event(id, batch_state::queued, batch_state::running, "batch_started", "started");
  ASSERT_TRUE(run_until([&] { return !receiver_.on("/ok").empty(); }));
  ASSERT_TRUE(run_until([&] { return reports_.size() == 1; }));
  EXPECT_EQ(reports_[0].result.outcome, delivery_outcome::delivered)
      << "the answering receiver first, while the other one hangs";
  ASSERT_TRUE(run_until([&] { return reports_.size() == 2; }));
  EXPECT_EQ(reports_[1].result.outcome, delivery_outcome::exhausted);
  EXPECT_EQ(reports_[1].result.attempts, 4U);
  EXPECT_NE(reports_[1].result.message.find("deadline"), std::string::npos)
      << reports_[1].result.message;
  EXPECT_EQ(receiver_.on("/hang").size(), 4U);
}

TEST_F(webhook_delivery_test, a_400_is_given_up_after_one_attempt) {
  receiver_.script("/bad", {400});
  start_notifier();
  const auto id = ingest("acme-bad", {receiver_.url("/bad")});
  batch_event(id, batch_state::queued, batch_state::running, "batch_started", "started");
  ASSERT_TRUE(run_until([&] { return reports_.size() == 1; }));
  EXPECT_EQ(reports_[0].result.outcome, delivery_outcome::gave_up);
  EXPECT_EQ(reports_[0].result.attempts, 1U);
  EXPECT_EQ(reports_[0].result.status, 400U);
  EXPECT_EQ(receiver_.on("/bad").size(), 1U);
  EXPECT_EQ(notifier_->pending(), 0U);
}

TEST_F(webhook_delivery_test, a_batch_without_notify_sends_nothing) {
  start_notifier();
  const auto quiet = ingest("acme-quiet", {}, 1);
  const auto loud = ingest("acme-loud", {receiver_.url("/loud")}, 1);
  batch_event(quiet, batch_state::queued, batch_state::running, "batch_started", "started");
  batch_event(quiet, batch_state::running, batch_state::paused, "batch_paused",
              "circuit breaker: 11 of the first 50 finished accounts failed");
  batch_event(loud, batch_state::queued, batch_state::running, "batch_started", "started");
  ASSERT_TRUE(run_until([&] { return reports_.size() == 1; }));
  ASSERT_EQ(receiver_.all().size(), 1U);
  EXPECT_EQ(json::parse(receiver_.all()[0].body).at("batch").as_string(), "acme-loud");
}

TEST_F(webhook_delivery_test, the_circuit_breaker_notifies_an_operators_pause_does_not) {
  start_notifier();
  const auto id = ingest("acme-breaker", {receiver_.url("/b")});
  batch_event(id, batch_state::queued, batch_state::running, "batch_started", "started");
  batch_event(id, batch_state::running, batch_state::paused, "batch_paused",
              "paused by an operator", 1000);
  batch_event(id, batch_state::paused, batch_state::running, "batch_running",
              "resumed by an operator", 1000);
  batch_event(id, batch_state::running, batch_state::paused, "batch_paused",
              "circuit breaker: 11 of the first 50 finished accounts failed; look at their errors");
  ASSERT_TRUE(run_until([&] { return reports_.size() == 2; }));
  const auto got = receiver_.on("/b");
  ASSERT_EQ(got.size(), 2U);
  const auto body = json::parse(got[1].body).as_object();
  EXPECT_EQ(body.at("event").as_string(), "batch.needs_attention");
  EXPECT_EQ(body.at("cause").as_string(), "circuit_breaker");
  EXPECT_EQ(body.at("state").as_string(), "paused");
}

TEST_F(webhook_delivery_test, the_cursor_survives_a_restart_without_repeats) {
  start_notifier();
  const auto id = ingest("acme-restart", {receiver_.url("/r")});
  batch_event(id, batch_state::queued, batch_state::running, "batch_started", "started");
  ASSERT_TRUE(run_until([&] { return reports_.size() == 1; }));
  stop_notifier();
  const auto cursor = notifier_->cursor();
  notifier_.reset();
  sender_.reset();
  std::ifstream file(dir_.path() / "webhooks.json");
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  auto state = decode_notifier_state(text);
  ASSERT_TRUE(state) << state.error();
  EXPECT_EQ(state->cursor, cursor);
  EXPECT_TRUE(state->pending.empty());

  batch_event(id, batch_state::running, batch_state::cancelling, "batch_cancelling",
              "cancelled by an operator", 1000);
  batch_event(id, batch_state::cancelling, batch_state::cancelled, "batch_cancelled",
              "2 cancelled");
  start_notifier();
  ASSERT_TRUE(run_until([&] { return reports_.size() == 2; }));
  const auto got = receiver_.on("/r");
  ASSERT_EQ(got.size(), 2U) << "batch.started is not sent again";
  EXPECT_EQ(got[0].headers.at("X-Unlinkd-Event"), "batch.started");
  EXPECT_EQ(got[1].headers.at("X-Unlinkd-Event"), "batch.ended");
  EXPECT_EQ(json::parse(got[1].body).at("state").as_string(), "cancelled");
}

TEST_F(webhook_delivery_test, a_cause_told_before_a_restart_is_not_told_again_after_it) {
  start_notifier();
  const auto id = ingest("acme-told", {receiver_.url("/t")});
  batch_event(id, batch_state::queued, batch_state::running, "batch_started", "started");
  account_event(id, account(0), account_state::pending, account_state::needs_attention,
                "needs_attention", "the credentials file has no profile 'acme-bc'");
  ASSERT_TRUE(run_until([&] { return reports_.size() == 2; }));
  stop_notifier();
  notifier_.reset();
  sender_.reset();

  start_notifier();
  account_event(id, account(1), account_state::pending, account_state::needs_attention,
                "needs_attention", "the credentials file has no profile 'acme-bc'");
  batch_event(id, batch_state::running, batch_state::completed, "batch_completed", "2 waiting");
  ASSERT_TRUE(run_until([&] { return reports_.size() == 3; }));
  const auto got = receiver_.on("/t");
  ASSERT_EQ(got.size(), 3U);
  EXPECT_EQ(got[1].headers.at("X-Unlinkd-Event"), "batch.needs_attention");
  EXPECT_EQ(json::parse(got[1].body).at("cause").as_string(), "unknown_profile");
  EXPECT_EQ(got[2].headers.at("X-Unlinkd-Event"), "batch.ended");
}

TEST_F(webhook_delivery_test, an_unfinished_delivery_is_sent_again_after_a_restart) {
  receiver_.script("/later", {503});
  auto patient = sender_options();
  patient.retry.max_attempts = 1000;
  start_notifier(std::nullopt, 1000, patient);
  const auto id = ingest("acme-later", {receiver_.url("/later")});
  batch_event(id, batch_state::queued, batch_state::running, "batch_started", "started");
  ASSERT_TRUE(run_until([&] { return receiver_.on("/later").size() >= 2; }));
  stop_notifier();
  notifier_.reset();
  sender_.reset();
  ASSERT_TRUE(reports_.empty());
  const auto first_id = receiver_.on("/later")[0].headers.at("X-Unlinkd-Delivery");

  receiver_.script("/later", {200});
  start_notifier();
  ASSERT_TRUE(run_until([&] { return reports_.size() == 1; }));
  EXPECT_EQ(reports_[0].result.outcome, delivery_outcome::delivered);
  EXPECT_EQ(reports_[0].delivery_id, first_id) << "the receiver can de-duplicate";
  const auto got = receiver_.on("/later");
  EXPECT_EQ(got.back().headers.at("X-Unlinkd-Delivery"), first_id);
  std::size_t started = 0;
  for (const auto& r : got) {
    started += r.headers.at("X-Unlinkd-Event") == "batch.started" ? 1 : 0;
  }
  EXPECT_EQ(started, got.size()) << "one notification, attempted until it got through";
}

TEST_F(webhook_delivery_test, over_the_bound_the_oldest_delivery_is_dropped_with_a_warning) {
  receiver_.script("/slow", {0});
  start_notifier(std::nullopt, 1);
  const auto a = ingest("acme-a", {receiver_.url("/slow")}, 1);
  const auto b = ingest("acme-b", {receiver_.url("/slow")}, 1);
  batch_event(a, batch_state::queued, batch_state::running, "batch_started", "started");
  batch_event(b, batch_state::queued, batch_state::running, "batch_started", "started");
  ASSERT_TRUE(run_until([&] { return !reports_.empty(); }));
  EXPECT_EQ(reports_[0].batch, "acme-a");
  EXPECT_EQ(reports_[0].result.outcome, delivery_outcome::stopped);
  EXPECT_NE(log_.text().find("dropped"), std::string::npos) << log_.text();
  EXPECT_EQ(notifier_->pending(), 1U);
}

TEST_F(webhook_delivery_test, events_from_before_the_first_start_are_history) {
  const auto id = ingest("acme-old", {receiver_.url("/old")});
  batch_event(id, batch_state::queued, batch_state::running, "batch_started", "started");
  // The notifier's clock is the store's; step past the old event's millisecond.
  const auto before = store_->now();
  ASSERT_TRUE(run_until([&] { return store_->now() > before; }));
  start_notifier();
  batch_event(id, batch_state::running, batch_state::completed, "batch_completed", "2 done");
  ASSERT_TRUE(run_until([&] { return reports_.size() == 1; })) << log_.text();
  const auto got = receiver_.on("/old");
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].headers.at("X-Unlinkd-Event"), "batch.ended");
}

TEST_F(webhook_delivery_test, https_verifies_the_peer_and_a_failed_handshake_is_retried) {
  start_notifier();
  // The receiver speaks plain HTTP: the TLS handshake cannot succeed.
  std::string url = receiver_.url("/tls");
  url.replace(0, 4, "https");
  const auto id = ingest("acme-tls", {url});
  batch_event(id, batch_state::queued, batch_state::running, "batch_started", "started");
  ASSERT_TRUE(run_until([&] { return reports_.size() == 1; }));
  EXPECT_EQ(reports_[0].result.outcome, delivery_outcome::exhausted);
  EXPECT_EQ(reports_[0].result.attempts, 4U);
  EXPECT_NE(reports_[0].result.message.find("TLS handshake"), std::string::npos)
      << reports_[0].result.message;
}

TEST_F(webhook_delivery_test, https_delivers_to_a_trusted_certificate_for_its_host_name_only) {
  const test_certificate cert(dir_.path());
  tls_receiver tls(io_, cert);
  auto o = sender_options();
  o.extra_ca_file = cert.cert_file;
  start_notifier(std::nullopt, 1000, o);
  const auto port = std::to_string(tls.port());
  // The certificate names localhost: the same server under its IP address must fail.
  const auto id = ingest(
      "acme-https", {"https://localhost:" + port + "/hook", "https://127.0.0.1:" + port + "/hook"});
  batch_event(id, batch_state::queued, batch_state::running, "batch_started", "started");
  ASSERT_TRUE(run_until([&] { return reports_.size() == 2; }));
  std::map<std::string, delivery_report> by_host;
  for (const auto& r : reports_) {
    by_host[r.host] = r;
  }
  EXPECT_EQ(by_host.at("localhost").result.outcome, delivery_outcome::delivered)
      << by_host.at("localhost").result.message;
  EXPECT_EQ(by_host.at("localhost").result.status, 204U);
  EXPECT_EQ(by_host.at("127.0.0.1").result.outcome, delivery_outcome::exhausted);
  EXPECT_NE(by_host.at("127.0.0.1").result.message.find("TLS handshake"), std::string::npos)
      << by_host.at("127.0.0.1").result.message;
  ASSERT_EQ(tls.bodies.size(), 1U);
  EXPECT_EQ(json::parse(tls.bodies[0]).at("event").as_string(), "batch.started");
  ASSERT_FALSE(tls.server_names.empty());
  EXPECT_EQ(tls.server_names[0], "localhost") << "SNI names the host";
  tls.stop();
}

// The daemon's wiring: the secret file, the state file under state_dir.
class start_notifications_test : public webhook_delivery_test {
 protected:
  config::daemon_config config_with_secret(const std::string& key, mode_t mode) {
    const auto path = dir_.file("webhook.key");
    std::ofstream(path, std::ios::trunc) << key << "\n";
    ::chmod(path.c_str(), mode);
    config::daemon_config c;
    c.state_dir = dir_.path().string();
    c.webhook_secret_file = path;
    return c;
  }
};

TEST_F(start_notifications_test, refuses_a_secret_file_others_may_read) {
  auto started =
      start_notifications(io_.get_executor(), *store_, config_with_secret("k", 0644), *log_.logger);
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().find("chmod 600"), std::string::npos) << started.error();
}

TEST_F(start_notifications_test, signs_with_the_files_key_and_keeps_its_state_under_state_dir) {
  auto started = start_notifications(io_.get_executor(), *store_,
                                     config_with_secret("file-key", 0600), *log_.logger);
  ASSERT_TRUE(started) << started.error();
  auto& n = **started;
  const auto id = ingest("acme-wired", {receiver_.url("/w")});
  batch_event(id, batch_state::queued, batch_state::running, "batch_started", "started");
  ASSERT_TRUE(run_until([&] { return receiver_.on("/w").size() == 1; }));
  const auto r = receiver_.on("/w")[0];
  EXPECT_TRUE(verify_webhook_signature("file-key", r.headers.at("X-Unlinkd-Timestamp"), r.body,
                                       r.headers.at("X-Unlinkd-Signature")));
  n.reload_secret("");  // SIGHUP with the setting removed: unsigned from now on
  n.stop();
  ASSERT_TRUE(run_until([&] { return !n.notifier().running(); }));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "webhooks.json"));
  EXPECT_EQ(log_.text().find("file-key"), std::string::npos) << "the key is never logged";
  started->reset();
}

}  // namespace
}  // namespace unlinkd::daemon
