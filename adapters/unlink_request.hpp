#pragma once
// The API calls of each unlink mode (PRODUCT.md §4) as pure functions: the
// relationship read that preflight and verify share, how a listed item is
// recognised as the relationship, the one mutating call of the mode, and
// the campaign calls. No I/O; unit-tested directly.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "adapters/api_client.hpp"
#include "adapters/platform.hpp"

namespace unlinkd::adapters {

// Largest page each read allows (SANDBOX_API.md §4).
inline constexpr std::uint32_t bc_asset_page_size = 50;
inline constexpr std::uint32_t asset_member_page_size = 20;
inline constexpr std::uint32_t campaign_page_size = 1000;
inline constexpr std::size_t campaigns_per_status_update = 20;

// A sentence naming what is missing, or empty when the job carries what its
// mode needs (a mode, its parameter, IDs of the right form).
std::string job_problem(const account_job& job);

// The mode's relationship read without page parameters. For bc_asset it is
// /bc/asset/admin/get/ narrowed to this asset by keyword (its exact ID).
api_request relationship_read(const account_job& job);
std::uint32_t relationship_page_size(config::unlink_mode mode);

// Every TT_ACCOUNT asset of a BC: the bc_asset verify read shared by all
// accounts of that BC in one poll round.
api_request bc_asset_listing(const std::string& bc_id, const std::string& asset_type);

// The assets a partner shared to the BC (relation_type OWNER_PARTNER):
// unlinkd must not touch them (PRODUCT.md §4).
api_request shared_to_us_listing(const std::string& bc_id, const std::string& asset_type);

// The key of a listed item when it shows this job's relationship: the
// partner's BC ID, the member's user ID, the asset ID or the bound
// advertiser ID; empty when the item is about something else.
std::string relationship_key(const account_job& job, const boost::json::object& item);

// The keys whose removal the job asks for: {partner_id}, the members,
// {account id} or {advertiser_id}.
std::vector<std::string> wanted_keys(const account_job& job);

// The mutating call(s) of the mode: one, or one per member for
// member_access. Never /bc/advertiser/disable/.
std::vector<api_request> unlink_requests(const account_job& job);

// The advertiser's campaigns that are not deleted, with only the fields
// preflight needs.
api_request campaigns_request(const std::string& advertiser_id);

// Disables up to 20 campaigns of one advertiser.
api_request pause_request(const std::string& advertiser_id, std::span<const std::string> ids);

// "ADVERTISER" or "TT_ACCOUNT", the asset_type of the job's account.
const char* asset_type_of(const account_job& job);

}  // namespace unlinkd::adapters
