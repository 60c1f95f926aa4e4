#pragma once
// The seam the scheduler sees (issue 5): one awaitable operation per pipeline
// step of PRODUCT.md §3. Each reads remote state first, so repeating a step
// after a crash is safe. The scheduler knows only this interface: the real
// implementation is tiktok_platform (over an api_client), tests use a fake.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "adapters/api_client.hpp"
#include "config/manifest.hpp"

namespace unlinkd::adapters {

// One account of a batch, with what the steps need from the batch.
struct account_job {
  std::string batch;               // the manifest's batch name
  std::string business_center_id;  // the manifest's business_center_id
  config::account account;         // settings resolved against defaults
  // Set only for a resend after verify_deadline (PRODUCT.md §3): the
  // relationship keys the last verify still read. Only those are sent again
  // (an earlier, unanswered send may have removed the others), and a "not
  // there" answer counts as that earlier send having taken (reads lag writes).
  std::optional<std::vector<std::string>> resend_only;
};

// Counted per operation: the fewer per account, the faster a budget-bound batch.
struct call_count {
  std::uint32_t api_calls = 0;  // calls sent, retries included
};

enum class relationship : std::uint8_t { present, already_gone };

struct preflight_outcome : call_count {
  relationship found = relationship::present;
  std::string bc_user_role;                      // ADMIN or STANDARD
  std::vector<std::string> active_campaign_ids;  // advertisers; reused by backup and pause
};

struct backup_outcome : call_count {
  std::filesystem::path folder;  // backups/<batch>/<account>/, published
  std::string digest;            // SHA-256 of SHA256SUMS, hex
  std::uint64_t bytes = 0;
  std::uint32_t files = 0;
};

struct pause_outcome : call_count {
  std::vector<std::string> paused_campaign_ids;
};

struct unlink_outcome : call_count {};

struct verify_outcome : call_count {
  relationship found = relationship::present;  // already_gone: the unlink took
  std::vector<std::string> still_listed;       // present: the keys read (wanted_keys' form)
};

class platform {
 public:
  virtual ~platform() = default;
  virtual boost::asio::awaitable<api_result<preflight_outcome>> preflight(
      const call_context& ctx, const account_job& job) = 0;
  // `campaigns` are the IDs preflight listed (a backup includes all campaigns anyway).
  virtual boost::asio::awaitable<api_result<backup_outcome>> backup(
      const call_context& ctx, const account_job& job,
      const std::vector<std::string>& campaigns) = 0;
  virtual boost::asio::awaitable<api_result<pause_outcome>> pause_campaigns(
      const call_context& ctx, const account_job& job,
      const std::vector<std::string>& campaign_ids) = 0;
  virtual boost::asio::awaitable<api_result<unlink_outcome>> unlink(const call_context& ctx,
                                                                    const account_job& job) = 0;
  virtual boost::asio::awaitable<api_result<verify_outcome>> verify(const call_context& ctx,
                                                                    const account_job& job) = 0;
};

}  // namespace unlinkd::adapters
