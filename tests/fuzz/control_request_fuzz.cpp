// libFuzzer target for the control socket's requests: daemon::control_api
// ::handle, the function control_server calls with each request it reads,
// over a real store (SQLite in a temporary folder) and a scheduler engine
// with a fake platform, exactly as tests/daemon/control_api_test.cpp builds
// them. The engine does not run: handle() must answer without it.
//
// Input: byte 0 chooses the caller (value % 4: root, admin, reader, other),
// then three lines: the method, the target (path and query) and the
// X-Manifest-Name header; the rest is the body. A seed reads
//   1POST
//   /v1/batches?dry_run=true
//   batch.yaml
//   version: 1 ...
// Invariants, besides crashes, leaks, UB and hangs (docs/FUZZING.md):
// - the status is one the API documents, and never 500 (the store is healthy);
// - a status >= 400 comes with a JSON object {"error", "message"}, both
//   non-empty strings; a 200/201 JSON body parses; only 200 answers carry the
//   CSV report or NDJSON events, every NDJSON line a JSON object;
// - a caller of neither group gets 403 for everything; a reader never gets
//   2xx for a POST other than /v1/validate; neither leaves an event behind;
// - 201 only for POST /v1/batches.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>
#include <sys/types.h>
#include <unistd.h>

#include "daemon/control_api.hpp"
#include "scheduler/engine.hpp"
#include "store/store.hpp"
#include "tests/fuzz/fuzz_checks.hpp"
#include "tests/scheduler/fake_platform.hpp"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using unlinkd::daemon::caller;
using unlinkd::daemon::control_request;
using unlinkd::daemon::control_response;

// Batches accumulate (each valid manifest is one): a fresh store every this
// many inputs keeps the cost of listing and reporting flat.
constexpr std::size_t inputs_per_store = 512;
constexpr auto run_bound = std::chrono::seconds{5};
constexpr gid_t socket_gid = 5000;
constexpr gid_t admin_gid = 5001;

enum class caller_kind : std::uint8_t { root, admin, reader, other };

caller caller_of(caller_kind k) {
  switch (k) {
    case caller_kind::root:
      return {0, 0, 1, {}};
    case caller_kind::admin:
      return {4242, 100, 1, {admin_gid}};
    case caller_kind::reader:
      return {4243, 100, 1, {socket_gid}};
    case caller_kind::other:
      break;
  }
  return {4244, 100, 1, {}};
}

// A folder of its own in memory when /dev/shm exists (SQLite's fsyncs are
// then free), else in the temporary folder.
std::string make_folder() {
  const fs::path base =
      fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  std::string pattern = (base / "unlinkd-control-fuzz-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed under " + base.string());
  }
  return pattern;
}

class world {
 public:
  world() { open(); }
  world(const world&) = delete;
  world& operator=(const world&) = delete;
  ~world() { close(); }

  // Runs handle() to completion under the bound.
  control_response handle(control_request request, const caller& who) {
    if (++inputs_ % inputs_per_store == 0) {
      close();
      open();
    }
    return run(api_->handle(std::move(request), who));
  }

  // A stream's next pieces, as control_server would ask for them (a few:
  // the server would wait between them; here nothing new comes).
  template <class Check>
  void follow(control_response& out, const Check& check) {
    for (int i = 0; i < 3 && out.next; ++i) {
      const auto piece = run(out.next());
      if (!piece || piece->empty()) {
        return;
      }
      check(*piece);
    }
  }

  // Events written since the last call.
  std::size_t new_events() {
    auto page = run(store_->events_after(last_seq_, 1000));
    UNLINKD_FUZZ_CHECK(page.has_value());
    if (!page->empty()) {
      last_seq_ = page->back().seq;
    }
    return page->size();
  }

 private:
  template <class T>
  T run(asio::awaitable<T> op) {
    std::optional<T> out;
    std::exception_ptr error;
    asio::co_spawn(io_, std::move(op), [&](const std::exception_ptr& e, T value) {
      error = e;
      if (!e) {
        out.emplace(std::move(value));
      }
    });
    io_.restart();
    const auto until = std::chrono::steady_clock::now() + run_bound;
    while (!out && !error && std::chrono::steady_clock::now() < until) {
      io_.run_one_until(until);
    }
    if (error) {
      std::rethrow_exception(error);
    }
    UNLINKD_FUZZ_CHECK(out.has_value());  // else: the request did not end in time
    return std::move(*out);
  }

  void open() {
    dir_ = make_folder();
    auto opened = unlinkd::store::store::open(dir_ + "/unlinkd.db", {}, log_);
    if (!opened) {
      throw std::runtime_error("the store did not open: " + opened.error().message);
    }
    store_ = std::move(*opened);
    engine_ = std::make_unique<unlinkd::scheduler::engine>(
        io_.get_executor(), *store_, platform_,
        [](const unlinkd::store::batch_record&) {
          return std::optional<unlinkd::adapters::call_context>();
        },
        unlinkd::scheduler::engine_options{}, log_);
    unlinkd::daemon::control_settings s;
    s.groups = {socket_gid, admin_gid};
    s.max_manifest_bytes = 16384;
    s.max_accounts = 1000;
    s.metrics = [] { return std::string("# TYPE unlinkd_fuzz gauge\nunlinkd_fuzz 1\n"); };
    s.profiles = [] {
      return std::optional<std::vector<std::string>>({"acme", "acme-bc", "default"});
    };
    api_ = std::make_unique<unlinkd::daemon::control_api>(*store_, *engine_, s);
    last_seq_ = 0;
  }

  void close() {
    api_.reset();
    engine_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  spdlog::logger log_{"fuzz", std::make_shared<spdlog::sinks::null_sink_st>()};
  asio::io_context io_;
  unlinkd::scheduler::test::fake_platform platform_{io_.get_executor()};
  std::string dir_;
  std::unique_ptr<unlinkd::store::store> store_;
  std::unique_ptr<unlinkd::scheduler::engine> engine_;
  std::unique_ptr<unlinkd::daemon::control_api> api_;
  std::size_t inputs_ = 0;
  std::int64_t last_seq_ = 0;
};

world& the_world() {
  static world w;
  return w;
}

// The next line of `rest` (without its '\n'), consumed.
std::string_view take_line(std::string_view& rest) {
  const auto end = rest.find('\n');
  const auto line = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  return line;
}

bool is_documented_status(unsigned s) {
  static const std::set<unsigned> documented{200, 201, 202, 400, 403, 404,
                                             405, 409, 413, 422, 500, 503};
  return documented.contains(s);
}

bool non_empty_string(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() && !v->get_string().empty();
}

// `text` as JSON, which must parse, UTF-8 included (RFC 8259 §8.1): handle()
// quotes request bytes (the path, a batch name, X-Manifest-Name) into its
// messages, and once echoed them unchecked (regression
// invalid-utf8-path-echoed-in-404).
json::value parse_json(std::string_view text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  UNLINKD_FUZZ_CHECK(!ec);
  return v;
}

// Every line a JSON object (an event).
void check_ndjson(std::string_view rest) {
  while (!rest.empty()) {
    const auto line = take_line(rest);
    UNLINKD_FUZZ_CHECK(parse_json(line).is_object());
  }
}

void check_response(const control_request& r, caller_kind who, const control_response& out) {
  UNLINKD_FUZZ_CHECK(is_documented_status(out.status));
  UNLINKD_FUZZ_CHECK(out.status != 500);
  const std::string path = r.target.substr(0, r.target.find('?'));
  if (who == caller_kind::other) {
    UNLINKD_FUZZ_CHECK(out.status == 403);
  }
  if (who == caller_kind::reader && r.method == "POST" && path != "/v1/validate") {
    UNLINKD_FUZZ_CHECK(out.status == 403);
  }
  if (out.status == 201) {
    UNLINKD_FUZZ_CHECK(r.method == "POST" && path == "/v1/batches");
  }
  if (out.content_type == "application/json") {
    const auto body = parse_json(out.body);
    if (out.status >= 400) {
      const auto* o = body.if_object();
      UNLINKD_FUZZ_CHECK(o != nullptr);
      UNLINKD_FUZZ_CHECK(non_empty_string(*o, "error"));
      UNLINKD_FUZZ_CHECK(non_empty_string(*o, "message"));
    }
    return;
  }
  // The documented non-JSON bodies: the CSV report, the metrics and the
  // NDJSON events (a page, or a stream checked by the caller).
  UNLINKD_FUZZ_CHECK(out.status == 200 && r.method == "GET");
  if (out.content_type == "text/csv") {
    UNLINKD_FUZZ_CHECK(path.ends_with("/report"));
    return;
  }
  if (out.content_type.starts_with("text/plain")) {
    UNLINKD_FUZZ_CHECK(path == "/metrics" || path == "/v1/metrics");
    return;
  }
  UNLINKD_FUZZ_CHECK(out.content_type == "application/x-ndjson");
  UNLINKD_FUZZ_CHECK(path == "/v1/events");
  check_ndjson(out.body);
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const auto who = static_cast<caller_kind>(data[0] % 4U);
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  control_request r;
  r.method = take_line(rest);
  r.target = take_line(rest);
  r.manifest_name = take_line(rest);
  r.body = rest;

  world& w = the_world();
  auto out = w.handle(r, caller_of(who));
  if (std::getenv("UNLINKD_FUZZ_VERBOSE") != nullptr) {  // triage: what each input got
    std::fprintf(stderr, "%s %s -> %u %s %.200s\n", r.method.c_str(), r.target.c_str(), out.status,
                 out.content_type.c_str(), out.body.c_str());
  }
  check_response(r, who, out);
  if (out.next) {
    UNLINKD_FUZZ_CHECK(out.status == 200 && out.content_type == "application/x-ndjson");
    w.follow(out, check_ndjson);
  }
  const std::size_t events = w.new_events();
  if (std::getenv("UNLINKD_FUZZ_VERBOSE") != nullptr) {
    std::fprintf(stderr, "  %zu new events\n", events);
  }
  if (who == caller_kind::other || who == caller_kind::reader) {
    UNLINKD_FUZZ_CHECK(events == 0);  // a refused change leaves no trace
  }
  return 0;
}
