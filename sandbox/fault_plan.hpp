#pragma once
// Fault injection (issue 4, "Faults"): a profile of fault probabilities and
// latency, read from YAML, and a pure, deterministic decision per API call.
// The random source is a splitmix64 stream seeded by --seed, so a run with
// the same seed, profile and request sequence injects the same faults.

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.hpp"

namespace unlinkd::sandbox {

// What the server does instead of (or after) answering normally.
enum class fault_kind : unsigned char {
  none,
  api_code,           // HTTP 200 envelope with `code`; the endpoint does not run
  http_status,        // HTTP `status`, text/plain, no envelope; the endpoint does not run
  reset_before,       // close without answering; the endpoint does not run
  reset_after_apply,  // run the endpoint, then close without answering (mutating calls only)
};

// The injectable outcomes, in the order the decision walks them.
enum class fault_slot : unsigned char {
  api_40100,
  api_40016,
  api_50000,
  api_50002,
  api_51xxx,
  api_60001,
  api_40202,
  http_500,
  http_502,
  http_503,
  reset_before,
  reset_after_apply,
};
inline constexpr std::size_t fault_slot_count = 12;

// The YAML key (and stats key) of a slot: "api_40100", "http_503", "reset_before", ...
std::string_view fault_slot_name(fault_slot s);

struct fault_latency {
  std::chrono::milliseconds fixed{0};
  std::chrono::milliseconds jitter{0};  // uniform in [0, jitter]
  double tail_probability = 0.0;
  std::chrono::milliseconds tail{0};  // added with tail_probability
};

struct fault_profile {
  std::array<double, fault_slot_count> probability{};  // each 0..1, sum <= 1
  int code_51xxx = 51000;                              // which 51xxx code api_51xxx answers
  fault_latency latency;
  // Path prefixes after /open_api/v1.3 (e.g. "/bc/"); empty: every API path.
  std::vector<std::string> paths;
  bool mutating_only = false;

  [[nodiscard]] double& operator[](fault_slot s) {
    return probability[static_cast<std::size_t>(s)];
  }
  [[nodiscard]] double operator[](fault_slot s) const {
    return probability[static_cast<std::size_t>(s)];
  }
  // No fault and no latency: the decision is always none, at no delay.
  [[nodiscard]] bool inert() const;
};

// splitmix64, as state_generator.cpp uses it.
class fault_random {
 public:
  explicit fault_random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  double unit();  // uniform in [0, 1)

 private:
  std::uint64_t state_;
};

struct fault_decision {
  fault_kind kind = fault_kind::none;
  fault_slot slot = fault_slot::api_40100;  // meaningful unless kind is none
  int code = 0;                             // api_code: the envelope's code
  unsigned status = 0;                      // http_status: the HTTP status
  std::chrono::milliseconds delay{0};
};

// The decision for one API call. `path` is after /open_api/v1.3. A call the
// profile's paths / mutating_only do not cover gets none at no delay and
// draws nothing. A covered call draws exactly three numbers (outcome,
// jitter, tail). reset_after_apply on a call that does not mutate is none.
fault_decision decide_fault(const fault_profile& profile, std::string_view path, bool mutating,
                            fault_random& random);

// The §3-style message of an injected API code.
std::string fault_message(int code);

struct fault_profile_result {
  fault_profile profile;
  config::diagnostics problems;
};

// Parses a profile (YAML; JSON is YAML too). Problems carry line and column.
fault_profile_result load_fault_profile(std::string_view bytes, std::string file_name);
fault_profile_result load_fault_profile_file(const std::string& path);

}  // namespace unlinkd::sandbox
