#pragma once
// The folders under state_dir (PRODUCT.md §6): unlinkd.db,
// manifests/{processing,accepted,rejected}/, backups/, reports/. Created at
// start with modes that keep tokens' neighbours private; the inbox must be
// on the same filesystem as state_dir, because claiming a manifest is a
// rename and a rename cannot cross filesystems.
#include <filesystem>
#include <string>

#include <boost/system/result.hpp>

namespace unlinkd::daemon {

struct state_layout {
  std::filesystem::path state_dir;
  std::filesystem::path inbox_dir;

  [[nodiscard]] std::filesystem::path database() const { return state_dir / "unlinkd.db"; }
  [[nodiscard]] std::filesystem::path processing() const {
    return state_dir / "manifests" / "processing";
  }
  [[nodiscard]] std::filesystem::path accepted() const {
    return state_dir / "manifests" / "accepted";
  }
  [[nodiscard]] std::filesystem::path rejected() const {
    return state_dir / "manifests" / "rejected";
  }
  [[nodiscard]] std::filesystem::path backups() const { return state_dir / "backups"; }
  [[nodiscard]] std::filesystem::path reports() const { return state_dir / "reports"; }
};

// Creates every folder that is missing (0750; backups 0700) and checks that
// the inbox and state_dir share a filesystem. The error is a sentence.
boost::system::result<void, std::string> prepare(const state_layout& layout);

}  // namespace unlinkd::daemon
