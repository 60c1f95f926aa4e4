#pragma once
// The sandbox world of the operations' tests and the helpers to drive them:
// a fixture (the sandbox's own YAML format) with one account per unlink mode,
// the refusal cases, and lists long enough to need several pages.
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "adapters/platform.hpp"
#include "config/credentials.hpp"
#include "sandbox/sandbox_state.hpp"

namespace unlinkd::test::ops {

inline constexpr const char* our_bc = "7000000000000000100";
inline constexpr const char* partner_bc = "7000000000000000200";
inline constexpr const char* admin_token = "ops-admin-token";
inline constexpr const char* standard_token = "ops-standard-token";

// Ad accounts.
inline constexpr const char* shared_ad = "7100000000000000001";  // partner_share, 1 active campaign
inline constexpr const char* member_ad = "7100000000000000002";  // member_access, 2 members
inline constexpr const char* bound_ad = "7100000000000000003";   // TT account bound to it
inline constexpr const char* partners_ad = "7100000000000000004";  // OWNER_PARTNER: refuse
inline constexpr const char* unshared_ad = "7100000000000000005";  // partner_share already gone
inline constexpr const char* busy_ad = "7100000000000000006";      // 1,005 active campaigns
inline constexpr const char* crowded_ad = "7100000000000000007";   // member_access, 45 members
// TikTok accounts 7200000000000000001 ... 7200000000000000120 are bc_asset
// assets of our BC (OWNER_BC, but the last one, OWNER_INDIVIDUAL); ...002 is
// also bound to bound_ad.
inline constexpr const char* tt_asset = "7200000000000000001";
inline constexpr const char* tt_bound = "7200000000000000002";
inline constexpr int tt_accounts = 120;
inline constexpr int busy_campaigns = 1005;
inline constexpr int crowded_members = 45;

std::string tt_id(int n);           // 1-based
std::string crowded_member(int n);  // 1-based user ID

// The fixture's YAML and the state it loads to (fails the test if it does not load).
std::string world_yaml();
sandbox::sandbox_state world();

config::credential_profile admin_profile();
config::credential_profile standard_profile();

// An account of our BC with its mode; reports over 2025-01-01..2025-03-31 (90 days).
adapters::account_job job_for(const std::string& id, std::optional<config::unlink_mode> mode);

// Runs `a` on `io` until it finishes, at most `limit`; throws when it did not.
template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> a,
      std::chrono::milliseconds limit = std::chrono::seconds{20}) {
  std::optional<T> out;
  std::exception_ptr failure;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        try {
          out.emplace(co_await std::move(a));
        } catch (...) {
          failure = std::current_exception();
        }
      },
      boost::asio::detached);
  io.restart();
  io.run_for(limit);
  if (failure) {
    std::rethrow_exception(failure);
  }
  if (!out) {
    throw std::runtime_error("the operation did not finish in time");
  }
  return std::move(*out);
}

}  // namespace unlinkd::test::ops
