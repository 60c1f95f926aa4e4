// Control socket: the real daemon's socket under abuse from raw Unix sockets
// (garbage bytes, a head and a body over the limits, malformed manifests and
// JSON to the POST routes, a slowloris client, 1,000 connections at once,
// busy and idle). Throughout, a well-behaved client keeps asking GET
// /v1/health and GET /v1/batches. Checks: every bad request gets what
// docs/CONTROL_API.md promises (a 4xx with a JSON error, or for bytes that
// are not HTTP the connection closed: never a hang, never a 5xx); the
// well-behaved client is answered within a bound, and while the connection
// cap is full it is refused at once and answered again once the read
// deadline frees the places; the daemon is still running at the end, stops
// cleanly, and its memory (VmRSS, VmHWM) grew by less than 64 MiB.
//
// The cap-full phase shows a documented limit: while 256 idle clients hold
// every place, a well-behaved client is refused for up to the 30 s read
// deadline (see docs/RELIABILITY.md, Control socket).
#include <chrono>
#include <future>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/reliability/control_socket_flood.hpp"
#include "tests/reliability/control_socket_prober.hpp"
#include "tests/reliability/raw_socket.hpp"
#include "tests/reliability/reliability_run.hpp"
#include "tests/reliability/reliability_settings.hpp"
#include "tests/reliability/scenario_profiles.hpp"

namespace unlinkd::reliability {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The daemon's documented limits (docs/CONTROL_API.md, control_server.hpp).
constexpr std::size_t header_limit = std::size_t{16} * 1024;
constexpr std::size_t body_limit = (std::size_t{16} << 20U) + 4096;  // max_manifest_bytes + 4 KiB
constexpr std::size_t connection_cap = 256;
constexpr auto read_deadline = 30s;
// Ours: how long a well-behaved request may take while others abuse the
// socket (the daemon's memory growth is bounded by memory_growth_bound_kib()).
constexpr milliseconds answer_bound = 3s;

struct scenario_sizes {
  std::size_t connections = 1000;
  int rounds = 1;  // of the bad requests and the busy flood
  // Each round sends the bad requests again and again for this long, then
  // floods again and again for this long: long enough for the well-behaved
  // client to ask many times meanwhile.
  milliseconds phase{3s};
};

scenario_sizes sizes_for(bool short_run) {
  return short_run ? scenario_sizes{1000, 1, 3s} : scenario_sizes{3000, 3, 15s};
}

// What a bad request may get back: one of `statuses` with a JSON error
// `code` (any code when empty), or, when `may_close`, the connection closed
// without an answer.
struct expected_answer {
  std::set<unsigned> statuses;
  std::string code;
  bool may_close = false;
};

void check_answer(problems& out, const std::string& what, const raw_result& got,
                  const expected_answer& wanted) {
  if (got.outcome == raw_outcome::closed) {
    if (!wanted.may_close) {
      out.push_back(what + ": the connection was closed without an answer");
    }
    return;
  }
  if (got.outcome == raw_outcome::timed_out) {
    out.push_back(what + ": " + describe(got));
    return;
  }
  if (!wanted.statuses.contains(got.reply.status)) {
    out.push_back(what + ": unexpected status: " + describe(got));
    return;
  }
  if (!got.reply.content_type.starts_with("application/json")) {
    out.push_back(what + ": the answer is not JSON: " + describe(got));
    return;
  }
  std::error_code ec;
  const auto body = boost::json::parse(got.reply.body, ec);
  if (ec || !body.is_object()) {
    out.push_back(what + ": the body does not parse as a JSON object: " + describe(got));
    return;
  }
  if (got.reply.status < 400) {
    return;
  }
  const auto* code = body.as_object().if_contains("error");
  const auto* message = body.as_object().if_contains("message");
  if (code == nullptr || !code->is_string() || message == nullptr || !message->is_string()) {
    out.push_back(what + R"(: the error has no "error" and "message" strings: )" + describe(got));
  } else if (!wanted.code.empty() && code->as_string() != wanted.code) {
    out.push_back(what + ": error code " + std::string(code->as_string()) + ", wanted " +
                  wanted.code + ": " + describe(got));
  }
}

// One request on a connection of its own. A daemon that cannot be reached
// at all is not an answer to judge: the scenario stops there.
raw_result send_one(const std::string& socket_path, const std::string& bytes,
                    milliseconds deadline = 10s) {
  auto s = raw_socket::connect(socket_path);
  if (!s) {
    throw std::runtime_error(s.error());
  }
  return s->send_and_read(bytes, deadline);
}

std::string post(const std::string& target, const std::string& body) {
  return "POST " + target +
         " HTTP/1.1\r\nHost: unlinkd\r\nConnection: close\r\nContent-Type: "
         "application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: unlinkd\r\nConnection: close\r\n\r\n";
}

// Every kind of bad request once, each on its own connection.
problems send_bad_requests(const std::string& socket, const std::string& batch,
                           std::uint64_t seed) {
  problems out;
  const expected_answer closed_or_400{{400}, {}, true};
  // Bytes that are not HTTP at all: no status line to answer.
  seeded_random random(seed);
  std::string garbage(4096, '\0');
  for (auto& c : garbage) {
    c = static_cast<char>(random.next() & 0xFFU);
  }
  garbage[0] = '\x01';
  check_answer(out, "4 KiB of random bytes", send_one(socket, garbage), closed_or_400);
  check_answer(out, "a header line without a colon",
               send_one(socket, "GET /v1/health HTTP/1.1\r\nHost unlinkd\r\n\r\n"), closed_or_400);
  check_answer(out, "a NUL in a header",
               send_one(socket, "GET /v1/health HTTP/1.1\r\nX-A: a\0b\r\n\r\n"s), closed_or_400);
  check_answer(out, "Content-Length: abc",
               send_one(socket, "POST /v1/validate HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
               closed_or_400);
  check_answer(out, "a response sent as a request",
               send_one(socket, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), closed_or_400);
  check_answer(out, "a Content-Length past 2^64",
               send_one(socket,
                        "POST /v1/validate HTTP/1.1\r\nContent-Length: "
                        "99999999999999999999999\r\n\r\n"),
               closed_or_400);

  // Over the limits: 413 too_large (docs/CONTROL_API.md, "Limits").
  const expected_answer too_large{{413}, "too_large", false};
  check_answer(out, "one header of 20 KiB",
               send_one(socket, "GET /v1/health HTTP/1.1\r\nHost: unlinkd\r\nX-Padding: " +
                                    std::string(header_limit + 4096, 'a') + "\r\n\r\n"),
               too_large);
  std::string many_headers = "GET /v1/health HTTP/1.1\r\nHost: unlinkd\r\n";
  for (int i = 0; many_headers.size() <= header_limit + 1024; ++i) {
    many_headers += "X-H" + std::to_string(i) + ": v\r\n";
  }
  check_answer(out, "2,000 small headers over 16 KiB", send_one(socket, many_headers + "\r\n"),
               too_large);
  check_answer(out, "Content-Length one byte over the body limit, body not sent",
               send_one(socket, "POST /v1/validate HTTP/1.1\r\nHost: unlinkd\r\nContent-Length: " +
                                    std::to_string(body_limit + 1) + "\r\n\r\n"),
               too_large);
  check_answer(out, "Content-Length of 2^62",
               send_one(socket,
                        "POST /v1/batches HTTP/1.1\r\nHost: unlinkd\r\nContent-Length: "
                        "4611686018427387904\r\n\r\n"),
               too_large);
  // A chunked body really sent, 1 MiB past the limit: the daemon must stop
  // reading at the limit and answer, not buffer it all.
  std::string chunked =
      "POST /v1/validate HTTP/1.1\r\nHost: unlinkd\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string piece(65536, '#');
  for (std::size_t sent = 0; sent <= body_limit + (std::size_t{1} << 20U); sent += piece.size()) {
    chunked += "10000\r\n" + piece + "\r\n";
  }
  chunked += "0\r\n\r\n";
  check_answer(out, "a chunked body 1 MiB over the limit", send_one(socket, chunked, 30s),
               too_large);

  // Malformed JSON (and other non-manifests) to the POST routes: a manifest
  // is YAML, so JSON is parsed as YAML and refused with 422 and its problems.
  const expected_answer invalid{{422}, "invalid_manifest", false};
  for (const auto& body :
       {std::string(R"({"version": 1, "batch": )"),
        std::string(R"({"version": 1, "batch": "x", "accounts": [)"), std::string(R"([1, 2)"),
        std::string(R"({}}}})"), std::string("{\"batch\": \"\xff\xfe\"}"), std::string("null"),
        std::string(R"({"version": 1})"), std::string()}) {
    const std::string shown = body.empty() ? "an empty body" : "'" + body.substr(0, 40) + "'";
    for (const char* route : {"/v1/validate", "/v1/batches", "/v1/batches?dry_run=true"}) {
      const std::string target = route;
      const auto got = send_one(socket, post(target, body));
      check_answer(out, "POST " + target + " with " + shown, got, invalid);
      if (got.outcome == raw_outcome::answered && got.reply.status == 422) {
        std::error_code ec;
        const auto v = boost::json::parse(got.reply.body, ec);
        const auto* listed = ec ? nullptr : v.as_object().if_contains("problems");
        if (listed == nullptr || !listed->is_array() || listed->as_array().empty()) {
          out.push_back("POST " + target + " with " + shown +
                        ": 422 without problems: " + describe(got));
        }
      }
    }
  }
  // The control routes take no body: a malformed one is ignored.
  const std::string junk = R"({"reason": "x", )";
  check_answer(out, "POST pause with a malformed JSON body",
               send_one(socket, post("/v1/batches/" + batch + "/pause", junk)),
               {{200, 409}, {}, false});
  check_answer(out, "POST resume with a malformed JSON body",
               send_one(socket, post("/v1/batches/" + batch + "/resume", junk)),
               {{200, 409}, {}, false});
  check_answer(out, "POST cancel of an unknown batch",
               send_one(socket, post("/v1/batches/no-such-batch/cancel", junk)),
               {{404}, "batch_not_found", false});

  // Wrong methods, paths and queries.
  check_answer(out, "DELETE /v1/batches",
               send_one(socket, "DELETE /v1/batches HTTP/1.1\r\nHost: unlinkd\r\n\r\n"),
               {{405}, "method_not_allowed", false});
  check_answer(out, "GET /v1/nothing-here", send_one(socket, get("/v1/nothing-here")),
               {{404}, "not_found", false});
  check_answer(out, "GET /v1/events?since=abc", send_one(socket, get("/v1/events?since=abc")),
               {{400}, "bad_since", false});
  check_answer(out, "GET /v1/batches/{invalid UTF-8}",
               send_one(socket, get("/v1/batches/\xff\xfe%00")), {{400, 404}, {}, true});
  return out;
}

// Waits (bounded) until the prober has `count` answers sent after `from`.
void wait_for_answer(const control_socket_prober& prober, steady::time_point from,
                     milliseconds deadline, std::size_t count = 1) {
  const auto end = steady::now() + deadline;
  while (prober.summary(from, steady::now()).answered < count && steady::now() < end) {
    std::this_thread::sleep_for(20ms);
  }
}

TEST(reliability, control_socket_abuse_leaves_the_daemon_up_answering_and_bounded) {
  const auto& s = settings();
  const auto sizes = sizes_for(s.short_run);
  // Our own connections plus the daemon's, the prober's and the run's files.
  const std::size_t open_files = raise_open_files_limit();
  ASSERT_GE(open_files, sizes.connections + 128)
      << "RLIMIT_NOFILE's hard limit is too low for " << sizes.connections << " connections";
  reliability_run run(run_options{.accounts = 20,
                                  .seed = s.seed + 2,
                                  .no_limits = true,
                                  .faults = {},
                                  .visibility_delay = {},
                                  .daemon_config = fast_retry_config()});
  ASSERT_TRUE(run.daemon().start()) << run.daemon().log_tail();
  run.drop_manifest();
  const std::string socket = run.daemon().socket_path();
  // The batch exists (listed) before the well-behaved client starts.
  const auto listed_by = steady::now() + 30s;
  while (run.batch_status().is_null() && steady::now() < listed_by) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(run.batch_status().is_null()) << "the batch was never listed\n"
                                             << run.daemon().log_tail();
  const auto pid = listener_pid(socket);
  ASSERT_TRUE(pid) << pid.error();
  const auto before = memory_of(*pid);
  ASSERT_TRUE(before) << before.error();

  control_socket_prober prober(socket, run.batch());
  problems found;
  const std::string health = get("/v1/health");
  const auto started = steady::now();
  std::vector<std::string> timeline;

  for (int round = 1; round <= sizes.rounds; ++round) {
    const std::string in_round = "round " + std::to_string(round) + ": ";
    // Bad requests, one at a time: the well-behaved client must not notice.
    const auto bad_from = steady::now();
    int repeats = 0;
    while (steady::now() - bad_from < sizes.phase) {
      ++repeats;
      for (auto& p :
           send_bad_requests(socket, run.batch(), s.seed + static_cast<unsigned>(round))) {
        found.push_back(in_round + "repeat " + std::to_string(repeats) + ": " + p);
      }
    }
    const auto bad = prober.summary(bad_from, steady::now());
    timeline.push_back(in_round + std::to_string(repeats) +
                       " times every bad request; well-behaved client: " + bad.describe());
    if (bad.sent == 0 || bad.answered != bad.sent || bad.slowest_answer > answer_bound) {
      found.push_back(in_round + "while bad requests came in, the well-behaved client got " +
                      bad.describe() + " (wanted every one within " +
                      std::to_string(answer_bound.count()) + " ms)");
    }

    // Connections at once, each asking GET /v1/health: each is answered or,
    // over the cap, closed at once; none hangs, none gets a 5xx.
    const auto busy_from = steady::now();
    for (bool first = true; steady::now() - busy_from < sizes.phase; first = false) {
      const auto busy = flood_connections(socket, sizes.connections, health, 60s, 5s);
      if (busy.still_open != 0 || busy.closed_later != 0 || busy.answered != busy.answered_200 ||
          busy.answered_200 < connection_cap / 2) {
        found.push_back(in_round + std::to_string(sizes.connections) +
                        " busy connections at once: " + busy.describe() +
                        " (wanted each answered 200 or closed at once, at least " +
                        std::to_string(connection_cap / 2) + " answered)");
      }
      if (first) {
        timeline.push_back(in_round + "busy flood (the first of the phase): " + busy.describe());
      }
    }
    const auto during_busy = prober.summary(busy_from, steady::now());
    timeline.push_back(in_round + "during the busy floods the well-behaved client got " +
                       during_busy.describe());
    // Over the cap a request is refused at once: it may go unanswered, but
    // never hangs, and answers come between the floods.
    if (during_busy.slowest_request > answer_bound || during_busy.longest_silence > 10s ||
        during_busy.answered == 0) {
      found.push_back(in_round + "during the busy floods the well-behaved client got " +
                      during_busy.describe());
    }
  }

  // Idle connections at once, holding the places, and a slowloris client
  // sending one header byte every 500 ms. The daemon closes those over the
  // cap at once, and the rest (and the slowloris) at its 30 s read deadline.
  const auto idle_from = steady::now();
  std::promise<void> slowloris_started;
  auto slowloris = std::async(std::launch::async, [&socket, &slowloris_started] {
    const auto start = steady::now();
    auto c = raw_socket::connect(socket);
    if (!c) {
      slowloris_started.set_value();
      return std::string("could not connect: ") + c.error();
    }
    const std::string head = "GET /v1/health HTTP/1.1\r\nHost: unlinkd\r\nX-Slow: ";
    for (const char ch : head) {
      if (c->send_byte_and_watch(ch, 0ms)) {
        slowloris_started.set_value();
        return std::string("closed while sending the start of the head");
      }
    }
    slowloris_started.set_value();
    // The pace of the byte stream is the point of this client; each wait
    // also ends at once when the daemon closes the connection.
    while (steady::now() - start < read_deadline + 15s) {
      if (c->send_byte_and_watch('a', 500ms)) {
        const auto after = std::chrono::duration_cast<milliseconds>(steady::now() - start);
        // Before the deadline it was refused, not timed out: that proves
        // nothing about slow clients.
        if (after < read_deadline - 5s || after > read_deadline + 10s) {
          return "closed after " + std::to_string(after.count()) + " ms, not at the " +
                 std::to_string(read_deadline.count()) + " s read deadline";
        }
        return std::string();
      }
    }
    return std::string("still open after 45 s: the read deadline did not close it");
  });
  // The slowloris holds its place before the flood fills the rest: a
  // connection the daemon refuses at once would prove nothing.
  ASSERT_EQ(slowloris_started.get_future().wait_for(10s), std::future_status::ready);
  const auto idle = flood_connections(socket, sizes.connections, {}, read_deadline + 20s, 5s);
  const std::string slow = slowloris.get();
  // The window ends at the first answer once the places are free again.
  const auto flood_end = steady::now();
  wait_for_answer(prober, flood_end, 10s);
  const auto during_idle = prober.summary(idle_from, steady::now());
  timeline.push_back("idle flood: " + idle.describe() +
                     "; well-behaved client: " + during_idle.describe());
  if (!slow.empty()) {
    found.push_back("slowloris: " + slow);
  }
  if (idle.still_open != 0 || idle.answered != 0 ||
      idle.closed_at_once + connection_cap < idle.connected ||
      idle.last_close > read_deadline + 10s) {
    found.push_back(std::to_string(sizes.connections) +
                    " idle connections at once: " + idle.describe() + " (wanted all but at most " +
                    std::to_string(connection_cap) + " closed at once, the rest by the " +
                    std::to_string(read_deadline.count()) + " s read deadline)");
  }
  // While the cap is full the well-behaved client is refused (documented:
  // "more are closed at once"): never left hanging, and answered again once
  // the deadline frees the places.
  if (during_idle.slowest_request > answer_bound ||
      during_idle.longest_silence > read_deadline + 10s || during_idle.answered == 0) {
    found.push_back("during the idle flood the well-behaved client got " + during_idle.describe());
  }

  // Afterwards: answered at once, the daemon up, its memory bounded.
  const auto after_from = steady::now();
  wait_for_answer(prober, after_from, 5s, 4);
  const auto after_abuse = prober.summary(after_from, steady::now());
  prober.stop();
  if (after_abuse.answered < 4 || after_abuse.slowest_answer > answer_bound) {
    found.push_back("after the abuse the well-behaved client got " + after_abuse.describe());
  }
  EXPECT_TRUE(run.daemon().running()) << "unlinkd exited:\n" << run.daemon().log_tail();
  const auto after = memory_of(*pid);
  ASSERT_TRUE(after) << after.error();
  if (auto grew = memory_growth_problem(*before, *after); !grew.empty()) {
    found.push_back(std::move(grew));
  }
  // A connection's coroutine that threw is logged: none may have.
  const auto log = run.daemon().log_tail(100000);
  if (log.find("a connection failed") != std::string::npos) {
    found.emplace_back("the log shows a connection's coroutine that failed with an exception");
  }
  if (const int status = run.daemon().stop(); status != 0) {
    found.push_back("unlinkd did not stop cleanly on SIGTERM (status " + std::to_string(status) +
                    ")");
  }
  std::string db_output;
  if (const int rc = run.daemon().check_db(db_output);
      rc != 0 || db_output.find(": ok") == std::string::npos) {
    found.push_back("unlinkd --check-db exited " + std::to_string(rc) + ": " + db_output);
  }
  EXPECT_TRUE(found.empty()) << as_text(found) << "log tail:\n" << run.daemon().log_tail();
  for (const auto& line : timeline) {
    std::cout << "control socket: " << line << "\n";
  }
  std::cout << "control socket: memory VmRSS " << before->rss_kib << " -> " << after->rss_kib
            << " KiB, VmHWM " << before->hwm_kib << " -> " << after->hwm_kib << " KiB; "
            << std::chrono::duration_cast<std::chrono::seconds>(steady::now() - started).count()
            << " s of abuse\n";
}

}  // namespace
}  // namespace unlinkd::reliability
