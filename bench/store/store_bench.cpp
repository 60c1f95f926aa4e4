// Measures the store on a real file:
//   store-bench fsync DIR [--seconds S]          raw fsync rate of DIR's disk
//   store-bench transitions DIR [--producers N] [--seconds S]
//                                                durable transitions/s via group commit
//   store-bench ingest DIR [--accounts N] [--manifest FILE]
//                                                one manifest into an empty store
//   store-bench populate DB [--accounts N] [--finished F]
//                                                N accounts in manifests of 100,000,
//                                                then a fraction F of them done
//   store-bench start DB [--seconds S]           open, first page of ready accounts,
//                                                then a steady claim/commit loop; RSS
// Each run prints one line of `key=value` figures. Memory figures come from
// /proc/self/status, so `start` runs in a fresh process to show steady state.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <fcntl.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "config/manifest_identity.hpp"
#include "config/manifest_parser.hpp"
#include "store/store.hpp"

namespace {

namespace asio = boost::asio;
namespace us = unlinkd::store;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// VmRSS / VmHWM in MiB.
double proc_status_mib(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream fields(line.substr(key.size() + 1));
      double kib = 0;
      fields >> kib;
      return kib / 1024.0;
    }
  }
  return -1;
}

std::string arg(const std::vector<std::string>& args, const std::string& name,
                const std::string& fallback) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == name) {
      return args[i + 1];
    }
  }
  return fallback;
}

std::shared_ptr<spdlog::logger> make_logger() {
  auto log = spdlog::stderr_logger_mt("store-bench");
  log->set_level(spdlog::level::warn);
  return log;
}

std::unique_ptr<us::store> open_or_exit(const std::string& path, spdlog::logger& log) {
  auto s = us::store::open(path, {}, log);
  if (!s) {
    std::cerr << "store-bench: " << s.error().message << "\n";
    std::exit(1);
  }
  return std::move(*s);
}

// The mix of an agency's book, like bench/generate_manifest.cpp writes it.
unlinkd::config::manifest make_manifest(const std::string& name, std::size_t n,
                                        std::uint64_t first_id) {
  using namespace std::chrono;
  namespace cfg = unlinkd::config;
  cfg::manifest m;
  m.batch = name;
  m.credentials = "acme-bc";
  m.business_center_id = "7012345678901234567";
  m.accounts.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    cfg::account a;
    a.id = std::to_string(first_id + i * 7919);
    a.label = "Müller Sport DE Brand #" + std::to_string(i);
    a.backup.reports_since = year{2025} / January / day{1};
    a.backup.reports_until = year{2026} / October / day{31};
    switch (i % 5) {
      case 0:
      case 1:
        a.mode = cfg::unlink_mode::partner_share;
        a.partner_id = "7099999999999999999";
        break;
      case 2:
        a.mode = cfg::unlink_mode::member_access;
        a.members = {"6900000000000000001", "6900000000000000002"};
        break;
      case 3:
        a.type = cfg::account_type::tiktok_account;
        a.mode = cfg::unlink_mode::bc_asset;
        break;
      default:
        a.type = cfg::account_type::tiktok_account;
        a.mode = cfg::unlink_mode::tiktok_binding;
        a.advertiser_id = "7123456789012345678";
        break;
    }
    m.accounts.push_back(std::move(a));
  }
  return m;
}

std::int64_t ingest_or_exit(us::store& s, us::ingest_request r) {
  auto out = s.ingest_blocking(std::move(r));
  if (!out || !std::holds_alternative<us::ingest_accepted>(*out)) {
    std::cerr << "store-bench: ingest failed: " << (out ? us::describe(*out) : out.error().message)
              << "\n";
    std::exit(1);
  }
  return std::get<us::ingest_accepted>(*out).batch_id;
}

// Rewrites one 4 KiB page and syncs it, as a WAL commit appends and syncs:
// with fsync (data and metadata) and with fdatasync (what SQLite calls on
// Linux), each for half of `seconds`.
int bench_fsync(const std::string& dir, double seconds) {
  const auto path = dir + "/fsync-probe";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    std::perror("open");
    return 1;
  }
  const std::string page(4096, 'x');
  double rates[2] = {0, 0};
  for (int data_only = 0; data_only < 2; ++data_only) {
    std::size_t n = 0;
    const auto start = clock_type::now();
    while (seconds_since(start) < seconds / 2) {
      const auto offset = static_cast<off_t>((n % 16) * page.size());
      if (pwrite(fd, page.data(), page.size(), offset) < 0 ||
          (data_only != 0 ? fdatasync(fd) : fsync(fd)) != 0) {
        std::perror("sync");
        return 1;
      }
      ++n;
    }
    rates[data_only] = static_cast<double>(n) / seconds_since(start);
  }
  ::close(fd);
  std::filesystem::remove(path);
  std::printf("fsync: fsync_per_s=%.0f fdatasync_per_s=%.0f\n", rates[0], rates[1]);
  return 0;
}

int bench_transitions(const std::string& dir, std::size_t producers, double seconds) {
  auto log = make_logger();
  const auto path = dir + "/transitions.db";
  std::filesystem::remove(path);
  auto s = open_or_exit(path, *log);
  const auto batch = ingest_or_exit(
      *s,
      {make_manifest("bench-transitions", producers, 7100000000000000000ULL), "t", "t.yaml", 0});

  asio::io_context io;
  std::size_t commits = 0;
  std::size_t failures = 0;
  const auto groups_before = s->groups_committed();
  const auto start = clock_type::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  for (std::size_t p = 0; p < producers; ++p) {
    asio::co_spawn(
        io,
        [&, id = std::to_string(7100000000000000000ULL + p * 7919)]() -> asio::awaitable<void> {
          // pending -> backup, then backup <-> pause: every commit moves a count.
          us::account_state from = us::account_state::pending;
          for (std::uint32_t n = 1; clock_type::now() < deadline; ++n) {
            us::transition t;
            t.batch_id = batch;
            t.account_id = id;
            t.expected = from;
            t.to = from == us::account_state::backup ? us::account_state::pause
                                                     : us::account_state::backup;
            t.step = t.to == us::account_state::backup ? us::pipeline_step::backup
                                                       : us::pipeline_step::pause;
            t.attempts = n;
            const auto to = t.to;
            auto r = co_await s->commit(std::move(t));
            if (!r || *r != us::commit_outcome::applied) {
              ++failures;
              co_return;
            }
            from = to;
            ++commits;
          }
        },
        [](const std::exception_ptr& e) {
          if (e) {
            std::rethrow_exception(e);
          }
        });
  }
  io.run();
  const double elapsed = seconds_since(start);
  const auto groups = s->groups_committed() - groups_before;
  std::printf(
      "transitions: producers=%zu commits=%zu seconds=%.2f per_s=%.0f groups=%zu "
      "mean_group=%.1f failures=%zu rss_mib=%.1f\n",
      producers, commits, elapsed, static_cast<double>(commits) / elapsed, groups,
      groups == 0 ? 0.0 : static_cast<double>(commits) / static_cast<double>(groups), failures,
      proc_status_mib("VmRSS"));
  return failures == 0 ? 0 : 1;
}

int bench_ingest(const std::string& dir, std::size_t accounts, const std::string& manifest_file) {
  auto log = make_logger();
  const auto path = dir + "/ingest.db";
  std::filesystem::remove(path);
  auto s = open_or_exit(path, *log);
  us::ingest_request r;
  double parse_s = 0;
  if (!manifest_file.empty()) {
    std::ifstream in(manifest_file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto start = clock_type::now();
    auto parsed =
        unlinkd::config::parse_manifest(bytes, manifest_file, {}, unlinkd::config::utc_today());
    parse_s = seconds_since(start);
    if (!parsed.value) {
      std::cerr << "store-bench: the manifest is invalid\n";
      return 1;
    }
    r = {std::move(*parsed.value), unlinkd::config::sha256_hex(bytes), manifest_file, 0};
  } else {
    r = {make_manifest("bench-ingest", accounts, 7100000000000000000ULL), "i", "i.yaml", 0};
  }
  const auto n = r.manifest.accounts.size();
  const auto start = clock_type::now();
  ingest_or_exit(*s, std::move(r));
  const double elapsed = seconds_since(start);
  std::printf(
      "ingest: accounts=%zu seconds=%.3f accounts_per_s=%.0f parse_seconds=%.3f "
      "peak_rss_mib=%.1f\n",
      n, elapsed, static_cast<double>(n) / elapsed, parse_s, proc_status_mib("VmHWM"));
  return 0;
}

int bench_populate(const std::string& path, std::size_t accounts, double finished) {
  auto log = make_logger();
  std::filesystem::remove(path);
  auto s = open_or_exit(path, *log);
  const auto start = clock_type::now();
  std::vector<std::pair<std::int64_t, std::string>> ids;
  constexpr std::size_t per_manifest = 100'000;
  for (std::size_t done = 0, b = 0; done < accounts; done += per_manifest, ++b) {
    const auto n = std::min(per_manifest, accounts - done);
    auto m =
        make_manifest("populate-" + std::to_string(b), n, 7100000000000000000ULL + done * 7919);
    const auto to_finish = static_cast<std::size_t>(static_cast<double>(n) * finished);
    std::vector<std::string> finish;
    for (std::size_t i = 0; i < to_finish; ++i) {
      finish.push_back(m.accounts[i].id);
    }
    const auto batch = ingest_or_exit(*s, {std::move(m), "p" + std::to_string(b), "p.yaml", 0});
    for (auto& id : finish) {
      ids.emplace_back(batch, std::move(id));
    }
  }
  const double ingest_s = seconds_since(start);
  const double ingest_peak = proc_status_mib("VmHWM");

  // Finish a fraction through the real path: fenced transitions, group commit.
  asio::io_context io;
  std::atomic<std::size_t> next{0};
  std::size_t failures = 0;
  const auto finish_start = clock_type::now();
  for (int p = 0; p < 1000; ++p) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          for (std::size_t i = next++; i < ids.size(); i = next++) {
            us::transition t;
            t.batch_id = ids[i].first;
            t.account_id = ids[i].second;
            t.expected = us::account_state::pending;
            t.to = us::account_state::done;
            t.step = us::pipeline_step::verify;
            auto r = co_await s->commit(std::move(t));
            if (!r || *r != us::commit_outcome::applied) {
              ++failures;
            }
          }
        },
        [](const std::exception_ptr& e) {
          if (e) {
            std::rethrow_exception(e);
          }
        });
  }
  io.run();
  const double finish_s = seconds_since(finish_start);
  std::printf(
      "populate: accounts=%zu finished=%zu ingest_seconds=%.2f ingest_peak_rss_mib=%.1f "
      "finish_seconds=%.2f finish_per_s=%.0f failures=%zu file_mib=%.1f\n",
      accounts, ids.size(), ingest_s, ingest_peak, finish_s,
      static_cast<double>(ids.size()) / finish_s, failures,
      static_cast<double>(std::filesystem::file_size(path)) / (1 << 20));
  return failures == 0 ? 0 : 1;
}

int bench_start(const std::string& path, double seconds) {
  auto log = make_logger();
  const auto start = clock_type::now();
  auto s = open_or_exit(path, *log);
  const double open_s = seconds_since(start);
  asio::io_context io;
  double first_page_s = 0;
  std::size_t first_page = 0;
  std::size_t commits = 0;
  std::size_t claimed = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto page = co_await s->claim_ready(256, s->now());
        first_page_s = seconds_since(start);
        first_page = page ? page->size() : 0;
        // Steady state: claim pages and move each account one step, as a
        // scheduler would, for `seconds`.
        const auto deadline = clock_type::now() + std::chrono::duration<double>(seconds);
        while (page && !page->empty() && clock_type::now() < deadline) {
          claimed += page->size();
          for (const auto& a : *page) {
            us::transition t;
            t.batch_id = a.batch_id;
            t.account_id = a.settings.id;
            t.expected = a.state;
            t.to = us::account_state::preflight;
            t.step = us::pipeline_step::preflight;
            t.next_attempt_at = s->now() + std::chrono::hours{1};
            (void)co_await s->commit(std::move(t));
            ++commits;
          }
          page = co_await s->claim_ready(256, s->now());
        }
      },
      [](const std::exception_ptr& e) {
        if (e) {
          std::rethrow_exception(e);
        }
      });
  io.run();
  std::int64_t stored = 0;
  for (const auto& [k, n] : s->counts()) {
    stored += n;
  }
  std::printf(
      "start: stored=%lld open_seconds=%.3f first_page_seconds=%.3f first_page=%zu "
      "steady_claimed=%zu steady_commits=%zu rss_mib=%.1f peak_rss_mib=%.1f\n",
      static_cast<long long>(stored), open_s, first_page_s, first_page, claimed, commits,
      proc_status_mib("VmRSS"), proc_status_mib("VmHWM"));
  return 0;
}

int run(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    std::cerr << "usage: store-bench fsync|transitions|ingest|populate|start PATH [options]\n";
    return 1;
  }
  const auto& cmd = args[0];
  const auto& path = args[1];
  const double seconds = std::stod(arg(args, "--seconds", "5"));
  if (cmd == "fsync") {
    return bench_fsync(path, seconds);
  }
  if (cmd == "transitions") {
    return bench_transitions(path, std::stoul(arg(args, "--producers", "1000")), seconds);
  }
  if (cmd == "ingest") {
    return bench_ingest(path, std::stoul(arg(args, "--accounts", "100000")),
                        arg(args, "--manifest", ""));
  }
  if (cmd == "populate") {
    return bench_populate(path, std::stoul(arg(args, "--accounts", "1000000")),
                          std::stod(arg(args, "--finished", "0.5")));
  }
  if (cmd == "start") {
    return bench_start(path, seconds);
  }
  std::cerr << "store-bench: unknown command " << cmd << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "store-bench: " << e.what() << "\n";
    return 1;
  }
}
