#include "adapters/api_error.hpp"

namespace unlinkd::adapters {

std::string_view to_string(error_class c) {
  switch (c) {
    case error_class::retryable:
      return "retryable";
    case error_class::rate_limited:
      return "rate_limited";
    case error_class::credential:
      return "credential";
    case error_class::permanent:
      return "permanent";
    case error_class::unknown_outcome:
      return "unknown_outcome";
  }
  return "permanent";
}

error_class classify_api_code(std::int64_t code, call_scope scope) {
  switch (code) {
    case 40100:  // too many requests
    case 40016:  // too many requests for this endpoint
    case 40133:  // daily quota
    case 40132:
      return error_class::rate_limited;
    case 40104:  // token empty / invalid
    case 40105:  // token expired or revoked
    case 40102:
    case 40106:
    case 40113:
      return error_class::credential;
    case 40001:  // no permission: the credential's role when asked at BC level
      return scope == call_scope::account_level ? error_class::permanent : error_class::credential;
    case 40201:
    case 40202:
    case 50000:
    case 50002:
    case 60001:
      return error_class::retryable;
    default:
      break;
  }
  if (code >= 51000 && code <= 52999) {  // 51xxx, 52xxx: transient service errors
    return error_class::retryable;
  }
  return error_class::permanent;
}

bool is_dry_run_refusal(const api_error& e) {
  return e.kind == error_class::permanent && e.code == 0 && e.http_status == 0 &&
         e.message.starts_with(dry_run_refusal_prefix);
}

}  // namespace unlinkd::adapters
