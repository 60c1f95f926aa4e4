#pragma once
// The API endpoints the sandbox serves, each a function of an `api_call`.
// Grouped by file: read_endpoints.cpp holds the reads.

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

}  // namespace unlinkd::sandbox
