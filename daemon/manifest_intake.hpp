#pragma once
// Takes one manifest file from the inbox to the store (PRODUCT.md §7): claim
// it by rename into manifests/processing/, read and validate it, ingest it
// in one transaction, then move it to accepted/, or to rejected/ beside
// NAME.error.txt (the validator's lines) and NAME.error.json. Files are
// never deleted. Blocking: it runs on the inbox's own thread, so a large
// manifest's validation never holds up the scheduler's io_context.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "config/diagnostics.hpp"
#include "daemon/state_layout.hpp"
#include "store/store.hpp"

namespace spdlog {
class logger;
}

namespace unlinkd::daemon {

struct intake_limits {
  std::size_t max_bytes = std::size_t{16} << 20U;  // max_manifest_bytes
  std::size_t max_accounts = 100'000;              // max_accounts_per_manifest
};

enum class intake_verdict : std::uint8_t {
  accepted,  // stored; the file is in accepted/
  rejected,  // the file and its reasons are in rejected/
  ignored,   // a name the inbox leaves alone (hidden, *.tmp, *.part)
  vanished,  // gone before it could be claimed (someone moved it away)
  deferred,  // the store could not take it now (disk full?): it stays in processing/
};

struct intake_result {
  intake_verdict verdict = intake_verdict::ignored;
  std::string name;    // the file's name as dropped
  std::string reason;  // one sentence, for the log
  std::optional<std::int64_t> batch_id;
};

// Manifests the intake finished since the daemon started, for the metrics.
struct intake_counts {
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;   // invalid, unreadable, or refused by the store
  std::uint64_t duplicate = 0;  // bytes accepted before (moved to rejected/ too, counted here only)
};

// Hidden files and *.tmp / *.part are still being written (the contract is
// "write elsewhere or under such a name, then rename").
bool ignored_name(std::string_view name);

// The profile names of the credentials file, when it could be read.
using profile_source = std::function<std::optional<std::vector<std::string>>()>;

class manifest_intake {
 public:
  manifest_intake(state_layout layout, intake_limits limits, store::store& store,
                  profile_source profiles, spdlog::logger& log);

  // A file in the inbox: claimed, then finished.
  intake_result take(const std::string& name);
  // Every file left in processing/ by a crash (claimed, not yet moved).
  std::vector<intake_result> recover();

  // Any thread: the intake runs on the inbox's thread, the metrics read here.
  [[nodiscard]] intake_counts counts() const;

 private:
  intake_result finish(const std::string& claimed, const std::string& original, bool recovering);
  intake_result reject(const std::filesystem::path& from, const std::string& original,
                       const std::string& reason, const config::diagnostics* problems,
                       bool duplicate = false);
  std::string unique_name(const std::filesystem::path& dir, const std::string& name) const;

  state_layout layout_;
  intake_limits limits_;
  store::store& store_;
  profile_source profiles_;
  spdlog::logger& log_;
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> duplicates_{0};
};

}  // namespace unlinkd::daemon
