#include "daemon/caller.hpp"

#include <algorithm>
#include <cerrno>
#include <string>

#include <grp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace unlinkd::daemon {

namespace {

bool in_group(const caller& c, gid_t g) {
  return c.gid == g || std::find(c.groups.begin(), c.groups.end(), g) != c.groups.end();
}

}  // namespace

access_level access_of(const caller& c, const access_groups& groups) {
  if (c.uid == 0 || (groups.admin_group && in_group(c, *groups.admin_group))) {
    return access_level::change;
  }
  // The daemon's own user reads its own socket (a health check, say).
  if (c.uid == ::geteuid() || (groups.socket_group && in_group(c, *groups.socket_group))) {
    return access_level::read;
  }
  return access_level::none;
}

std::optional<caller> peer_of(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return std::nullopt;
  }
  caller c{cred.uid, cred.gid, cred.pid, {}};
  // SO_PEERGROUPS (Linux 4.13): the peer's supplementary groups at connect.
  std::vector<gid_t> groups(64);
  auto size = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
  int rc = ::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &size);
  if (rc != 0 && errno == ERANGE) {  // more than 64: `size` says how many
    groups.resize(size / sizeof(gid_t));
    rc = ::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &size);
  }
  if (rc != 0) {
    size = 0;  // an old kernel: the primary group only
  }
  groups.resize(size / sizeof(gid_t));
  c.groups = std::move(groups);
  return c;
}

std::optional<gid_t> group_id(const std::string& name) {
  group g{};
  group* found = nullptr;
  std::vector<char> buffer(std::size_t{16} * 1024);
  if (::getgrnam_r(name.c_str(), &g, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return std::nullopt;
  }
  return found->gr_gid;
}

}  // namespace unlinkd::daemon
