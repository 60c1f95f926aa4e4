// The read endpoints: who the caller is, which BCs and ad accounts it
// reaches, and the ad accounts' campaigns. Fields as in
// ../shared/reference/tiktok-api.md §2 and docs/SANDBOX_API.md.
#include <algorithm>
#include <array>

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
  json::array list;
  for (const auto& a : call.state.advertisers) {
    if (call.state.can_access_advertiser(call.caller, a.advertiser_id)) {
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
    return api_outcome::error(40011, "advertiser_ids: Too many IDs; at most 100 per request.");
  }
  json::array list;
  for (const auto& v : ids->as_array()) {
    const std::string id = id_text(v);
    const auto* a = call.state.find_advertiser(id);
    if (a == nullptr || !call.state.can_access_advertiser(call.caller, id)) {
      return api_outcome::error(40001, "No permission to operate advertiser " + id + ".");
    }
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
  if (call.state.find_advertiser(*advertiser_id) == nullptr ||
      !call.state.can_access_advertiser(call.caller, *advertiser_id)) {
    return api_outcome::error(40001, "No permission to operate advertiser " + *advertiser_id + ".");
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
    return json::object{{"campaign_id", c.campaign_id},
                        {"campaign_name", c.name},
                        {"advertiser_id", c.advertiser_id},
                        {"operation_status", to_api(c.status)},
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

constexpr std::array<endpoint, 5> reads{{
    {"/user/info/", http_method::get, user_info},
    {"/oauth2/advertiser/get/", http_method::get, oauth2_advertiser_get},
    {"/advertiser/info/", http_method::get, advertiser_info},
    {"/bc/get/", http_method::get, bc_get},
    {"/campaign/get/", http_method::get, campaign_get},
}};

}  // namespace

std::span<const endpoint> read_endpoints() { return reads; }

}  // namespace unlinkd::sandbox
