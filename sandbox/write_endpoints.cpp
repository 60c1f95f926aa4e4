// The calls that change state: pausing campaigns, the four unlink calls of
// PRODUCT.md §4, and /bc/advertiser/disable/, which unlinkd must never call
// and which is therefore counted. Every mutating call is counted per account
// as attempted, and as applied when it changed something, so a test can
// prove that no relationship was removed twice.
#include <algorithm>
#include <array>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "sandbox/endpoints.hpp"

namespace unlinkd::sandbox {

namespace {

namespace json = boost::json;

// A relationship that is not there (never was, or already removed) answers
// 40002 with a sentence naming it: the reference does not say what the real
// API answers; docs/SANDBOX_API.md §6 item 1 gives the reasons for 40002.
api_outcome gone(const std::string& sentence) { return api_outcome::error(40002, sentence); }

// The BC of a BC-level write, which the caller must administer.
std::optional<api_outcome> require_bc_admin(api_call& call, std::string& bc_id) {
  const auto id = call.params.text("bc_id");
  if (!id) {
    return missing_param("bc_id");
  }
  bc_id = *id;
  if (call.state.find_bc(bc_id) == nullptr) {
    return api_outcome::error(40001, "No permission to operate Business Center " + bc_id + ".");
  }
  const auto role = call.state.role_of(bc_id, call.caller.user_id);
  if (!role || *role != user_role::admin) {
    return api_outcome::error(
        40001, "Permission error: only an admin of Business Center " + bc_id + " can do this.");
  }
  return std::nullopt;
}

std::optional<std::vector<std::string>> id_list(const api_call& call, const std::string& name,
                                                std::size_t max, api_outcome& out) {
  std::string error;
  const auto value = call.params.structured(name, error);
  if (!value) {
    out = missing_param(name);
    return std::nullopt;
  }
  if (!value->is_array() || value->as_array().empty() || value->as_array().size() > max) {
    out = invalid_param(name, "Must be a list of 1 to " + std::to_string(max) + " IDs.");
    return std::nullopt;
  }
  std::vector<std::string> ids;
  for (const auto& v : value->as_array()) {
    ids.push_back(id_text(v));
  }
  return ids;
}

std::optional<asset_type> read_asset_type(const api_call& call, api_outcome& out) {
  const auto text = call.params.text("asset_type");
  if (!text) {
    out = missing_param("asset_type");
    return std::nullopt;
  }
  const auto type = asset_type_from_api(*text);
  if (!type) {
    out = invalid_param("asset_type", "Invalid enum value " + *text + ".");
  }
  return type;
}

api_outcome campaign_status_update(api_call& call) {
  const auto advertiser_id = call.params.text("advertiser_id");
  if (!advertiser_id) {
    return missing_param("advertiser_id");
  }
  if (auto refused = advertiser_refusal(call, *advertiser_id)) {
    return *refused;
  }
  api_outcome out;
  const auto ids = id_list(call, "campaign_ids", 20, out);
  if (!ids) {
    return out;
  }
  const auto status_text = call.params.text("operation_status");
  if (!status_text) {
    return missing_param("operation_status");
  }
  operation_status target{};
  if (*status_text == "DISABLE") {
    target = operation_status::disable;
  } else if (*status_text == "ENABLE") {
    target = operation_status::enable;
  } else if (*status_text == "DELETE") {
    target = operation_status::del;
  } else {
    return invalid_param("operation_status", "Invalid enum value " + *status_text + ".");
  }
  // Check every ID before changing any: the call applies whole or not at all.
  std::vector<campaign*> found;
  for (const auto& id : *ids) {
    const auto it = std::find_if(call.state.campaigns.begin(), call.state.campaigns.end(),
                                 [&](const campaign& c) {
                                   return c.campaign_id == id && c.advertiser_id == *advertiser_id;
                                 });
    if (it == call.state.campaigns.end()) {
      return invalid_param("campaign_ids", "Campaign " + id + " does not exist.");
    }
    if (it->status == operation_status::del && target != operation_status::del) {
      return invalid_param("campaign_ids", "Campaign " + id + " is deleted and cannot be changed.");
    }
    found.push_back(&*it);
  }
  ++call.mutations.attempted[*advertiser_id];
  bool changed = false;
  json::array done;
  json::array list;
  for (campaign* c : found) {
    changed = changed || c->status != target;
    c->status = target;
    done.emplace_back(c->campaign_id);
    list.push_back(json::object{{"campaign_id", c->campaign_id}, {"status", *status_text}});
  }
  if (changed) {
    ++call.mutations.applied[*advertiser_id];
  }
  return api_outcome::ok(json::object{{"campaign_ids", std::move(done)},
                                      {"status", *status_text},
                                      {"campaign_list", std::move(list)}});
}

// partner_share: stop sharing ad accounts with a partner BC.
api_outcome partner_asset_delete(api_call& call) {
  std::string bc_id;
  if (auto denied = require_bc_admin(call, bc_id)) {
    return *denied;
  }
  const auto partner_id = call.params.text("partner_id");
  if (!partner_id) {
    return missing_param("partner_id");
  }
  api_outcome out;
  const auto type = read_asset_type(call, out);
  if (!type) {
    return out;
  }
  const auto ids = id_list(call, "asset_ids", 1, out);  // one per call, as BUB documents
  if (!ids) {
    return out;
  }
  const std::string& asset_id = ids->front();
  ++call.mutations.attempted[asset_id];
  auto& shares = call.state.partner_shares;
  const auto it = std::find_if(shares.begin(), shares.end(), [&](const partner_share& s) {
    return s.bc_id == bc_id && s.partner_id == *partner_id && s.asset_id == asset_id &&
           s.type == *type;
  });
  if (it == shares.end()) {
    return gone("Asset " + asset_id + " is not shared with partner " + *partner_id + ".");
  }
  shares.erase(it);
  ++call.mutations.applied[asset_id];
  return api_outcome::ok(json::object{});
}

// member_access: take one member's access to one asset away.
api_outcome asset_unassign(api_call& call) {
  std::string bc_id;
  if (auto denied = require_bc_admin(call, bc_id)) {
    return *denied;
  }
  const auto user_id = call.params.text("user_id");
  if (!user_id) {
    return missing_param("user_id");
  }
  const auto asset_id = call.params.text("asset_id");
  if (!asset_id) {
    return missing_param("asset_id");
  }
  api_outcome out;
  const auto type = read_asset_type(call, out);
  if (!type) {
    return out;
  }
  ++call.mutations.attempted[*asset_id];
  auto& access = call.state.member_accesses;
  const auto it = std::find_if(access.begin(), access.end(), [&](const member_access& m) {
    return m.bc_id == bc_id && m.user_id == *user_id && m.asset_id == *asset_id && m.type == *type;
  });
  if (it == access.end()) {
    return gone("User " + *user_id + " has no access to asset " + *asset_id + ".");
  }
  access.erase(it);
  ++call.mutations.applied[*asset_id];
  return api_outcome::ok(json::object{});
}

// bc_asset: remove a TikTok account from the BC. Ad accounts cannot leave
// this way (a live test got this exact answer, tiktok-api.md §4).
api_outcome asset_admin_delete(api_call& call) {
  std::string bc_id;
  if (auto denied = require_bc_admin(call, bc_id)) {
    return *denied;
  }
  const auto type_text = call.params.text("asset_type");
  if (!type_text) {
    return missing_param("asset_type");
  }
  // Only TikTok accounts and leads can leave a BC this way; a live test
  // deleting an ad account got exactly this answer (tiktok-api.md §2.4).
  if (*type_text != "TT_ACCOUNT" && *type_text != "LEAD") {
    return api_outcome::error(40000, "This action isn't supported");
  }
  api_outcome out;
  const auto ids = id_list(call, "asset_ids", 1, out);  // one per call, as BUB documents
  if (!ids) {
    return out;
  }
  const std::string& asset_id = ids->front();
  ++call.mutations.attempted[asset_id];
  auto& assets = call.state.assets;
  const auto it = std::find_if(assets.begin(), assets.end(), [&](const bc_asset& a) {
    return a.bc_id == bc_id && a.asset_id == asset_id && a.type == asset_type::tt_account;
  });
  if (it == assets.end()) {
    return gone("Asset " + asset_id + " (" + *type_text + ") does not belong to Business Center " +
                bc_id + ".");
  }
  if (it->relation != relation_type::owner_bc) {
    return api_outcome::error(40001, "Permission error: asset " + asset_id +
                                         " is not owned by Business Center " + bc_id + ".");
  }
  assets.erase(it);
  // Its bindings, member access and partner shares in this BC go with it.
  std::erase_if(call.state.bindings, [&](const tiktok_binding& b) {
    return b.bc_id == bc_id && b.tt_account_id == asset_id;
  });
  std::erase_if(call.state.member_accesses,
                [&](const member_access& m) { return m.bc_id == bc_id && m.asset_id == asset_id; });
  std::erase_if(call.state.partner_shares,
                [&](const partner_share& p) { return p.bc_id == bc_id && p.asset_id == asset_id; });
  ++call.mutations.applied[asset_id];
  return api_outcome::ok(json::object{});
}

// tiktok_binding: unbind a TikTok account from an ad account in the BC.
api_outcome asset_advertiser_unassign(api_call& call) {
  std::string bc_id;
  if (auto denied = require_bc_admin(call, bc_id)) {
    return *denied;
  }
  const auto asset_id = call.params.text("asset_id");
  if (!asset_id) {
    return missing_param("asset_id");
  }
  const auto advertiser_id = call.params.text("advertiser_id");
  if (!advertiser_id) {
    return missing_param("advertiser_id");
  }
  const auto type_text = call.params.text("asset_type");
  if (!type_text) {
    return missing_param("asset_type");
  }
  if (*type_text != "TT_ACCOUNT" && *type_text != "MANAGED_BUSINESS_ACCOUNT") {
    return invalid_param("asset_type", "Invalid enum value " + *type_text + ".");
  }
  ++call.mutations.attempted[*asset_id];
  auto& bindings = call.state.bindings;
  const auto it = std::find_if(bindings.begin(), bindings.end(), [&](const tiktok_binding& b) {
    return b.bc_id == bc_id && b.tt_account_id == *asset_id && b.advertiser_id == *advertiser_id;
  });
  if (it == bindings.end()) {
    return gone("TikTok account " + *asset_id + " is not linked to advertiser " + *advertiser_id +
                ".");
  }
  bindings.erase(it);
  ++call.mutations.applied[*asset_id];
  return api_outcome::ok(json::object{});
}

// Irreversible in the real API; here it only marks the ad account. unlinkd
// must never call it: every call is counted, whatever its outcome.
api_outcome advertiser_disable(api_call& call) {
  ++call.mutations.advertiser_disable_calls;
  std::string bc_id;
  if (auto denied = require_bc_admin(call, bc_id)) {
    return *denied;
  }
  api_outcome out;
  const auto ids = id_list(call, "advertiser_ids", 1, out);
  if (!ids) {
    return out;
  }
  json::array disabled;
  json::object failed;
  for (const auto& id : *ids) {
    ++call.mutations.attempted[id];
    auto it = std::find_if(call.state.advertisers.begin(), call.state.advertisers.end(),
                           [&](const advertiser& a) { return a.advertiser_id == id; });
    if (it == call.state.advertisers.end() || it->owner_bc_id != bc_id) {
      failed[id] = "NOT_OWNED";
    } else if (it->disabled_by_bc) {
      return api_outcome::error(40002, "Advertiser " + id + " has been DISABLED already.");
    } else {
      it->disabled_by_bc = true;
      ++call.mutations.applied[id];
      disabled.emplace_back(id);
    }
  }
  return api_outcome::ok(json::object{{"disabled_advertiser_ids", std::move(disabled)},
                                      {"failed_infos", std::move(failed)}});
}

constexpr std::array<endpoint, 6> writes{{
    {"/campaign/status/update/", http_method::post, campaign_status_update},
    {"/bc/partner/asset/delete/", http_method::post, partner_asset_delete},
    {"/bc/asset/unassign/", http_method::post, asset_unassign},
    {"/bc/asset/admin/delete/", http_method::post, asset_admin_delete},
    {"/bc/asset/advertiser/unassign/", http_method::post, asset_advertiser_unassign},
    {"/bc/advertiser/disable/", http_method::post, advertiser_disable},
}};

}  // namespace

std::span<const endpoint> write_endpoints() { return writes; }

}  // namespace unlinkd::sandbox
