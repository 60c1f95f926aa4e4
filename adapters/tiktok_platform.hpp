#pragma once
// The five pipeline operations over the TikTok API (PRODUCT.md §3, §4),
// built on api_client: the scheduler sees only `platform`. Every operation
// reads remote state first, so repeating one after a crash is safe, and
// counts the calls it sends (the fewer per account, the faster a
// budget-bound batch: see docs/ADAPTER_OPERATIONS.md for the figures).
//
// Error policy: expected failures are values (api_result); our own refusals
// are api_error with code 0 and a sentence for an operator. Exceptions only
// for broken invariants.
//
// Sharing between accounts, all on one io_context without locks:
// - per credential profile, /user/info/ and /bc/get/ and the list of assets
//   a partner shared to the BC are read once per `credential_fresh_for`;
// - concurrent bc_asset verifies of one BC share one /bc/asset/admin/get/
//   listing per `listing_fresh_for`.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "adapters/api_client.hpp"
#include "adapters/coalesced_fetch.hpp"
#include "adapters/platform.hpp"

namespace unlinkd::adapters {

struct platform_options {
  // How long a credential's /user/info/ and /bc/get/ answers (and the BC's
  // shared-to-us list) serve other accounts. Default 60 s.
  std::chrono::steady_clock::duration credential_fresh_for = std::chrono::seconds{60};
  // How long one bc_asset listing serves other verifies of the BC. Default 5 s.
  std::chrono::steady_clock::duration listing_fresh_for = std::chrono::seconds{5};
  // A bc_asset listing longer than this many pages is not shared: verifies
  // then read their own asset (1 call) instead. Default 20 pages (1,000 assets).
  std::uint32_t max_listing_pages = 20;
  // A backup starts only with this much space free under the backups root. Default 64 MiB.
  std::uint64_t min_free_bytes = 64ULL * 1024 * 1024;
  // Where blocking file work (writes, fsync, read-back) runs; empty: inline
  // on the caller's executor (tests).
  boost::asio::any_io_executor file_executor;
  // "Now" for the freshness windows; empty: steady_clock::now.
  std::function<std::chrono::steady_clock::time_point()> clock;
  // The wall clock written into backup.json; empty: system_clock::now.
  std::function<std::chrono::system_clock::time_point()> wall_clock;
};

class tiktok_platform final : public platform {
 public:
  tiktok_platform(api_client& client, std::filesystem::path backups_root,
                  platform_options options = {});

  boost::asio::awaitable<api_result<preflight_outcome>> preflight(const call_context& ctx,
                                                                  const account_job& job) override;
  boost::asio::awaitable<api_result<backup_outcome>> backup(
      const call_context& ctx, const account_job& job,
      const std::vector<std::string>& campaigns) override;
  boost::asio::awaitable<api_result<pause_outcome>> pause_campaigns(
      const call_context& ctx, const account_job& job,
      const std::vector<std::string>& campaign_ids) override;
  boost::asio::awaitable<api_result<unlink_outcome>> unlink(const call_context& ctx,
                                                            const account_job& job) override;
  boost::asio::awaitable<api_result<verify_outcome>> verify(const call_context& ctx,
                                                            const account_job& job) override;

 private:
  // What the mode's read shows: the wanted keys still listed, and the
  // asset's relation_type when the read carries it (bc_asset).
  struct relationship_state {
    std::vector<std::string> listed;
    std::string relation_type;
  };
  struct bc_facts {
    std::string user_role;
  };
  struct asset_listing {
    bool complete = false;  // false: too long to share, read per account
    std::set<std::string> ids;
  };

  boost::asio::awaitable<api_result<relationship_state>> read_relationship(const call_context& ctx,
                                                                           const account_job& job,
                                                                           std::uint32_t& calls);
  boost::asio::awaitable<api_result<void>> check_credential(const call_context& ctx,
                                                            const account_job& job,
                                                            std::uint32_t& calls,
                                                            std::string& role);
  boost::asio::awaitable<api_result<bool>> shared_to_us(const call_context& ctx,
                                                        const account_job& job,
                                                        std::uint32_t& calls);
  boost::asio::awaitable<api_result<std::vector<std::string>>> active_campaigns(
      const call_context& ctx, const account_job& job, std::uint32_t& calls);
  boost::asio::awaitable<api_result<asset_listing>> fetch_listing(const call_context& ctx,
                                                                  const std::string& bc_id,
                                                                  std::uint32_t& calls);
  [[nodiscard]] std::string credential_key(const call_context& ctx) const;

  api_client& client_;
  std::filesystem::path backups_root_;
  platform_options options_;
  coalesced_fetch<bool> user_info_;
  coalesced_fetch<bc_facts> bc_facts_;
  coalesced_fetch<std::set<std::string>> shared_to_us_;
  coalesced_fetch<asset_listing> listings_;
};

}  // namespace unlinkd::adapters
