#pragma once
// Who is on the other end of the control socket (SO_PEERCRED and
// SO_PEERGROUPS), and what that allows (PRODUCT.md §7): root and members of
// admin_group may change things; members of socket_group may read; anyone
// else gets 403.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace unlinkd::daemon {

struct caller {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  std::vector<gid_t> groups;  // supplementary groups
};

enum class access_level : std::uint8_t { none, read, change };

struct access_groups {
  std::optional<gid_t> socket_group;  // unset: the group does not exist on this system
  std::optional<gid_t> admin_group;
};

access_level access_of(const caller& c, const access_groups& groups);

// The caller of a connected Unix socket; nothing when the kernel will not say.
std::optional<caller> peer_of(int fd);

// The group id of a group name, if the group exists.
std::optional<gid_t> group_id(const std::string& name);

}  // namespace unlinkd::daemon
