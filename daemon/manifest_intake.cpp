#include "daemon/manifest_intake.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <boost/json.hpp>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/diagnostics.hpp"
#include "config/file_reader.hpp"
#include "config/manifest_identity.hpp"
#include "config/manifest_parser.hpp"

namespace unlinkd::daemon {

namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

// Written whole or not at all: a reader of rejected/ never sees half a reason.
void write_file(const fs::path& path, const std::string& text) {
  const fs::path temporary = path.string() + ".writing";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return;
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (ok) {
    ::rename(temporary.c_str(), path.c_str());
  }
}

std::string kind_of(mode_t mode) {
  if (S_ISLNK(mode)) {
    return "a symbolic link";
  }
  if (S_ISDIR(mode)) {
    return "a directory";
  }
  if (S_ISFIFO(mode)) {
    return "a FIFO";
  }
  if (S_ISSOCK(mode)) {
    return "a socket";
  }
  return "not a regular file";
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

bool ignored_name(std::string_view name) {
  return name.empty() || name.front() == '.' || name.ends_with(".tmp") || name.ends_with(".part");
}

manifest_intake::manifest_intake(state_layout layout, intake_limits limits, store::store& store,
                                 profile_source profiles, spdlog::logger& log)
    : layout_(std::move(layout)),
      limits_(limits),
      store_(store),
      profiles_(std::move(profiles)),
      log_(log) {}

std::string manifest_intake::unique_name(const fs::path& dir, const std::string& name) const {
  // A name already taken (the same file name submitted twice) gets a
  // counter: NAME, NAME.2, NAME.3 ...
  std::string candidate = name;
  for (int n = 2;; ++n) {
    struct stat st {};
    const bool taken = ::lstat((dir / candidate).c_str(), &st) == 0 ||
                       ::lstat((dir / (candidate + ".error.txt")).c_str(), &st) == 0;
    if (!taken) {
      return candidate;
    }
    candidate = name + "." + std::to_string(n);
  }
}

intake_result manifest_intake::take(const std::string& name) {
  if (ignored_name(name)) {
    return {intake_verdict::ignored, name, "ignored while it is being written", std::nullopt};
  }
  const fs::path path = layout_.inbox_dir / name;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return {intake_verdict::vanished, name, "gone before it could be claimed", std::nullopt};
  }
  if (!S_ISREG(st.st_mode)) {
    return reject(path, name,
                  name + " is " + kind_of(st.st_mode) +
                      "; the inbox takes regular files only: copy the manifest itself into the "
                      "inbox",
                  nullptr);
  }
  const std::string claimed = unique_name(layout_.processing(), name);
  if (::rename(path.c_str(), (layout_.processing() / claimed).c_str()) != 0) {
    if (errno == ENOENT) {
      return {intake_verdict::vanished, name, "gone before it could be claimed", std::nullopt};
    }
    return {intake_verdict::deferred, name, "cannot claim it: " + errno_text(), std::nullopt};
  }
  return finish(claimed, name, false);
}

intake_result manifest_intake::finish(const std::string& claimed, const std::string& original,
                                      bool recovering) {
  const fs::path path = layout_.processing() / claimed;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return {intake_verdict::vanished, original, "gone from processing/", std::nullopt};
  }
  if (!S_ISREG(st.st_mode)) {
    return reject(path, original, original + " is " + kind_of(st.st_mode), nullptr);
  }
  auto read = config::read_regular_file(path.string(), limits_.max_bytes);
  if (!read.value) {
    const std::string reason = read.too_large
                                   ? original + " is larger than max_manifest_bytes (" +
                                         std::to_string(limits_.max_bytes) +
                                         " bytes); split the batch into several manifests"
                                   : original + ": " + read.error;
    return reject(path, original, reason, nullptr);
  }
  config::manifest_options options;
  options.max_bytes = limits_.max_bytes;
  options.max_accounts = limits_.max_accounts;
  options.known_profiles = profiles_ ? profiles_() : std::nullopt;
  auto parsed = config::parse_manifest(read.value->bytes, original, options, config::utc_today());
  if (!parsed.value) {
    return reject(path, original, original + " is not a valid manifest", &parsed.problems);
  }
  store::ingest_request request;
  request.manifest = std::move(*parsed.value);
  request.sha256 = config::sha256_hex(read.value->bytes);
  request.source_file = original;
  request.submitter_uid = st.st_uid;
  auto outcome = store_.ingest_blocking(std::move(request));
  if (!outcome) {
    log_.error(
        "inbox: {}: cannot store it now ({}); it stays in {} and is tried again at the "
        "next start",
        original, outcome.error().message, layout_.processing().string());
    return {intake_verdict::deferred, original, outcome.error().message, std::nullopt};
  }
  std::optional<std::int64_t> batch_id;
  std::string batch_name;
  if (const auto* a = std::get_if<store::ingest_accepted>(&*outcome)) {
    batch_id = a->batch_id;
    batch_name = a->batch_name;
  } else if (const auto* d = std::get_if<store::ingest_duplicate>(&*outcome); d && recovering) {
    // Found in processing/ at start and already stored: the crash came
    // between the commit and the move. It is that batch's own file.
    batch_id = d->batch_id;
    batch_name = d->batch_name;
  }
  if (!batch_id) {
    return reject(path, original, original + ": " + store::describe(*outcome), nullptr,
                  std::holds_alternative<store::ingest_duplicate>(*outcome));
  }
  const std::string target = unique_name(layout_.accepted(), original);
  if (::rename(path.c_str(), (layout_.accepted() / target).c_str()) != 0) {
    log_.error("inbox: {}: stored, but cannot move it to accepted/: {}", original, errno_text());
  }
  ++accepted_;
  log_.info("inbox: {}: accepted as batch {} ({}, submitted by uid {})", original, batch_name,
            *batch_id, st.st_uid);
  return {intake_verdict::accepted, original, "accepted", batch_id};
}

intake_result manifest_intake::reject(const fs::path& from, const std::string& original,
                                      const std::string& reason,
                                      const config::diagnostics* problems, bool duplicate) {
  ++(duplicate ? duplicates_ : rejected_);
  const std::string target = unique_name(layout_.rejected(), original);
  std::string text = reason + "\n";
  boost::json::array listed;
  std::size_t not_shown = 0;
  if (problems != nullptr) {
    text += problems->to_text();
    for (const auto& p : problems->items()) {
      listed.push_back(
          boost::json::object{{"line", p.line}, {"column", p.column}, {"message", p.message}});
    }
    not_shown = problems->dropped();
  }
  write_file(layout_.rejected() / (target + ".error.txt"), text);
  write_file(layout_.rejected() / (target + ".error.json"),
             boost::json::serialize(boost::json::object{{"file", original},
                                                        {"reason", reason},
                                                        {"problems", std::move(listed)},
                                                        {"problems_not_shown", not_shown}}) +
                 "\n");
  if (::rename(from.c_str(), (layout_.rejected() / target).c_str()) != 0) {
    log_.error("inbox: {}: rejected, but cannot move it to rejected/: {}", original, errno_text());
  }
  log_.warn("inbox: {}: rejected: {}", original, reason);
  return {intake_verdict::rejected, original, reason, std::nullopt};
}

intake_counts manifest_intake::counts() const {
  return {accepted_.load(), rejected_.load(), duplicates_.load()};
}

std::vector<intake_result> manifest_intake::recover() {
  std::vector<intake_result> results;
  for (const auto& name : names_in(layout_.processing())) {
    results.push_back(finish(name, name, true));
  }
  return results;
}

}  // namespace unlinkd::daemon
