#pragma once
// Keeps tokens and secrets out of log lines and error messages (PRODUCT.md
// §6). Pure functions: the client runs every line it logs and every message
// it returns through them.
#include <string>
#include <string_view>
#include <vector>

namespace unlinkd::adapters {

inline constexpr std::string_view redacted_mark = "[redacted]";

// Query parameters whose value is a credential wherever they appear
// (`secret` of /oauth2/advertiser/get/, `access_token`, `app_secret`,
// `auth_code`, `refresh_token`), compared without case.
bool is_secret_parameter(std::string_view name);

// A request target or URL with the value of every secret parameter replaced
// by the mark: "/oauth2/advertiser/get/?app_id=1&secret=[redacted]".
std::string redact_url(std::string_view url);

// `text` with every occurrence of each non-empty value in `secrets` replaced
// by the mark (values shorter than 4 characters are ignored: replacing "a"
// everywhere would destroy the line, and no real token is that short).
std::string redact_values(std::string_view text, const std::vector<std::string_view>& secrets);

}  // namespace unlinkd::adapters
