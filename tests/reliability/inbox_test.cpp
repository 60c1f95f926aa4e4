// Inbox: the real daemon's inbox under everything at once: 200 manifests
// (distinct batch names and accounts), the same bytes twice, the same file
// name twice, a directory, a symbolic link, a FIFO and a 100 MB file renamed
// in, the same kinds created in place, names the inbox ignores, a file
// written slowly in place, and one renamed in while still being written.
// Checks what PRODUCT.md §7 and docs/DECISIONS.md ("Inbox") promise: every
// regular manifest ends in manifests/accepted/ or manifests/rejected/ (with
// NAME.error.txt), nothing stays in processing/, the accepted ones are
// batches over the socket, a duplicate is filed as one naming the batch,
// non-regular entries are rejected (renamed-in ones at once, created-in-place
// ones by the start-up scan) without being opened, the 100 MB file is
// refused for its size without being read, a file is never taken half
// written, the daemon keeps answering and its memory stays bounded.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/reliability/control_socket_prober.hpp"
#include "tests/reliability/inbox_manifest_text.hpp"
#include "tests/reliability/raw_socket.hpp"
#include "tests/reliability/reliability_run.hpp"
#include "tests/reliability/reliability_settings.hpp"
#include "tests/reliability/scenario_profiles.hpp"
#include "tests/reliability/unix_http.hpp"

namespace unlinkd::reliability {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// docs/DECISIONS.md, "Inbox": a file written in place is taken 2 s after
// its last close.
constexpr auto quiet_period = 2s;
// Ours: the well-behaved client's bound while the inbox is busy. The
// daemon's memory growth is bounded by memory_growth_bound_kib(): the 100 MB
// file must not be read.
constexpr milliseconds answer_bound = 3s;
constexpr std::size_t big_file_bytes = std::size_t{100} << 20U;
// Accounts in the slowly written file and in the one renamed in half-written.
constexpr std::size_t part_accounts = 10;

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) {
    throw std::runtime_error("cannot write " + file.string());
  }
}

// Writes all of `text` to `fd`; throws when it cannot (a test set-up fault).
void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      throw std::runtime_error("write failed");
    }
    done += static_cast<std::size_t>(n);
  }
}

// Polls `done` every 50 ms until it holds or `deadline` passes.
template <class Condition>
bool wait_until(Condition done, steady::duration deadline) {
  const auto end = steady::now() + deadline;
  while (!done()) {
    if (steady::now() >= end) {
      return false;
    }
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

bool exists_entry(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

mode_t kind_of(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 ? (st.st_mode & S_IFMT) : 0;
}

// Where the intake filed `name`: accepted, rejected or (not yet) nowhere.
struct filing {
  fs::path state_dir;
  [[nodiscard]] fs::path accepted(const std::string& name) const {
    return state_dir / "manifests" / "accepted" / name;
  }
  [[nodiscard]] fs::path rejected(const std::string& name) const {
    return state_dir / "manifests" / "rejected" / name;
  }
  [[nodiscard]] bool filed(const std::string& name) const {
    return exists_entry(accepted(name)) || exists_entry(rejected(name));
  }
  // The reason of a rejected file, or "" when there is none.
  [[nodiscard]] std::string reason(const std::string& name) const {
    return slurp(rejected(name + ".error.txt"));
  }
};

// GET /v1/batches: each batch's account total, by name.
std::map<std::string, std::int64_t> batch_totals(const std::string& socket) {
  std::map<std::string, std::int64_t> out;
  const auto reply = unix_get(socket, "/v1/batches", 10s);
  if (!reply || reply->status != 200) {
    return out;
  }
  std::error_code ec;
  const auto v = json::parse(reply->body, ec);
  if (ec) {
    return out;
  }
  for (const auto& b : v.at("batches").as_array()) {
    out[std::string(b.at("name").as_string())] =
        b.at("accounts").at("total").to_number<std::int64_t>();
  }
  return out;
}

std::string numbered(const char* prefix, std::size_t i, const char* suffix) {
  char text[64];
  std::snprintf(text, sizeof text, "%s%04zu%s", prefix, i, suffix);
  return text;
}

// Checks one entry that must have been rejected as `kind` (a sentence part
// of the reason) and stay of `type` in rejected/.
void check_rejected_entry(problems& out, const filing& files, const std::string& name, mode_t type,
                          const std::string& kind) {
  if (exists_entry(files.accepted(name)) || !exists_entry(files.rejected(name))) {
    out.push_back(name + " (" + kind + ") is not in manifests/rejected/ alone");
    return;
  }
  if (kind_of(files.rejected(name)) != type) {
    out.push_back("rejected/" + name + " is no longer " + kind);
  }
  if (files.reason(name).find(kind) == std::string::npos) {
    out.push_back("rejected/" + name + ".error.txt does not say '" + kind +
                  "': " + files.reason(name));
  }
}

TEST(reliability, inbox_abuse_files_every_manifest_and_never_blocks) {
  const auto& s = settings();
  const std::size_t manifests = s.short_run ? 200 : 2000;
  // Accounts: one per manifest, then the duplicate's, two for the name used
  // twice, the link's target, the directory's content, and the two files
  // written in parts. The generated manifest holds about 9 in 10 of the
  // world's accounts (docs/RELIABILITY.md, Decisions).
  const std::size_t needed = manifests + 5 + 2 * part_accounts;
  reliability_run run(run_options{.accounts = static_cast<int>(needed * 12 / 10 + 20),
                                  .seed = s.seed + 3,
                                  .no_limits = true,
                                  .faults = {},
                                  .visibility_delay = {},
                                  // Two accounts in flight: the batches only
                                  // need to exist, not to load the machine.
                                  .daemon_config = fast_retry_config() + "concurrency: 2\n"});
  const auto text = inbox_manifest_text::split(slurp(run.sandbox().dir() + "/batch.yaml"));
  ASSERT_TRUE(text) << text.error();
  ASSERT_GE(text->accounts(), needed);
  ASSERT_TRUE(run.daemon().start()) << run.daemon().log_tail();
  const std::string socket = run.daemon().socket_path();
  const fs::path inbox = run.daemon().state_dir() + "/inbox";
  const fs::path staging = run.daemon().dir() + "/staging";  // same filesystem as the inbox
  const filing files{run.daemon().state_dir()};
  fs::create_directories(inbox);
  fs::create_directories(staging);
  const auto pid = listener_pid(socket);
  ASSERT_TRUE(pid) << pid.error();
  const auto before = memory_of(*pid);
  ASSERT_TRUE(before) << before.error();
  control_socket_prober prober(socket, {});

  // Everything is written in staging/ first, then renamed in at once.
  std::vector<std::string> regular;  // names that must end accepted
  for (std::size_t i = 0; i < manifests; ++i) {
    const auto name = numbered("m-", i, ".yaml");
    write_file(staging / name, text->with_accounts(numbered("inbox-", i, ""), i, 1));
    regular.push_back(name);
  }
  std::size_t next = manifests;
  const std::string duplicate = text->with_accounts("inbox-dup", next++, 1);
  write_file(staging / "dup-a.yaml", duplicate);
  write_file(staging / "dup-b.yaml", duplicate);
  write_file(staging / "again.yaml", text->with_accounts("inbox-again-1", next++, 1));
  write_file(staging / "again-2.yaml", text->with_accounts("inbox-again-2", next++, 1));
  const std::string target = text->with_accounts("inbox-link-target", next++, 1);
  write_file(staging / "target.yaml", target);
  fs::create_symlink(staging / "target.yaml", staging / "link.yaml");
  fs::create_directory(staging / "dir.yaml");
  write_file(staging / "dir.yaml" / "inner.yaml",
             text->with_accounts("inbox-dir-inner", next++, 1));
  ASSERT_EQ(::mkfifo((staging / "fifo.yaml").c_str(), 0600), 0);
  {
    // A valid-looking head, then comment lines to 100 MB.
    std::ofstream big(staging / "big.yaml", std::ios::binary);
    std::string padding = text->head("inbox-big");
    const std::string line = "# " + std::string(1021, 'x') + "\n";
    big << padding;
    for (std::size_t size = padding.size(); size < big_file_bytes; size += line.size()) {
      big << line;
    }
    ASSERT_TRUE(big.flush());
  }
  const std::size_t slow_first = next;
  const std::size_t partial_first = next + part_accounts;
  // Kinds created in place: no inotify event the watcher listens to
  // (IN_CREATE is not one); the start-up scan finds them.
  fs::create_directory(inbox / "inplace-dir");
  fs::create_symlink(staging / "target.yaml", inbox / "inplace-link.yaml");
  ASSERT_EQ(::mkfifo((inbox / "inplace-fifo.yaml").c_str(), 0600), 0);
  // Names the inbox leaves alone (still being written, by convention).
  const std::map<std::string, std::string> ignored{
      {".hidden.yaml", text->with_accounts("inbox-hidden", 0, 1)},
      {"x.yaml.tmp", text->with_accounts("inbox-tmp", 0, 1)},
      {"y.yaml.part", text->with_accounts("inbox-part", 0, 1)}};
  for (const auto& [name, content] : ignored) {
    write_file(inbox / name, content);
  }

  // A file written slowly in place: the first half now, closed only later.
  const std::string slow = text->with_accounts("inbox-slow", slow_first, part_accounts);
  const std::string slow_half = text->with_accounts("inbox-slow", slow_first, part_accounts / 2);
  const int slow_fd =
      ::open((inbox / "slow.yaml").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(slow_fd, 0);
  write_all(slow_fd, slow_half);
  const auto slow_half_at = steady::now();

  // At once: every staged entry renamed into the inbox.
  const auto drop_from = steady::now();
  // The odd entries first: every manifest after them must still be taken
  // (a FIFO opened for reading would block the intake's thread for good).
  for (const char* name : {"fifo.yaml", "big.yaml", "link.yaml", "dir.yaml", "dup-a.yaml",
                           "dup-b.yaml", "again.yaml"}) {
    fs::rename(staging / name, inbox / name);
  }
  for (const auto& name : regular) {
    fs::rename(staging / name, inbox / name);
  }
  const auto drop_took = steady::now() - drop_from;
  problems found;
  std::vector<std::string> all_regular = regular;
  all_regular.insert(all_regular.end(), {"dup-a.yaml", "dup-b.yaml", "again.yaml"});
  const bool all_filed = wait_until(
      [&] {
        return std::all_of(all_regular.begin(), all_regular.end(),
                           [&](const auto& n) { return files.filed(n); });
      },
      s.short_run ? 180s : 600s);
  const auto filed_after = steady::now() - drop_from;
  if (!all_filed) {
    found.emplace_back("not every manifest was filed in time");
  }
  // The same name again, now that the first one was claimed.
  fs::rename(staging / "again-2.yaml", inbox / "again.yaml");

  // The slow writer: its file was open the whole time; it must still be in
  // the inbox after more than the quiet period. The wait is the writer's own
  // pause, the point of this client.
  if (const auto paused = steady::now() - slow_half_at; paused < quiet_period + 1s) {
    std::this_thread::sleep_for(quiet_period + 1s - paused);
  }
  if (!exists_entry(inbox / "slow.yaml")) {
    found.emplace_back(
        "slow.yaml was taken while still open for writing (half written, more than the quiet "
        "period after its last write but never closed)");
  }
  write_all(slow_fd, slow.substr(slow_half.size()));
  ::close(slow_fd);

  // Renamed in half-written: a valid manifest of 5 accounts so far, its
  // writer still writing. Wait (bounded) for the daemon to claim it, then
  // write the rest into the same open file.
  const std::string partial = text->with_accounts("inbox-partial", partial_first, part_accounts);
  const std::string partial_half =
      text->with_accounts("inbox-partial", partial_first, part_accounts / 2);
  const int partial_fd =
      ::open((staging / "partial.yaml").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(partial_fd, 0);
  write_all(partial_fd, partial_half);
  fs::rename(staging / "partial.yaml", inbox / "partial.yaml");
  const bool partial_claimed_half =
      wait_until([&] { return !exists_entry(inbox / "partial.yaml"); }, quiet_period + 3s);
  write_all(partial_fd, partial.substr(partial_half.size()));
  ::close(partial_fd);

  const bool late_filed = wait_until(
      [&] {
        return files.filed("slow.yaml") && files.filed("partial.yaml") &&
               exists_entry(files.accepted("again.yaml.2"));
      },
      60s);
  if (!late_filed) {
    found.push_back("slow.yaml, partial.yaml or the second again.yaml was not filed within 60 s");
  }
  const auto busy_to = steady::now();

  // Every regular manifest accepted and a batch over the socket.
  const auto totals = batch_totals(socket);
  for (std::size_t i = 0; i < manifests; ++i) {
    const auto& name = regular[i];
    const auto batch = numbered("inbox-", i, "");
    if (!exists_entry(files.accepted(name))) {
      found.push_back(name + " is not in manifests/accepted/" +
                      (exists_entry(files.rejected(name)) ? ": rejected: " + files.reason(name)
                                                          : std::string()));
    }
    if (!totals.contains(batch)) {
      found.push_back("batch " + batch + " (from " + name + ") is not listed by GET /v1/batches");
    }
  }
  // The same bytes twice: one accepted, the other filed as a duplicate.
  const bool a_accepted = exists_entry(files.accepted("dup-a.yaml"));
  const bool b_accepted = exists_entry(files.accepted("dup-b.yaml"));
  if (a_accepted == b_accepted) {
    found.emplace_back("of two files with the same bytes, not exactly one was accepted");
  } else {
    const std::string second = a_accepted ? "dup-b.yaml" : "dup-a.yaml";
    if (!exists_entry(files.rejected(second)) ||
        files.reason(second).find("already accepted as batch 'inbox-dup'") == std::string::npos) {
      found.push_back(second +
                      " (a duplicate) is not in rejected/ with a reason naming the batch: " +
                      files.reason(second));
    }
  }
  // The same file name twice: NAME, then NAME.2 (docs/DECISIONS.md).
  if (!exists_entry(files.accepted("again.yaml")) ||
      !exists_entry(files.accepted("again.yaml.2")) || !totals.contains("inbox-again-1") ||
      !totals.contains("inbox-again-2")) {
    found.emplace_back(
        "again.yaml dropped twice is not accepted/again.yaml and accepted/again.yaml.2 with both "
        "batches listed");
  }
  // Non-regular entries renamed in: rejected at once, never followed or opened.
  check_rejected_entry(found, files, "link.yaml", S_IFLNK, "a symbolic link");
  check_rejected_entry(found, files, "dir.yaml", S_IFDIR, "a directory");
  check_rejected_entry(found, files, "fifo.yaml", S_IFIFO, "a FIFO");
  if (slurp(staging / "target.yaml") != target || totals.contains("inbox-link-target")) {
    found.emplace_back("the symbolic link's target was changed or taken as a batch");
  }
  if (!exists_entry(files.rejected("dir.yaml") / "inner.yaml") ||
      totals.contains("inbox-dir-inner")) {
    found.emplace_back("the manifest inside the directory was moved out or taken as a batch");
  }
  // The 100 MB file: refused for its size, left whole.
  if (!exists_entry(files.rejected("big.yaml")) ||
      files.reason("big.yaml").find("larger than max_manifest_bytes") == std::string::npos) {
    found.push_back("big.yaml (100 MB) is not rejected for its size: " + files.reason("big.yaml"));
  } else if (fs::file_size(files.rejected("big.yaml")) < big_file_bytes) {
    found.emplace_back("rejected/big.yaml is no longer 100 MB");
  }
  // Written slowly in place: taken whole once closed.
  {
    const auto now_totals = batch_totals(socket);
    const auto it = now_totals.find("inbox-slow");
    if (!exists_entry(files.accepted("slow.yaml")) || it == now_totals.end() ||
        it->second != static_cast<std::int64_t>(part_accounts)) {
      found.push_back("slow.yaml (written in place in two parts) did not become a batch of " +
                      std::to_string(part_accounts) + " accounts: " +
                      (it == now_totals.end() ? std::string("no batch")
                                              : std::to_string(it->second) + " accounts") +
                      (exists_entry(files.rejected("slow.yaml"))
                           ? "; rejected: " + files.reason("slow.yaml")
                           : std::string()));
    }
  }
  // Renamed in while still being written: never accepted half.
  {
    const auto now_totals = batch_totals(socket);
    const auto it = now_totals.find("inbox-partial");
    if (it != now_totals.end() && it->second != static_cast<std::int64_t>(part_accounts)) {
      found.push_back(
          "partial.yaml, renamed into the inbox while still being written, was accepted half: "
          "batch inbox-partial holds " +
          std::to_string(it->second) + " of its " + std::to_string(part_accounts) +
          " accounts (the daemon claimed it " + (partial_claimed_half ? "before" : "after") +
          " the rest was written)");
    }
    std::cout << "inbox: partial.yaml "
              << (partial_claimed_half ? "was claimed while half-written"
                                       : "was not claimed while half-written")
              << "; "
              << (exists_entry(files.accepted("partial.yaml"))
                      ? "accepted with " + (it == now_totals.end()
                                                ? std::string("no batch")
                                                : std::to_string(it->second) + " accounts")
                      : "rejected: " + files.reason("partial.yaml"))
              << "\n";
  }
  // Ignored names: left alone, unchanged.
  for (const auto& [name, content] : ignored) {
    if (slurp(inbox / name) != content) {
      found.push_back(name + " (a name the inbox ignores) was moved or changed");
    }
  }
  const fs::path processing = run.daemon().state_dir() + "/manifests/processing";
  if (fs::exists(processing) && !fs::is_empty(processing)) {
    found.emplace_back("manifests/processing is not empty");
  }

  const auto during = prober.summary(drop_from, busy_to);
  if (during.sent == 0 || during.answered != during.sent || during.slowest_answer > answer_bound) {
    found.push_back("while the inbox was busy the well-behaved client got " + during.describe() +
                    " (wanted every one within " + std::to_string(answer_bound.count()) + " ms)");
  }
  EXPECT_TRUE(run.daemon().running()) << "unlinkd exited:\n" << run.daemon().log_tail();
  const auto after = memory_of(*pid);
  ASSERT_TRUE(after) << after.error();
  if (auto grew = memory_growth_problem(*before, *after); !grew.empty()) {
    found.push_back(std::move(grew));
  }
  prober.stop();

  // The kinds created in place: no event told the watcher; still in the
  // inbox until a scan. A restart scans the inbox (PRODUCT.md §7).
  const bool in_place_waiting = exists_entry(inbox / "inplace-dir") &&
                                exists_entry(inbox / "inplace-link.yaml") &&
                                exists_entry(inbox / "inplace-fifo.yaml");
  if (const int status = run.daemon().stop(); status != 0) {
    found.push_back("unlinkd did not stop cleanly on SIGTERM (status " + std::to_string(status) +
                    ")");
  }
  ASSERT_TRUE(run.daemon().start()) << "the restart failed:\n" << run.daemon().log_tail();
  wait_until(
      [&] {
        return !exists_entry(inbox / "inplace-dir") && !exists_entry(inbox / "inplace-link.yaml") &&
               !exists_entry(inbox / "inplace-fifo.yaml");
      },
      15s);
  check_rejected_entry(found, files, "inplace-dir", S_IFDIR, "a directory");
  check_rejected_entry(found, files, "inplace-link.yaml", S_IFLNK, "a symbolic link");
  check_rejected_entry(found, files, "inplace-fifo.yaml", S_IFIFO, "a FIFO");
  for (const auto& [name, content] : ignored) {
    if (slurp(inbox / name) != content) {
      found.push_back(name + " (a name the inbox ignores) was moved or changed by the restart");
    }
  }
  if (fs::exists(processing) && !fs::is_empty(processing)) {
    found.emplace_back("manifests/processing is not empty after the restart");
  }
  if (const int status = run.daemon().stop(); status != 0) {
    found.push_back("unlinkd did not stop cleanly on SIGTERM after the restart (status " +
                    std::to_string(status) + ")");
  }
  std::string db_output;
  if (const int rc = run.daemon().check_db(db_output);
      rc != 0 || db_output.find(": ok") == std::string::npos) {
    found.push_back("unlinkd --check-db exited " + std::to_string(rc) + ": " + db_output);
  }
  EXPECT_TRUE(found.empty()) << as_text(found) << "log tail:\n" << run.daemon().log_tail();
  const auto ms = [](auto d) { return std::chrono::duration_cast<milliseconds>(d).count(); };
  std::cout << "inbox: " << manifests << " manifests and 7 other entries renamed in within "
            << ms(drop_took) << " ms, all filed after " << ms(filed_after)
            << " ms; well-behaved client: " << during.describe() << "\n"
            << "inbox: entries created in place were "
            << (in_place_waiting ? "left in the inbox until the restart's scan"
                                 : "handled before the restart")
            << "; memory VmRSS " << before->rss_kib << " -> " << after->rss_kib << " KiB, VmHWM "
            << before->hwm_kib << " -> " << after->hwm_kib << " KiB\n";
}

}  // namespace
}  // namespace unlinkd::reliability
