// Accounts per second through every step with a zero-latency platform and
// persistence on (issue 7's first benchmark): the scheduler's own cost plus
// the store's group commits, nothing of the network.
//
//   bench-engine [ACCOUNTS] [--concurrency N] [--dir DIR]
//
// Ingests one batch of ACCOUNTS partner_share advertisers (default 20,000)
// into a fresh database in DIR (default: a temporary folder), runs the
// engine until every account is done, and prints accounts/s, commits/s,
// CPU per account and peak RSS.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include "scheduler/engine.hpp"
#include "store/store.hpp"
#include "tests/scheduler/fake_platform.hpp"

namespace {

namespace asio = boost::asio;
using namespace unlinkd;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int run(int argc, char** argv) {
  std::size_t accounts = 20'000;
  std::uint32_t concurrency = 64;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--concurrency" && i + 1 < argc) {
      concurrency = static_cast<std::uint32_t>(std::stoul(argv[++i]));
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (!a.empty() && a[0] != '-') {
      accounts = std::stoul(a);
    } else {
      std::cerr << "usage: bench-engine [ACCOUNTS] [--concurrency N] [--dir DIR]\n";
      return 1;
    }
  }
  const bool own_dir = dir.empty();
  if (own_dir) {
    std::string pattern = (std::filesystem::temp_directory_path() / "bench-engine-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = pattern;
  }
  spdlog::logger log("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
  asio::io_context io;
  auto opened = store::store::open(dir + "/unlinkd.db", {}, log);
  if (!opened) {
    std::cerr << opened.error().message << '\n';
    return 1;
  }
  auto& db = **opened;
  scheduler::test::fake_platform platform(io.get_executor());

  config::manifest m;
  m.batch = "bench";
  m.credentials = "bench";
  m.business_center_id = "7012345678901234567";
  for (std::size_t i = 0; i < accounts; ++i) {
    config::account a;
    a.id = std::to_string(7100000000000000000ULL + i);
    a.mode = config::unlink_mode::partner_share;
    a.partner_id = "7099999999999999999";
    a.active_campaigns = config::campaign_policy::pause;
    platform.world[a.id].active_campaigns = {a.id + "1"};
    m.accounts.push_back(std::move(a));
  }
  const auto ingest_start = std::chrono::steady_clock::now();
  auto ingested = db.ingest_blocking({std::move(m), "bench-sha", "bench.yaml", 0});
  const double ingest_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ingest_start).count();
  if (!ingested || !std::holds_alternative<store::ingest_accepted>(*ingested)) {
    std::cerr << "ingest failed\n";
    return 1;
  }
  const auto batch = std::get<store::ingest_accepted>(*ingested).batch_id;

  config::credential_profile profile;
  profile.name = "bench";
  scheduler::engine_options options;
  options.concurrency = concurrency;
  options.idle_poll = std::chrono::milliseconds(50);
  options.seed = 1;
  scheduler::engine engine(
      io.get_executor(), db, platform,
      [&](const store::batch_record&) -> std::optional<adapters::call_context> {
        adapters::call_context ctx;
        ctx.credential = &profile;
        return ctx;
      },
      options, log);

  const auto done = [&] {
    std::int64_t n = 0;
    for (const auto& [key, count] : db.counts(batch)) {
      n += key.state == store::account_state::done ? count : 0;
    }
    return n == static_cast<std::int64_t>(accounts);
  };
  bool finished = false;
  asio::co_spawn(io, engine.run(), [&](const std::exception_ptr& e) {
    finished = true;
    if (e) {
      std::rethrow_exception(e);
    }
  });
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  while (!done()) {
    io.run_for(std::chrono::milliseconds(20));
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu_start;
  engine.stop();
  while (!finished) {
    io.run_for(std::chrono::milliseconds(20));
  }
  const auto commits = engine.stats().commits;
  std::printf("| %zu | %u | %.2f | %.0f | %.0f | %.1f | %.1f | %ld |\n", accounts, concurrency,
              wall, static_cast<double>(accounts) / wall, static_cast<double>(commits) / wall,
              cpu * 1e6 / static_cast<double>(accounts), ingest_s, peak_rss_kib() / 1024);
  std::printf(
      "(accounts, concurrency, wall s, accounts/s, commits/s, CPU µs/account incl. store "
      "threads, ingest s, peak RSS MiB); %llu platform calls, %llu commits, %zu groups\n",
      static_cast<unsigned long long>(platform.calls.size()),
      static_cast<unsigned long long>(commits), db.groups_committed());
  if (own_dir) {
    std::filesystem::remove_all(dir);
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench-engine: " << e.what() << '\n';
    return 1;
  }
}
