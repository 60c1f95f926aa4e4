#pragma once
// The world unlinkd-sandbox answers from: business centers, their members
// and partners, ad accounts and TikTok accounts in every relationship of
// PRODUCT.md §4, campaigns, ad groups and ads, and the apps and tokens that
// may call. Plain data; the endpoints read and change it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace unlinkd::sandbox {

enum class user_role : std::uint8_t { admin, standard };
enum class asset_type : std::uint8_t { advertiser, tt_account };
// How an asset is in a BC (the API's relation_type).
enum class relation_type : std::uint8_t { owner_bc, owner_partner, owner_individual };
enum class operation_status : std::uint8_t { enable, disable, del };

const char* to_api(user_role r);
const char* to_api(asset_type t);
const char* to_api(relation_type r);
const char* to_api(operation_status s);
std::optional<asset_type> asset_type_from_api(std::string_view s);

struct app {
  std::string app_id;
  std::string secret;
};

struct access_token {
  std::string token;
  std::string app_id;
  std::string user_id;  // the BC user the token acts as
  bool revoked = false;
};

struct bc_user {
  std::string user_id;
  std::string user_name;
  std::string user_email;
};

struct business_center {
  std::string bc_id;
  std::string name;
  std::string company;
  std::string currency = "USD";
  std::string timezone = "Etc/GMT";
  std::map<std::string, user_role> roles;  // user_id -> role; members of the BC
};

struct advertiser {
  std::string advertiser_id;
  std::string name;
  std::string company;
  std::string status = "STATUS_ENABLE";
  std::string currency = "USD";
  std::string timezone = "Etc/GMT";
  std::int64_t create_time = 0;  // epoch seconds
  std::string owner_bc_id;       // empty when owned by an individual
  bool disabled_by_bc = false;   // set by /bc/advertiser/disable/, one way
};

struct tiktok_account {
  std::string tt_account_id;
  std::string name;
};

// An asset inside a BC, as /bc/asset/admin/get/ lists it.
struct bc_asset {
  std::string bc_id;
  std::string asset_id;
  asset_type type = asset_type::advertiser;
  relation_type relation = relation_type::owner_bc;
};

// `bc_id` shares `asset_id` with the partner BC `partner_id`.
struct partner_share {
  std::string bc_id;
  std::string partner_id;
  std::string asset_id;
  asset_type type = asset_type::advertiser;
};

// A BC member's access to one asset.
struct member_access {
  std::string bc_id;
  std::string user_id;
  std::string asset_id;
  asset_type type = asset_type::advertiser;
  std::string advertiser_role = "ADMIN";  // ADMIN, OPERATOR or ANALYST
};

// A TikTok account bound to an ad account inside a BC.
struct tiktok_binding {
  std::string bc_id;
  std::string tt_account_id;
  std::string advertiser_id;
};

struct campaign {
  std::string campaign_id;
  std::string advertiser_id;
  std::string name;
  operation_status status = operation_status::enable;
  std::string objective_type = "TRAFFIC";
  std::string budget_mode = "BUDGET_MODE_DAY";
  double budget = 50.0;
  std::string create_time;  // "YYYY-MM-DD HH:MM:SS"
  std::string modify_time;
};

struct adgroup {
  std::string adgroup_id;
  std::string campaign_id;
  std::string advertiser_id;
  std::string name;
  operation_status status = operation_status::enable;
};

struct ad {
  std::string ad_id;
  std::string adgroup_id;
  std::string campaign_id;
  std::string advertiser_id;
  std::string name;
  operation_status status = operation_status::enable;
};

// An asynchronous report task (/report/task/create/) and how far it got.
struct report_task {
  std::string task_id;
  std::string advertiser_id;
  std::string status = "QUEUING";  // QUEUING, PROCESSING, SUCCESS, FAILED or CANCELED
  std::uint32_t checks = 0;        // /report/task/check/ calls answered so far
  std::string output_format = "CSV_STRING";
  std::string file_name;
  std::string query;  // the create request's body, JSON, for the file a later part serves
};

struct sandbox_state {
  std::vector<app> apps;
  std::vector<access_token> tokens;
  std::vector<bc_user> users;
  std::vector<business_center> business_centers;  // [0] is "our" BC
  std::vector<advertiser> advertisers;
  std::vector<tiktok_account> tiktok_accounts;
  std::vector<bc_asset> assets;
  std::vector<partner_share> partner_shares;
  std::vector<member_access> member_accesses;
  std::vector<tiktok_binding> bindings;
  std::vector<campaign> campaigns;
  std::vector<adgroup> adgroups;
  std::vector<ad> ads;
  std::vector<report_task> report_tasks;  // in creation order
  std::string base_url;  // where the sandbox listens ("http://127.0.0.1:PORT"), for URLs it gives

  [[nodiscard]] const access_token* find_token(std::string_view token) const;
  [[nodiscard]] const business_center* find_bc(std::string_view bc_id) const;
  [[nodiscard]] const advertiser* find_advertiser(std::string_view id) const;
  [[nodiscard]] const bc_user* find_user(std::string_view user_id) const;

  // The caller's role in a BC, if it is a member.
  [[nodiscard]] std::optional<user_role> role_of(std::string_view bc_id,
                                                 const std::string& user_id) const;
  // A caller reaches an ad account that is an asset of a BC it belongs to.
  [[nodiscard]] bool can_access_advertiser(const access_token& caller,
                                           std::string_view advertiser_id) const;
};

// What the sandbox counts of the calls that change state, per account (the
// asset the call is about), so a test can prove nothing was done twice.
struct mutation_stats {
  std::map<std::string, std::uint64_t> attempted;  // every mutating call that named it
  std::map<std::string, std::uint64_t> applied;    // the calls that changed something
  std::uint64_t advertiser_disable_calls = 0;      // /bc/advertiser/disable/: never from unlinkd
};

}  // namespace unlinkd::sandbox
