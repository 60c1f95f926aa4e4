#pragma once
// The credentials file (PRODUCT.md §6): per profile an app, its secret, a
// long-term access token and the app's API budget. Secrets are wrapped so
// that nothing prints them by accident; only the HTTP client reveals them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "config/diagnostics.hpp"

namespace unlinkd::config {

// A secret value. No stream or format operator exists on purpose: a token
// must be revealed by name where it is sent, and nowhere else.
class secret {
 public:
  secret() = default;
  explicit secret(std::string value) : value_(std::move(value)) {}
  [[nodiscard]] const std::string& reveal() const { return value_; }
  [[nodiscard]] bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

enum class api_tier : std::uint8_t { basic, advanced, premium, ultimate };

// An app's budget (PRODUCT.md §5): calls per sliding second and minute, and
// per UTC day.
struct rate_limits {
  std::uint32_t qps = 10;
  std::uint32_t qpm = 600;
  std::uint64_t qpd = 864'000;
  friend bool operator==(const rate_limits&, const rate_limits&) = default;
};
rate_limits limits_of(api_tier tier);

struct credential_profile {
  std::string name;
  std::string app_id;
  secret app_secret;
  secret access_token;
  rate_limits limits;
  std::string base_url;  // empty: the daemon's api_base_url
};

struct credentials {
  std::vector<credential_profile> profiles;
  [[nodiscard]] const credential_profile* find(std::string_view name) const;
};

struct credentials_result {
  credentials value;  // meaningful only when `problems` is empty
  diagnostics problems;
};

credentials_result parse_credentials(std::string_view bytes, std::string file_name);

struct credentials_file_checks {
  // The daemon insists the file is its own; unlinkctl only reads it.
  std::optional<uid_t> required_owner;
};

// Reads the file, refusing it when group or others may access it (it holds
// tokens) or, when asked, when someone else owns it.
credentials_result load_credentials(const std::string& path, const credentials_file_checks& checks);

}  // namespace unlinkd::config
