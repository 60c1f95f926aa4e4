#include "sandbox/endpoints.hpp"

#include <array>

namespace unlinkd::sandbox {

const endpoint* find_endpoint(std::string_view path) {
  const std::array<std::span<const endpoint>, 4> groups{read_endpoints(), bc_endpoints(),
                                                        report_endpoints(), write_endpoints()};
  for (const auto group : groups) {
    for (const auto& e : group) {
      if (e.path == path) {
        return &e;
      }
    }
  }
  return nullptr;
}

}  // namespace unlinkd::sandbox
