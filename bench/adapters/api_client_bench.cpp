// bench-api-client: N calls through http_api_client at C concurrent requests
// against unlinkd-sandbox --no-limits (started here on port 0, or an
// already running one with --port). Prints calls per second, latency
// percentiles and the client's CPU per call (getrusage of this process; the
// sandbox is another process and is not counted).
//
//   bench-api-client [--calls N] [--concurrency C] [--accounts N] [--port P --token T --app-id A]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>
#include <sys/resource.h>

#include "adapters/http_api_client.hpp"
#include "adapters/simple_rate_gate.hpp"
#include "config/credentials.hpp"
#include "tests/sandbox/sandbox_process.hpp"

namespace {

namespace asio = boost::asio;
namespace adapters = unlinkd::adapters;
using clock_type = std::chrono::steady_clock;

struct bench_options {
  std::uint64_t calls = 20'000;
  std::size_t concurrency = 64;
  std::uint64_t accounts = 1'000;
  unsigned short port = 0;  // 0: start a sandbox here
  std::string token;
  std::string app_id;
};

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  const auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

bool parse(int argc, char** argv, bench_options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      return false;
    }
    const std::string v = argv[++i];
    if (a == "--calls") {
      o.calls = std::stoull(v);
    } else if (a == "--concurrency") {
      o.concurrency = std::stoul(v);
    } else if (a == "--accounts") {
      o.accounts = std::stoull(v);
    } else if (a == "--port") {
      o.port = static_cast<unsigned short>(std::stoul(v));
    } else if (a == "--token") {
      o.token = v;
    } else if (a == "--app-id") {
      o.app_id = v;
    } else {
      return false;
    }
  }
  return o.calls > 0 && o.concurrency > 0 &&
         (o.port == 0 || (!o.token.empty() && !o.app_id.empty()));
}

struct run_state {
  std::uint64_t next = 0;
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::vector<double> latencies_us;
};

asio::awaitable<void> worker(adapters::http_api_client& client, const adapters::call_context& ctx,
                             std::uint64_t total, run_state& s) {
  while (s.next < total) {
    ++s.next;
    adapters::api_request request;
    request.path = "/bc/get/";
    request.scope = adapters::call_scope::credential_level;
    const auto start = clock_type::now();
    const auto reply = co_await client.call(ctx, std::move(request));
    s.latencies_us.push_back(
        std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
    ++(reply ? s.ok : s.failed);
  }
}

int run(int argc, char** argv) {
  bench_options o;
  if (!parse(argc, argv, o)) {
    std::cerr << "usage: bench-api-client [--calls N] [--concurrency C] [--accounts N]"
                 " [--port P --token T --app-id A]\n";
    return 2;
  }
  std::unique_ptr<unlinkd::test::sandbox_process> sandbox;
  unlinkd::config::credential_profile profile;
  if (o.port == 0) {
    sandbox = std::make_unique<unlinkd::test::sandbox_process>(
        std::vector<std::string>{"--accounts", std::to_string(o.accounts), "--seed", "1",
                                 "--no-limits", "--credentials-out", "{dir}/credentials.yaml"});
    const auto loaded = unlinkd::config::load_credentials(sandbox->dir() + "/credentials.yaml", {});
    const auto* admin = loaded.problems.empty() ? loaded.value.find("sandbox-admin") : nullptr;
    if (admin == nullptr) {
      std::cerr << "cannot read the sandbox's credentials\n";
      return 1;
    }
    profile = *admin;
  } else {
    profile.app_id = o.app_id;
    profile.access_token = unlinkd::config::secret{o.token};
    profile.base_url = "http://127.0.0.1:" + std::to_string(o.port);
  }

  asio::io_context io{1};
  auto log =
      std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_st>());
  adapters::simple_rate_gate gate{io.get_executor()};
  adapters::client_options options;
  options.max_connections_per_host = o.concurrency;
  adapters::http_api_client client{io.get_executor(), gate, *log, options};
  const adapters::call_context ctx{"bench", &profile, profile.base_url};

  // Warm-up: open the connections once so the timed run measures steady state.
  run_state warm;
  for (std::size_t i = 0; i < o.concurrency; ++i) {
    asio::co_spawn(io, worker(client, ctx, o.concurrency, warm), asio::detached);
  }
  io.run();
  io.restart();

  run_state s;
  s.latencies_us.reserve(o.calls);
  const double cpu0 = cpu_seconds();
  const auto t0 = clock_type::now();
  for (std::size_t i = 0; i < o.concurrency; ++i) {
    asio::co_spawn(io, worker(client, ctx, o.calls, s), asio::detached);
  }
  io.run();
  const double wall = std::chrono::duration<double>(clock_type::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;

  std::sort(s.latencies_us.begin(), s.latencies_us.end());
  const auto pct = [&](double p) {
    return s.latencies_us.empty()
               ? 0.0
               : s.latencies_us[std::min(s.latencies_us.size() - 1,
                                         static_cast<std::size_t>(p * s.latencies_us.size()))];
  };
  std::printf("calls %llu ok %llu failed %llu concurrency %zu connections %llu\n",
              static_cast<unsigned long long>(o.calls), static_cast<unsigned long long>(s.ok),
              static_cast<unsigned long long>(s.failed), o.concurrency,
              static_cast<unsigned long long>(client.counters().connections_opened));
  std::printf("wall %.3f s  calls/s %.0f  latency p50 %.0f us p99 %.0f us\n", wall,
              static_cast<double>(o.calls) / wall, pct(0.50), pct(0.99));
  std::printf("client CPU %.3f s  per call %.1f us\n", cpu,
              cpu * 1e6 / static_cast<double>(o.calls));
  return s.failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench-api-client: " << e.what() << '\n';
    return 1;
  }
}
