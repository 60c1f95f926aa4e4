#pragma once
// A manifest (PRODUCT.md §2) as the rest of unlinkd sees it: validated, with
// every account's settings resolved against `defaults:`.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace unlinkd::config {

enum class account_type : std::uint8_t { advertiser, tiktok_account };
enum class unlink_mode : std::uint8_t { partner_share, member_access, bc_asset, tiktok_binding };
enum class batch_action : std::uint8_t { unlink, pause };
enum class campaign_policy : std::uint8_t { pause, fail, ignore };

std::string_view to_string(account_type t);
std::string_view to_string(unlink_mode m);
std::string_view to_string(batch_action a);
std::string_view to_string(campaign_policy p);

// The account type an unlink mode applies to (PRODUCT.md §4).
account_type account_type_of(unlink_mode m);

struct backup_policy {
  bool required = true;
  // Inclusive, in the advertiser's time zone; fetched in 30-day windows.
  std::chrono::year_month_day reports_since;
  std::chrono::year_month_day reports_until;
};

// Settings the manifest may leave to the daemon's config (PRODUCT.md §6).
struct retry_settings {
  std::optional<std::uint32_t> max_attempts;
  std::optional<std::chrono::milliseconds> initial_backoff;
  std::optional<std::chrono::milliseconds> max_backoff;
};

struct account {
  std::string id;
  account_type type = account_type::advertiser;
  std::string label;
  // Absent only with `action: pause`, which never unlinks.
  std::optional<unlink_mode> mode;
  std::string partner_id;            // partner_share
  std::vector<std::string> members;  // member_access
  std::string advertiser_id;         // tiktok_binding
  campaign_policy active_campaigns = campaign_policy::fail;
  backup_policy backup;
  std::chrono::milliseconds verify_deadline{30 * 60 * 1000};
};

struct manifest {
  std::uint32_t version = 1;
  std::string batch;
  std::string requested_by;  // empty when not given
  std::string credentials;   // a profile of the credentials file
  std::string business_center_id;
  batch_action action = batch_action::unlink;
  bool dry_run = false;
  std::vector<std::string> notify;
  std::optional<std::uint32_t> concurrency;  // absent: the daemon's limit
  retry_settings retry;                      // absent fields: the daemon's policy
  std::vector<account> accounts;
};

}  // namespace unlinkd::config
