#pragma once
// A tmpfs mounted on a folder for one scenario (the Disk scenario's small
// "disk" under the daemon's backups root), unmounted when the object goes,
// also when a check failed first. Needs CAP_SYS_ADMIN (root).

#include <cstdint>
#include <filesystem>
#include <string>

#include <boost/system/result.hpp>

namespace unlinkd::reliability {

class tmpfs_mount {
 public:
  // Mounts a tmpfs of `bytes` (rounded up to pages by the kernel) with mode
  // `mode` on `folder`, which must exist. An error is a sentence saying why
  // (e.g. not root).
  static boost::system::result<tmpfs_mount, std::string> mount(std::filesystem::path folder,
                                                               std::uint64_t bytes, unsigned mode);

  tmpfs_mount(tmpfs_mount&& other) noexcept;
  tmpfs_mount& operator=(tmpfs_mount&&) = delete;
  tmpfs_mount(const tmpfs_mount&) = delete;
  tmpfs_mount& operator=(const tmpfs_mount&) = delete;
  // Unmounts; lazily (MNT_DETACH) when a process still uses it, so a failed
  // scenario whose daemon still runs leaves no mount behind.
  ~tmpfs_mount();

  // mount -o remount,size=`bytes`: the "disk" grows (or shrinks) in place,
  // its files kept.
  boost::system::result<void, std::string> resize(std::uint64_t bytes);
  // Bytes available to an unprivileged writer (statvfs f_bavail × f_frsize).
  [[nodiscard]] std::uint64_t free_bytes() const;
  // Writes `file` (inside the mount) until the file system refuses with
  // ENOSPC, then fsyncs it: the "disk" is full. The bytes written.
  boost::system::result<std::uint64_t, std::string> fill_up(const std::filesystem::path& file);

  [[nodiscard]] const std::filesystem::path& folder() const { return folder_; }

 private:
  explicit tmpfs_mount(std::filesystem::path folder) : folder_(std::move(folder)) {}
  std::filesystem::path folder_;
  bool mounted_ = true;
};

}  // namespace unlinkd::reliability
