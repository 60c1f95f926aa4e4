#include "tests/reliability/tmpfs_mount.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace unlinkd::reliability {

namespace {

std::string options(std::uint64_t bytes, unsigned mode) {
  char octal[8];
  std::snprintf(octal, sizeof octal, "%o", mode);
  return "size=" + std::to_string(bytes) + ",mode=" + octal;
}

}  // namespace

boost::system::result<tmpfs_mount, std::string> tmpfs_mount::mount(std::filesystem::path folder,
                                                                   std::uint64_t bytes,
                                                                   unsigned mode) {
  const std::string data = options(bytes, mode);
  if (::mount("tmpfs", folder.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, data.c_str()) != 0) {
    const int err = errno;
    return std::string("cannot mount a tmpfs (") + data + ") on " + folder.string() + ": " +
           std::strerror(err) +
           (err == EPERM ? " (mounting needs root or CAP_SYS_ADMIN)" : std::string());
  }
  return tmpfs_mount(std::move(folder));
}

tmpfs_mount::tmpfs_mount(tmpfs_mount&& other) noexcept
    : folder_(std::move(other.folder_)), mounted_(std::exchange(other.mounted_, false)) {}

tmpfs_mount::~tmpfs_mount() {
  if (!mounted_) {
    return;
  }
  if (::umount2(folder_.c_str(), 0) != 0) {
    ::umount2(folder_.c_str(), MNT_DETACH);
  }
}

boost::system::result<void, std::string> tmpfs_mount::resize(std::uint64_t bytes) {
  const std::string data = "size=" + std::to_string(bytes);
  if (::mount("tmpfs", folder_.c_str(), "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, data.c_str()) !=
      0) {
    return "cannot remount " + folder_.string() + " with " + data + ": " + std::strerror(errno);
  }
  return {};
}

std::uint64_t tmpfs_mount::free_bytes() const {
  struct statvfs vfs {};
  if (::statvfs(folder_.c_str(), &vfs) != 0) {
    return 0;
  }
  return static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

boost::system::result<std::uint64_t, std::string> tmpfs_mount::fill_up(
    const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return "cannot create " + file.string() + ": " + std::strerror(errno);
  }
  // Big writes first, then page-sized ones for the last partial megabyte.
  static const std::array<char, std::size_t{1} << 20> zeros{};
  std::uint64_t written = 0;
  for (const std::size_t chunk : {zeros.size(), std::size_t{4096}}) {
    for (;;) {
      const ssize_t n = ::write(fd, zeros.data(), chunk);
      if (n > 0) {
        written += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && errno != ENOSPC) {
        const int err = errno;
        ::close(fd);
        return "cannot write " + file.string() + ": " + std::strerror(err);
      }
      break;  // ENOSPC: this chunk no longer fits
    }
  }
  ::fsync(fd);
  ::close(fd);
  return written;
}

}  // namespace unlinkd::reliability
