#include "sandbox/endpoints.hpp"

namespace unlinkd::sandbox {

std::span<const endpoint> bc_endpoints() { return {}; }

}  // namespace unlinkd::sandbox
