// PRODUCT.md §5 as a table: every code it names, in each call scope.
#include <gtest/gtest.h>

#include "adapters/api_error.hpp"

namespace unlinkd::adapters {
namespace {

struct row {
  std::int64_t code;
  error_class credential_level;
  error_class bc_level;
  error_class account_level;
};

constexpr auto R = error_class::retryable;
constexpr auto L = error_class::rate_limited;
constexpr auto C = error_class::credential;
constexpr auto P = error_class::permanent;

TEST(client_classification, every_code_of_product_section_5) {
  // 40001: the credential's role at BC level, the account's reach at account level.
  const row table[] = {
      {40100, L, L, L}, {40016, L, L, L}, {40133, L, L, L}, {40132, L, L, L}, {40104, C, C, C},
      {40105, C, C, C}, {40102, C, C, C}, {40106, C, C, C}, {40113, C, C, C}, {40001, C, C, P},
      {40201, R, R, R}, {40202, R, R, R}, {50000, R, R, R}, {50002, R, R, R}, {60001, R, R, R},
      {51000, R, R, R}, {51099, R, R, R}, {51999, R, R, R}, {52000, R, R, R}, {52999, R, R, R},
      {40002, P, P, P}, {40007, P, P, P}, {40300, P, P, P}, {40000, P, P, P}, {40200, P, P, P},
      {50999, P, P, P}, {53000, P, P, P}, {61000, P, P, P}, {1, P, P, P},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(r.code);
    EXPECT_EQ(classify_api_code(r.code, call_scope::credential_level), r.credential_level);
    EXPECT_EQ(classify_api_code(r.code, call_scope::bc_level), r.bc_level);
    EXPECT_EQ(classify_api_code(r.code, call_scope::account_level), r.account_level);
  }
}

TEST(client_classification, names_of_the_classes) {
  EXPECT_EQ(to_string(error_class::retryable), "retryable");
  EXPECT_EQ(to_string(error_class::rate_limited), "rate_limited");
  EXPECT_EQ(to_string(error_class::credential), "credential");
  EXPECT_EQ(to_string(error_class::permanent), "permanent");
  EXPECT_EQ(to_string(error_class::unknown_outcome), "unknown_outcome");
}

TEST(client_classification, a_dry_run_refusal_is_recognised_only_by_its_whole_shape) {
  const api_error refusal{
      error_class::permanent, 0, 0, std::string{dry_run_refusal_prefix} + "POST /x/", {}};
  EXPECT_TRUE(is_dry_run_refusal(refusal));
  api_error from_api = refusal;
  from_api.code = 40002;
  EXPECT_FALSE(is_dry_run_refusal(from_api));
  api_error other = refusal;
  other.message = "no permission";
  EXPECT_FALSE(is_dry_run_refusal(other));
}

}  // namespace
}  // namespace unlinkd::adapters
