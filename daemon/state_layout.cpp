#include "daemon/state_layout.hpp"

#include <cerrno>
#include <cstring>

#include <sys/stat.h>

namespace unlinkd::daemon {

namespace {

// mkdir -p with a mode for the folders it creates; an existing folder keeps its mode.
boost::system::result<void, std::string> make_dirs(const std::filesystem::path& dir, mode_t mode) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) {
    return {};
  }
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    if (auto r = make_dirs(dir.parent_path(), 0750); !r) {
      return r;
    }
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    return "cannot create the folder " + dir.string() + ": " + std::strerror(errno);
  }
  return {};
}

}  // namespace

boost::system::result<void, std::string> prepare(const state_layout& layout) {
  for (const auto& [dir, mode] :
       {std::pair{layout.state_dir, mode_t{0750}}, std::pair{layout.inbox_dir, mode_t{0770}},
        std::pair{layout.processing(), mode_t{0750}}, std::pair{layout.accepted(), mode_t{0750}},
        std::pair{layout.rejected(), mode_t{0750}}, std::pair{layout.backups(), mode_t{0700}},
        std::pair{layout.reports(), mode_t{0750}}}) {
    if (auto r = make_dirs(dir, mode); !r) {
      return r;
    }
  }
  struct stat inbox {};
  struct stat state {};
  if (::stat(layout.inbox_dir.c_str(), &inbox) != 0 ||
      ::stat(layout.processing().c_str(), &state) != 0) {
    return "cannot read the inbox or state folders: " + std::string(std::strerror(errno));
  }
  if (inbox.st_dev != state.st_dev) {
    return "inbox_dir (" + layout.inbox_dir.string() + ") and state_dir (" +
           layout.state_dir.string() +
           ") are on different filesystems; manifests are claimed by rename, which cannot cross "
           "filesystems: put inbox_dir inside state_dir or on its filesystem";
  }
  return {};
}

}  // namespace unlinkd::daemon
