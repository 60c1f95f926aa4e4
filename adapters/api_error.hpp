#pragma once
// How unlinkd sees a failed API call (PRODUCT.md §5). Every error the adapter
// returns is one of five classes, each handled differently by the scheduler,
// and carries what an operator can quote to TikTok support.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/assert/source_location.hpp>

namespace unlinkd::adapters {

enum class error_class : std::uint8_t {
  retryable,        // network, timeout, HTTP 5xx, 40201/40202/50000/50002/51xxx/52xxx/60001
  rate_limited,     // 40100/40016/40133/40132: never spends an attempt
  credential,       // the credential is broken or lacks the role: hold it, tell a person
  permanent,        // this account fails with the API's words
  unknown_outcome,  // a mutating request was sent and its reply lost: verify, never resend blindly
};

std::string_view to_string(error_class c);

struct api_error {
  error_class kind = error_class::permanent;
  std::int64_t code = 0;   // the API's `code`; 0 when the failure was not an API answer
  int http_status = 0;     // 0 when no HTTP answer arrived
  std::string message;     // the API's message, or ours for transport failures; never a token
  std::string request_id;  // the API's request_id when there was one
};

// The call's place in the API, which changes how a code is read: 40001 on a
// BC-level call means the credential lacks the role (credential), on an
// account-level call it means this account is out of reach (permanent).
enum class call_scope : std::uint8_t { credential_level, bc_level, account_level };

// Lets boost::system::result<T, api_error>::value() throw on a broken
// invariant (callers are expected to test the result first).
[[noreturn]] inline void throw_exception_from_error(const api_error& e,
                                                    const boost::source_location& /*where*/) {
  throw std::runtime_error("unexpected API error: " + e.message);
}

// PRODUCT.md §5 as one pure function of the API's answer.
error_class classify_api_code(std::int64_t code, call_scope scope);

// A mutating call refused by the client in dry-run mode: class permanent,
// code 0, http_status 0, and a message that starts with this prefix.
inline constexpr std::string_view dry_run_refusal_prefix = "dry run: the client refused ";
bool is_dry_run_refusal(const api_error& e);

}  // namespace unlinkd::adapters
