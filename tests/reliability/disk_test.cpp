// Disk: the backups root is a small tmpfs that fills up mid-batch (the
// scenario writes a ballast file until ENOSPC once a quarter of the backups
// are published). While it is full the control socket keeps answering;
// backups in flight and new ones meet the full disk; then the tmpfs grows
// (remount) and the batch ends. Every account ends done, or failed at its
// backup with a reason naming the disk space; nothing corrupt is published;
// nothing is unlinked without a verified backup; the common checks pass.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/reliability/event_log.hpp"
#include "tests/reliability/reliability_run.hpp"
#include "tests/reliability/reliability_settings.hpp"
#include "tests/reliability/scenario_profiles.hpp"
#include "tests/reliability/tmpfs_mount.hpp"
#include "tests/reliability/unix_http.hpp"

namespace unlinkd::reliability {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr std::uint64_t mib = std::uint64_t{1024} * 1024;
// A backup starts only with 64 MiB free under the backups root (the
// platform's min_free_bytes, not a config key).
constexpr std::uint64_t min_free = 64 * mib;

// The "disk": the 64 MiB a backup needs free, plus room for the batch's
// backups up to the fill (a few tens of KiB each; 64 KiB per account, at
// least 16 MiB), until the ballast fills it.
std::uint64_t disk_bytes(std::size_t accounts) {
  return min_free + std::max<std::uint64_t>(16 * mib, accounts * 64 * 1024);
}

// After the full spell the disk grows by 1 GiB: room for every backup still
// to come with 64 MiB to spare (tmpfs takes memory only for what is written).
constexpr std::uint64_t grown_by = 1024 * mib;
// How long the disk stays full once an account met it: accounts wait
// through several retries (the retry settings below) before space returns.
constexpr auto full_for = 5s;

// More patience than fast_retry_config (about 15 s of backoff over ten
// attempts), so that an account can wait out the full disk; 16 accounts in
// flight, so that the disk fills while many backups are still to come.
std::string disk_daemon_config() {
  return "concurrency: 16\n"
         "retry:\n"
         "  max_attempts: 10\n"
         "  initial_backoff: 500ms\n"
         "  max_backoff: 3s\n"
         "drain_timeout: 5s\n";
}

std::string text_at(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Whether an error message says the disk is full or too full to start.
bool names_disk_space(const std::string& message) {
  return message.find("No space left on device") != std::string::npos ||
         message.find("MiB free under") != std::string::npos ||
         message.find("Disk quota exceeded") != std::string::npos;
}

// Published backup folders of the batch (holding SHA256SUMS).
std::size_t published_backups(const fs::path& batch_dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(batch_dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    n += fs::exists(it->path() / "SHA256SUMS") ? 1 : 0;
  }
  return n;
}

// Whether a backup is being written: a work folder `.ID.partial` exists.
bool backup_in_flight(const fs::path& batch_dir) {
  std::error_code ec;
  for (auto it = fs::directory_iterator(batch_dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->path().filename().string().ends_with(".partial")) {
      return true;
    }
  }
  return false;
}

// What the control socket said while the disk was full.
struct full_disk_watch {
  int asked = 0;
  problems unanswered;
  std::chrono::milliseconds slowest{0};
  // Account ID → the first space error it showed.
  std::map<std::string, std::string> space_errors;
};

// One round: GET /v1/health, the batch, and its accounts' last errors.
void watch_once(reliability_run& run, full_disk_watch& w) {
  ++w.asked;
  const auto socket = run.daemon().socket_path();
  const auto started = steady::now();
  const auto health = unix_get(socket, "/v1/health", 2s);
  const auto status = run.batch_status();
  w.slowest = std::max(
      w.slowest, std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started));
  if (!health || health->status != 200) {
    w.unanswered.push_back("GET /v1/health did not answer 200 within 2 s while the disk was full");
  }
  if (status.is_null()) {
    w.unanswered.push_back("GET /v1/batches/" + run.batch() +
                           " did not answer while the disk was full");
  }
  std::string after;
  for (;;) {
    const auto page = unix_get(socket,
                               "/v1/batches/" + run.batch() + "/accounts?limit=1000" +
                                   (after.empty() ? "" : "&after=" + after),
                               5s);
    std::error_code ec;
    const auto parsed = page ? json::parse(page->body, ec) : json::value();
    if (!page || page->status != 200 || ec || !parsed.is_object() ||
        !parsed.as_object().contains("accounts")) {
      w.unanswered.push_back("GET /v1/batches/" + run.batch() +
                             "/accounts did not answer its accounts while the disk was full");
      return;
    }
    const auto& body = parsed.as_object();
    for (const auto& a : body.at("accounts").as_array()) {
      const auto& o = a.as_object();
      const auto* error = o.if_contains("last_error");
      if (error != nullptr && error->is_object()) {
        const auto message = text_at(error->as_object(), "message");
        if (names_disk_space(message)) {
          w.space_errors.emplace(text_at(o, "id"), message);
        }
      }
    }
    after = text_at(body, "next_after");
    if (after.empty()) {
      return;
    }
  }
}

// Nothing corrupt is published: in the batch's backup folder every entry is
// a work folder `.ID.partial` (not a backup) or a folder holding SHA256SUMS
// (check_every_backup verifies those); a folder without one would be a
// published backup cut short.
problems check_nothing_half_published(const fs::path& batch_dir, std::size_t& partials) {
  problems out;
  partials = 0;
  for (const auto& entry : fs::directory_iterator(batch_dir)) {
    const auto name = entry.path().filename().string();
    if (entry.is_directory() && name.starts_with(".") && name.ends_with(".partial")) {
      ++partials;
    } else if (!entry.is_directory()) {
      out.push_back(entry.path().string() + " is not a folder");
    } else if (!fs::exists(entry.path() / "SHA256SUMS")) {
      out.push_back(entry.path().string() + " is published without a SHA256SUMS");
    }
  }
  return out;
}

TEST(reliability, disk_full_backups_wait_or_fail_clearly_and_nothing_corrupt_is_published) {
  const auto& s = settings();
  // reliability_settings has no Disk size of its own: the Credentials one.
  const int accounts = s.disk_accounts;
  reliability_run run(run_options{.accounts = accounts,
                                  .seed = s.seed + 2,
                                  .no_limits = s.no_limits,
                                  .faults = {},
                                  .visibility_delay = {},
                                  .daemon_config = disk_daemon_config()});
  const fs::path backups = run.daemon().state_dir() + "/backups";
  fs::create_directories(backups);
  // Declared after `run`: unmounted before run's folder is removed.
  const std::uint64_t size = disk_bytes(run.plan().size());
  auto disk = tmpfs_mount::mount(backups, size, 0700);
  if (!disk) {
    GTEST_SKIP() << "the Disk scenario needs a tmpfs of its own under the daemon's backups root "
                    "and could not mount one: "
                 << disk.error();
  }
  ASSERT_TRUE(run.daemon().start()) << run.daemon().log_tail();
  run.drop_manifest();
  const fs::path batch_dir = backups / run.batch();
  const auto deadline = batch_deadline(accounts, s.no_limits);

  // Mid-batch: a quarter of the backups published.
  const std::size_t quarter = std::max<std::size_t>(1, run.plan().size() / 4);
  const auto end = steady::now() + deadline;
  while (published_backups(batch_dir) < quarter && steady::now() < end && run.daemon().running()) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_GE(published_backups(batch_dir), quarter)
      << "a quarter of the backups was not published in time:\n"
      << run.batch_status() << "\n"
      << run.daemon().log_tail();
  // Fill while a backup is being written (when one shows within 10 s), so
  // that a write meets ENOSPC, not only the free-space check at a start.
  const auto look_until = steady::now() + 10s;
  while (!backup_in_flight(batch_dir) && steady::now() < look_until) {
    std::this_thread::sleep_for(1ms);
  }
  const auto at_fill = run.batch_status();
  const auto filled = disk->fill_up(backups / "disk-ballast");
  ASSERT_TRUE(filled.has_value()) << filled.error();
  const auto free_when_full = disk->free_bytes();
  const auto full_since = steady::now();

  // While full: the socket answers; wait until an account meets the full
  // disk, then keep it full a while so that accounts wait.
  full_disk_watch watch;
  std::optional<steady::time_point> first_seen;
  while (steady::now() < full_since + 60s && run.daemon().running()) {
    watch_once(run, watch);
    if (!first_seen && !watch.space_errors.empty()) {
      first_seen = steady::now();
    }
    if (first_seen && steady::now() >= *first_seen + full_for) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  const auto full_seconds =
      std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - full_since);
  ASSERT_FALSE(watch.space_errors.empty())
      << "no account met the full disk within 60 s (free: " << free_when_full
      << " bytes); the batch at the fill: " << at_fill << "\n"
      << run.daemon().log_tail();
  const auto grown = disk->resize(size + grown_by);
  ASSERT_TRUE(grown.has_value()) << grown.error();
  ASSERT_GE(disk->free_bytes(), min_free + grown_by / 2);

  const auto waited = run.wait_batch_end(deadline);
  ASSERT_TRUE(waited.empty()) << as_text(waited);
  // The event log has every retry's reason, also those the polls missed:
  // a write cut by ENOSPC, or a backup refused at its start (below 64 MiB).
  const auto events = read_events(run.daemon().socket_path());
  ASSERT_TRUE(events.has_value()) << "GET /v1/events did not answer";
  int cut_by_enospc = 0;
  int refused_at_start = 0;
  for (const auto& e : events_of_kind(*events, "retry")) {
    const auto detail = text_at(e, "detail");
    cut_by_enospc += detail.find("No space left on device") != std::string::npos ? 1 : 0;
    refused_at_start += detail.find("MiB free under") != std::string::npos ? 1 : 0;
  }
  EXPECT_GT(cut_by_enospc + refused_at_start, 0) << "no retry event names the disk space";
  problems found = watch.unanswered;
  const auto common = run.common_checks();
  found.insert(found.end(), common.begin(), common.end());
  std::size_t partials = 0;
  const auto half = check_nothing_half_published(batch_dir, partials);
  found.insert(found.end(), half.begin(), half.end());
  // Done, or failed at the backup with the disk named.
  const auto report = run.report();
  std::set<std::string> failed_on_space;
  int done = 0;
  for (const auto& row : report.at("accounts").as_array()) {
    const auto& o = row.as_object();
    const auto state = text_at(o, "state");
    if (state == "done") {
      ++done;
      continue;
    }
    const auto reason = text_at(o, "reason");
    if (state == "failed" && text_at(o, "failed_step") == "backup" && names_disk_space(reason)) {
      failed_on_space.insert(text_at(o, "id"));
      continue;
    }
    found.push_back(text_at(o, "id") + " ended " + state + " at " + text_at(o, "failed_step") +
                    " (" + reason + "): neither done nor failed for the disk space");
  }
  EXPECT_TRUE(found.empty()) << as_text(found);
  int waited_then_done = 0;
  for (const auto& [id, message] : watch.space_errors) {
    waited_then_done += failed_on_space.contains(id) ? 0 : 1;
  }
  std::cout << "disk: " << run.plan().size() << " accounts; filled with " << *filled / mib
            << " MiB at " << json::serialize(at_fill.is_object() ? at_fill.at("accounts") : at_fill)
            << "; full for " << full_seconds.count() << " ms, " << watch.space_errors.size()
            << " account(s) met it (e.g. \"" << watch.space_errors.begin()->second << "\"), "
            << waited_then_done << " waited and ended done, " << failed_on_space.size()
            << " failed on it; retries: " << cut_by_enospc << " write(s) cut by ENOSPC, "
            << refused_at_start << " backup(s) refused below 64 MiB free; " << done
            << " done in all; status asked " << watch.asked << " times, slowest "
            << watch.slowest.count() << " ms; " << partials << " work folder(s) left\n";
}

}  // namespace
}  // namespace unlinkd::reliability
