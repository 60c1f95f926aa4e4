// The read endpoints: who the caller is, which BCs and ad accounts it
// reaches, and the ad accounts' campaigns, ad groups and ads. Fields as in
// ../shared/reference/tiktok-api.md §2 and docs/SANDBOX_API.md.
#include <algorithm>
#include <array>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "sandbox/endpoints.hpp"

namespace unlinkd::sandbox {

namespace {

namespace json = boost::json;

api_outcome user_info(api_call& call) {
  const auto* user = call.state.find_user(call.caller.user_id);
  if (user == nullptr) {
    return api_outcome::error(40105, "Access token is incorrect or has been revoked.");
  }
  return api_outcome::ok(json::object{{"core_user_id", user->user_id},
                                      {"display_name", user->user_name},
                                      {"email", user->user_email},
                                      {"avatar_url", ""},
                                      {"create_time", 1'690'000'000}});
}

api_outcome oauth2_advertiser_get(api_call& call) {
  const auto app_id = call.params.text("app_id");
  if (!app_id) {
    return missing_param("app_id");
  }
  const auto secret = call.params.text("secret");
  if (!secret) {
    return missing_param("secret");
  }
  const auto app = std::find_if(call.state.apps.begin(), call.state.apps.end(),
                                [&](const auto& a) { return a.app_id == *app_id; });
  if (app == call.state.apps.end() || app->secret != *secret || *app_id != call.caller.app_id) {
    return api_outcome::error(40101, "app_id and secret do not match the access token.");
  }
  // One pass over the assets of the caller's BCs, not an access check per
  // advertiser: a world of 100,000 accounts must not make this quadratic.
  std::unordered_set<std::string_view> reachable;
  for (const auto& asset : call.state.assets) {
    if (asset.type == asset_type::advertiser &&
        call.state.role_of(asset.bc_id, call.caller.user_id)) {
      reachable.insert(asset.asset_id);
    }
  }
  json::array list;
  for (const auto& a : call.state.advertisers) {
    if (reachable.contains(a.advertiser_id)) {
      list.push_back(json::object{{"advertiser_id", a.advertiser_id}, {"advertiser_name", a.name}});
    }
  }
  return api_outcome::ok(json::object{{"list", std::move(list)}});
}

api_outcome advertiser_info(api_call& call) {
  std::string error;
  const auto ids = call.params.structured("advertiser_ids", error);
  if (!error.empty()) {
    return api_outcome::error(40002, error);
  }
  if (!ids) {
    return missing_param("advertiser_ids");
  }
  if (!ids->is_array() || ids->as_array().empty()) {
    return invalid_param("advertiser_ids", "Must be a non-empty list of advertiser IDs.");
  }
  constexpr std::size_t max_ids = 100;
  if (ids->as_array().size() > max_ids) {
    // 40002, never a clamp (docs/SANDBOX_API.md §6 item 6).
    return invalid_param("advertiser_ids", "Too many IDs; at most 100 per request.");
  }
  json::array list;
  for (const auto& v : ids->as_array()) {
    const std::string id = id_text(v);
    if (auto refused = advertiser_refusal(call, id)) {
      return *refused;
    }
    const auto* a = call.state.find_advertiser(id);
    list.push_back(json::object{{"advertiser_id", a->advertiser_id},
                                {"name", a->name},
                                {"company", a->company},
                                {"status", a->disabled_by_bc ? "STATUS_DISABLE" : a->status},
                                {"role", "ROLE_ADVERTISER"},
                                {"owner_bc_id", a->owner_bc_id},
                                {"currency", a->currency},
                                {"timezone", a->timezone},
                                {"display_timezone", a->timezone},
                                {"create_time", a->create_time},
                                {"rejection_reason", ""},
                                {"advertiser_account_type", "AUCTION"}});
  }
  return api_outcome::ok(json::object{{"list", std::move(list)}});
}

api_outcome bc_get(api_call& call) {
  api_outcome out;
  const auto p = read_paging(call.params, 50, out);
  if (!p) {
    return out;
  }
  const auto only = call.params.text("bc_id");
  std::vector<const business_center*> visible;
  for (const auto& bc : call.state.business_centers) {
    if (call.state.role_of(bc.bc_id, call.caller.user_id) && (!only || *only == bc.bc_id)) {
      visible.push_back(&bc);
    }
  }
  const std::string& user = call.caller.user_id;
  auto list = page_of(visible, *p, [&](const business_center& bc) {
    return json::object{{"bc_info", json::object{{"bc_id", bc.bc_id},
                                                 {"name", bc.name},
                                                 {"company", bc.company},
                                                 {"currency", bc.currency},
                                                 {"registered_area", "US"},
                                                 {"status", "ENABLE"},
                                                 {"timezone", bc.timezone},
                                                 {"type", "NORMAL"},
                                                 {"verification_status", "VERIFIED"}}},
                        {"user_role", to_api(*call.state.role_of(bc.bc_id, user))},
                        {"ext_user_role", json::object{{"finance_role", "MANAGER"}}}};
  });
  return api_outcome::ok(
      json::object{{"list", std::move(list)}, {"page_info", page_info(*p, visible.size())}});
}

const char* secondary_status(operation_status s) {
  switch (s) {
    case operation_status::enable:
      return "CAMPAIGN_STATUS_ENABLE";
    case operation_status::disable:
      return "CAMPAIGN_STATUS_DISABLE";
    case operation_status::del:
      return "CAMPAIGN_STATUS_DELETE";
  }
  return "";
}

api_outcome campaign_get(api_call& call) {
  const auto advertiser_id = call.params.text("advertiser_id");
  if (!advertiser_id) {
    return missing_param("advertiser_id");
  }
  if (auto refused = advertiser_refusal(call, *advertiser_id)) {
    return *refused;
  }
  api_outcome out;
  const auto p = read_paging(call.params, 1000, out);
  if (!p) {
    return out;
  }
  std::string error;
  const auto filtering = call.params.structured("filtering", error);
  if (!error.empty()) {
    return api_outcome::error(40002, error);
  }
  std::vector<std::string> wanted;
  if (filtering) {
    if (!filtering->is_object()) {
      return invalid_param("filtering", "Must be a JSON object.");
    }
    if (const auto* ids = filtering->as_object().if_contains("campaign_ids")) {
      if (!ids->is_array() || ids->as_array().size() > 100) {
        return invalid_param("filtering.campaign_ids", "Must be a list of at most 100 IDs.");
      }
      for (const auto& v : ids->as_array()) {
        wanted.push_back(id_text(v));
      }
    }
  }
  std::vector<const campaign*> matching;
  for (const auto& c : call.state.campaigns) {
    // Deleted campaigns are not listed unless asked for by ID.
    if (c.advertiser_id != *advertiser_id ||
        (c.status == operation_status::del && wanted.empty())) {
      continue;
    }
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), c.campaign_id) == wanted.end()) {
      continue;
    }
    matching.push_back(&c);
  }
  auto list = page_of(matching, *p, [](const campaign& c) {
    return json::object{
        {"campaign_id", c.campaign_id},
        {"campaign_name", c.name},
        {"advertiser_id", c.advertiser_id},
        // A deleted campaign reads DISABLE, its deletion in
        // secondary_status (docs/SANDBOX_API.md §6 item 12).
        {"operation_status",
         to_api(c.status == operation_status::del ? operation_status::disable : c.status)},
        {"secondary_status", secondary_status(c.status)},
        {"objective_type", c.objective_type},
        {"budget_mode", c.budget_mode},
        {"budget", c.budget},
        {"create_time", c.create_time},
        {"modify_time", c.modify_time}};
  });
  return api_outcome::ok(
      json::object{{"list", std::move(list)}, {"page_info", page_info(*p, matching.size())}});
}

// What `filtering` of /adgroup/get/ and /ad/get/ applies: ID lists (at most
// 100 each; an absent key is an empty list) and the status filters of
// docs/SANDBOX_API.md §2.5. Other keys are ignored, as /campaign/get/ does.
struct object_filter {
  std::map<std::string, std::vector<std::string>, std::less<>> ids;
  std::optional<std::string> primary_status;
  std::optional<std::string> secondary_status;
};

std::optional<object_filter> read_object_filter(const request_params& params,
                                                std::initializer_list<const char*> id_keys,
                                                api_outcome& out) {
  std::string error;
  const auto filtering = params.structured("filtering", error);
  if (!error.empty()) {
    out = api_outcome::error(40002, error);
    return std::nullopt;
  }
  object_filter filter;
  for (const char* key : id_keys) {
    filter.ids[key];
  }
  if (!filtering) {
    return filter;
  }
  if (!filtering->is_object()) {
    out = invalid_param("filtering", "Not a valid object.");
    return std::nullopt;
  }
  for (const char* key : id_keys) {
    const auto* ids = filtering->as_object().if_contains(key);
    if (ids == nullptr) {
      continue;
    }
    if (!ids->is_array() || ids->as_array().empty() || ids->as_array().size() > 100) {
      out = invalid_param(std::string("filtering.") + key, "Length must be between 1 and 100.");
      return std::nullopt;
    }
    for (const auto& v : ids->as_array()) {
      filter.ids[key].push_back(id_text(v));
    }
  }
  for (const char* key : {"primary_status", "secondary_status"}) {
    const auto* v = filtering->as_object().if_contains(key);
    if (v == nullptr) {
      continue;
    }
    if (!v->is_string()) {
      out = invalid_param(std::string("filtering.") + key, "Not a valid string.");
      return std::nullopt;
    }
    (std::string_view(key) == "primary_status" ? filter.primary_status : filter.secondary_status) =
        std::string(v->get_string());
  }
  return filter;
}

// Whether `id` passes a filter list (an empty list passes everything).
bool passes(const std::vector<std::string>& wanted, const std::string& id) {
  return wanted.empty() || std::find(wanted.begin(), wanted.end(), id) != wanted.end();
}

// The campaigns and ad groups of one ad account, by ID: a child's parents.
template <class T>
std::unordered_map<std::string_view, const T*> by_id(const std::vector<T>& items,
                                                     std::string T::*key,
                                                     const std::string& advertiser_id) {
  std::unordered_map<std::string_view, const T*> index;
  for (const auto& item : items) {
    if (item.advertiser_id == advertiser_id) {
      index.emplace(item.*key, &item);
    }
  }
  return index;
}

template <class T>
operation_status status_of(const std::unordered_map<std::string_view, const T*>& index,
                           const std::string& id) {
  const auto it = index.find(id);
  return it == index.end() ? operation_status::enable : it->second->status;
}

// An ad group's or ad's status as docs/SANDBOX_API.md §2.5 derives it: the
// first of campaign, ad group and the object itself that is deleted, else
// the first that is paused.
struct derived_status {
  std::string secondary;  // e.g. AD_STATUS_CAMPAIGN_DISABLE
  std::string primary;    // STATUS_DELETE, STATUS_DISABLE or STATUS_DELIVERY_OK
  bool deleted = false;
};

derived_status derive_status(const char* prefix, operation_status campaign,
                             std::optional<operation_status> adgroup, operation_status own) {
  const std::string p = std::string(prefix) + "_STATUS_";
  const auto first = [&](operation_status s) -> std::optional<std::string> {
    if (campaign == s) {
      return p + "CAMPAIGN_";
    }
    if (adgroup == s) {
      return p + "ADGROUP_";
    }
    if (own == s) {
      return p;
    }
    return std::nullopt;
  };
  if (const auto who = first(operation_status::del)) {
    return {*who + "DELETE", "STATUS_DELETE", true};
  }
  if (const auto who = first(operation_status::disable)) {
    return {*who + "DISABLE", "STATUS_DISABLE", false};
  }
  return {p + "DELIVERY_OK", "STATUS_DELIVERY_OK", false};
}

// The status filters; with neither given, deleted objects are left out
// unless asked for by their own ID (as /campaign/get/ does).
bool status_passes(const object_filter& f, const char* prefix, const derived_status& s,
                   bool asked_by_id) {
  const auto matches = [&](const std::string& wanted, bool secondary) {
    const std::string all = secondary ? std::string(prefix) + "_STATUS_ALL" : "STATUS_ALL";
    const std::string not_deleted =
        secondary ? std::string(prefix) + "_STATUS_NOT_DELETE" : "STATUS_NOT_DELETE";
    if (wanted == all) {
      return true;
    }
    if (wanted == not_deleted) {
      return !s.deleted;
    }
    return wanted == (secondary ? s.secondary : s.primary);
  };
  if (!f.primary_status && !f.secondary_status) {
    return !s.deleted || asked_by_id;
  }
  return (!f.primary_status || matches(*f.primary_status, false)) &&
         (!f.secondary_status || matches(*f.secondary_status, true));
}

// Reads show ENABLE or DISABLE; deletion shows in secondary_status.
const char* read_operation_status(operation_status s) {
  return s == operation_status::enable ? "ENABLE" : "DISABLE";
}

// Times of an ad group or ad: the world keeps them on the campaign only, and
// an ad group and its ads are made with their campaign.
std::pair<std::string, std::string> times_of(
    const std::unordered_map<std::string_view, const campaign*>& campaigns,
    const std::string& campaign_id) {
  const auto it = campaigns.find(campaign_id);
  return it == campaigns.end() ? std::pair<std::string, std::string>{}
                               : std::pair{it->second->create_time, it->second->modify_time};
}

const char* optimization_goal(const std::string& objective_type) {
  if (objective_type == "REACH") {
    return "REACH";
  }
  if (objective_type == "VIDEO_VIEWS") {
    return "ENGAGED_VIEW";
  }
  if (objective_type == "CONVERSIONS" || objective_type == "WEB_CONVERSIONS") {
    return "CONVERT";
  }
  return "CLICK";
}

api_outcome adgroup_get(api_call& call) {
  const auto advertiser_id = call.params.text("advertiser_id");
  if (!advertiser_id) {
    return missing_param("advertiser_id");
  }
  api_outcome out;
  const auto filter = read_object_filter(call.params, {"campaign_ids", "adgroup_ids"}, out);
  if (!filter) {
    return out;
  }
  const auto p = read_paging(call.params, 1000, out);
  if (!p) {
    return out;
  }
  if (auto refused = advertiser_refusal(call, *advertiser_id)) {
    return *refused;
  }
  const auto& campaign_ids = filter->ids.at("campaign_ids");
  const auto& adgroup_ids = filter->ids.at("adgroup_ids");
  const auto campaigns = by_id(call.state.campaigns, &campaign::campaign_id, *advertiser_id);
  std::vector<const adgroup*> matching;
  for (const auto& g : call.state.adgroups) {
    if (g.advertiser_id != *advertiser_id || !passes(campaign_ids, g.campaign_id) ||
        !passes(adgroup_ids, g.adgroup_id)) {
      continue;
    }
    const auto s =
        derive_status("ADGROUP", status_of(campaigns, g.campaign_id), std::nullopt, g.status);
    if (status_passes(*filter, "ADGROUP", s, !adgroup_ids.empty())) {
      matching.push_back(&g);
    }
  }
  return paged_list(matching, *p, [&](const adgroup& g) {
    const auto [created, modified] = times_of(campaigns, g.campaign_id);
    const auto parent = campaigns.find(g.campaign_id);
    return json::object{
        {"adgroup_id", g.adgroup_id},
        {"adgroup_name", g.name},
        {"campaign_id", g.campaign_id},
        {"advertiser_id", g.advertiser_id},
        {"operation_status", read_operation_status(g.status)},
        {"secondary_status",
         derive_status("ADGROUP", status_of(campaigns, g.campaign_id), std::nullopt, g.status)
             .secondary},
        // The campaign holds the budget; its ad groups spend without their own.
        {"budget", 0.0},
        {"budget_mode", "BUDGET_MODE_INFINITE"},
        {"optimization_goal",
         optimization_goal(parent == campaigns.end() ? "" : parent->second->objective_type)},
        {"create_time", created},
        {"modify_time", modified}};
  });
}

api_outcome ad_get(api_call& call) {
  const auto advertiser_id = call.params.text("advertiser_id");
  if (!advertiser_id) {
    return missing_param("advertiser_id");
  }
  api_outcome out;
  const auto filter =
      read_object_filter(call.params, {"campaign_ids", "adgroup_ids", "ad_ids"}, out);
  if (!filter) {
    return out;
  }
  const auto p = read_paging(call.params, 1000, out);
  if (!p) {
    return out;
  }
  if (auto refused = advertiser_refusal(call, *advertiser_id)) {
    return *refused;
  }
  const auto& campaign_ids = filter->ids.at("campaign_ids");
  const auto& adgroup_ids = filter->ids.at("adgroup_ids");
  const auto& ad_ids = filter->ids.at("ad_ids");
  const auto campaigns = by_id(call.state.campaigns, &campaign::campaign_id, *advertiser_id);
  const auto adgroups = by_id(call.state.adgroups, &adgroup::adgroup_id, *advertiser_id);
  const auto status = [&](const ad& a) {
    return derive_status("AD", status_of(campaigns, a.campaign_id),
                         status_of(adgroups, a.adgroup_id), a.status);
  };
  std::vector<const ad*> matching;
  for (const auto& a : call.state.ads) {
    if (a.advertiser_id == *advertiser_id && passes(campaign_ids, a.campaign_id) &&
        passes(adgroup_ids, a.adgroup_id) && passes(ad_ids, a.ad_id) &&
        status_passes(*filter, "AD", status(a), !ad_ids.empty())) {
      matching.push_back(&a);
    }
  }
  return paged_list(matching, *p, [&](const ad& a) {
    const auto [created, modified] = times_of(campaigns, a.campaign_id);
    return json::object{{"ad_id", a.ad_id},
                        {"ad_name", a.name},
                        {"adgroup_id", a.adgroup_id},
                        {"campaign_id", a.campaign_id},
                        {"advertiser_id", a.advertiser_id},
                        {"operation_status", read_operation_status(a.status)},
                        {"secondary_status", status(a).secondary},
                        {"create_time", created},
                        {"modify_time", modified}};
  });
}

constexpr std::array<endpoint, 7> reads{{
    {"/user/info/", http_method::get, user_info},
    {"/oauth2/advertiser/get/", http_method::get, oauth2_advertiser_get},
    {"/advertiser/info/", http_method::get, advertiser_info},
    {"/bc/get/", http_method::get, bc_get},
    {"/campaign/get/", http_method::get, campaign_get},
    {"/adgroup/get/", http_method::get, adgroup_get},
    {"/ad/get/", http_method::get, ad_get},
}};

}  // namespace

std::span<const endpoint> read_endpoints() { return reads; }

}  // namespace unlinkd::sandbox
