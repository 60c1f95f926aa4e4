#pragma once
// The sandbox's API as a pure function from request to response: routing,
// the Access-Token check, the envelope {code, message, request_id, data},
// the admin paths under /_sandbox/, and the call counts a test reads to prove
// what unlinkd did. No I/O: http_server feeds it.

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include <boost/json/value.hpp>

#include "sandbox/api_types.hpp"
#include "sandbox/budget.hpp"
#include "sandbox/delayed_view.hpp"
#include "sandbox/endpoints.hpp"
#include "sandbox/fault_plan.hpp"
#include "sandbox/sandbox_state.hpp"

namespace unlinkd::sandbox {

struct service_options {
  budget_limits limits;         // every app's budget (SANDBOX_API.md §1.9)
  bool limits_enabled = true;   // false: --no-limits, no call is ever refused 40100
  fault_profile faults;         // --faults FILE; the default injects nothing
  visibility_delay visibility;  // --visibility-delay; the default shows writes at once
};

class api_service {
 public:
  api_service(sandbox_state initial, std::uint64_t seed, service_options options = {});

  api_response handle(const api_request& request);

 private:
  api_response handle_api(const api_request& request, const std::string& path,
                          std::map<std::string, std::string> query);
  api_response run_endpoint(const endpoint& e, const api_request& request, const std::string& path,
                            std::map<std::string, std::string> query, const access_token& caller);
  api_response handle_admin(const api_request& request, const std::string& path,
                            const std::map<std::string, std::string>& query);
  api_response envelope(const std::string& path, int code, const std::string& message,
                        const boost::json::value& data);
  std::string next_request_id();
  api_response set_revoked(const std::string& body, bool revoked);
  api_response put_limits(const std::string& body);
  api_response put_faults(const std::string& body);
  [[nodiscard]] std::string stats_json() const;
  [[nodiscard]] std::string state_json(const std::string& asset_id) const;

  sandbox_state initial_;
  sandbox_state state_;  // authoritative: writes are checked against it and applied at once
  delayed_view view_;    // what the reads see, lagging by the visibility delay
  std::uint64_t seed_;
  std::uint64_t request_counter_ = 0;
  // path -> API code -> calls
  std::map<std::string, std::map<int, std::uint64_t>> calls_;
  mutation_stats mutations_;
  bool limits_enabled_;
  app_budget budget_;
  fault_profile initial_faults_;
  fault_profile faults_;
  fault_random fault_random_;
  std::array<std::uint64_t, fault_slot_count> fault_counts_{};
};

}  // namespace unlinkd::sandbox
