#pragma once
// The API endpoints the sandbox serves, each a function of an `api_call`,
// grouped by file: who the caller is and its ad accounts and campaigns
// (read_endpoints.cpp), Business Center assets, members and partners
// (bc_endpoints.cpp), reports (report_endpoints.cpp), and the calls that
// change state (write_endpoints.cpp).

#include <span>
#include <string_view>

#include "sandbox/api_call.hpp"
#include "sandbox/api_types.hpp"

namespace unlinkd::sandbox {

using endpoint_fn = api_outcome (*)(api_call&);

struct endpoint {
  std::string_view path;  // after /open_api/v1.3, with its trailing slash
  http_method method;
  endpoint_fn handle;
};

std::span<const endpoint> read_endpoints();
std::span<const endpoint> bc_endpoints();
std::span<const endpoint> report_endpoints();
std::span<const endpoint> write_endpoints();

// Every endpoint of every group.
const endpoint* find_endpoint(std::string_view path);

}  // namespace unlinkd::sandbox
