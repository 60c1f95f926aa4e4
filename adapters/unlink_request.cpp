#include "adapters/unlink_request.hpp"

#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "adapters/json_fields.hpp"
#include "config/scalars.hpp"

namespace unlinkd::adapters {
namespace {

namespace json = boost::json;
using config::unlink_mode;

std::string json_text(const json::value& v) { return json::serialize(v); }

api_request get(std::string path, std::vector<std::pair<std::string, std::string>> query) {
  api_request r;
  r.method = http_method::get;
  r.path = std::move(path);
  r.query = std::move(query);
  r.scope = call_scope::bc_level;
  return r;
}

api_request post(std::string path, json::object body) {
  api_request r;
  r.method = http_method::post;
  r.path = std::move(path);
  r.body = std::move(body);
  r.scope = call_scope::bc_level;
  return r;
}

}  // namespace

const char* asset_type_of(const account_job& job) {
  return job.account.type == config::account_type::advertiser ? "ADVERTISER" : "TT_ACCOUNT";
}

std::string job_problem(const account_job& job) {
  const auto& a = job.account;
  if (!config::is_valid_id(a.id)) {
    return "The account ID \"" + a.id + "\" is not an ID (1-20 digits).";
  }
  if (!config::is_valid_id(job.business_center_id)) {
    return "The business_center_id \"" + job.business_center_id + "\" is not an ID.";
  }
  if (!a.mode) {
    return {};
  }
  if (config::account_type_of(*a.mode) != a.type) {
    return "Unlink mode " + std::string(config::to_string(*a.mode)) + " does not apply to a " +
           std::string(config::to_string(a.type)) + ".";
  }
  switch (*a.mode) {
    case unlink_mode::partner_share:
      if (!config::is_valid_id(a.partner_id)) {
        return "Mode partner_share needs a partner_id.";
      }
      break;
    case unlink_mode::member_access:
      if (a.members.empty()) {
        return "Mode member_access needs at least one member.";
      }
      for (const auto& m : a.members) {
        if (!config::is_valid_id(m)) {
          return "The member \"" + m + "\" is not a user ID.";
        }
      }
      break;
    case unlink_mode::tiktok_binding:
      if (!config::is_valid_id(a.advertiser_id)) {
        return "Mode tiktok_binding needs an advertiser_id.";
      }
      break;
    case unlink_mode::bc_asset:
      break;
  }
  return {};
}

api_request relationship_read(const account_job& job) {
  const auto& a = job.account;
  const std::string& bc = job.business_center_id;
  switch (a.mode.value_or(unlink_mode::bc_asset)) {
    case unlink_mode::partner_share:
      return get("/bc/asset/partner/get/",
                 {{"bc_id", bc}, {"asset_type", "ADVERTISER"}, {"asset_id", a.id}});
    case unlink_mode::member_access:
      return get("/bc/asset/member/get/",
                 {{"bc_id", bc}, {"asset_type", "ADVERTISER"}, {"asset_id", a.id}});
    case unlink_mode::bc_asset:
      return get("/bc/asset/admin/get/",
                 {{"bc_id", bc},
                  {"asset_type", asset_type_of(job)},
                  {"filtering", json_text(json::object{{"keyword", a.id}})}});
    case unlink_mode::tiktok_binding:
      return get("/bc/asset/advertiser/assigned/",
                 {{"bc_id", bc}, {"asset_id", a.id}, {"asset_type", "TT_ACCOUNT"}});
  }
  return {};
}

std::uint32_t relationship_page_size(config::unlink_mode mode) {
  return mode == unlink_mode::member_access ? asset_member_page_size : bc_asset_page_size;
}

api_request bc_asset_listing(const std::string& bc_id, const std::string& asset_type) {
  return get("/bc/asset/admin/get/", {{"bc_id", bc_id}, {"asset_type", asset_type}});
}

api_request shared_to_us_listing(const std::string& bc_id, const std::string& asset_type) {
  return get("/bc/asset/admin/get/",
             {{"bc_id", bc_id},
              {"asset_type", asset_type},
              {"filtering", json_text(json::object{{"relation_type", "OWNER_PARTNER"}})}});
}

std::string relationship_key(const account_job& job, const json::object& item) {
  const auto& a = job.account;
  std::optional<std::string> key;
  switch (a.mode.value_or(unlink_mode::bc_asset)) {
    case unlink_mode::partner_share:
      key = id_field(item, "bc_id");
      break;
    case unlink_mode::member_access:
      key = id_field(item, "user_id");
      break;
    case unlink_mode::bc_asset:
      key = id_field(item, "asset_id");
      break;
    case unlink_mode::tiktok_binding:
      key = id_field(item, "advertiser_id");
      break;
  }
  if (!key) {
    return {};
  }
  for (const auto& wanted : wanted_keys(job)) {
    if (*key == wanted) {
      return *key;
    }
  }
  return {};
}

std::vector<std::string> wanted_keys(const account_job& job) {
  const auto& a = job.account;
  switch (a.mode.value_or(unlink_mode::bc_asset)) {
    case unlink_mode::partner_share:
      return {a.partner_id};
    case unlink_mode::member_access:
      return a.members;
    case unlink_mode::bc_asset:
      return {a.id};
    case unlink_mode::tiktok_binding:
      return {a.advertiser_id};
  }
  return {};
}

std::vector<api_request> unlink_requests(const account_job& job) {
  const auto& a = job.account;
  const std::string& bc = job.business_center_id;
  if (!a.mode) {
    return {};
  }
  switch (*a.mode) {
    case unlink_mode::partner_share:
      return {post("/bc/partner/asset/delete/", {{"bc_id", bc},
                                                 {"partner_id", a.partner_id},
                                                 {"asset_type", "ADVERTISER"},
                                                 {"asset_ids", json::array{json::string(a.id)}}})};
    case unlink_mode::member_access: {
      std::vector<api_request> calls;
      calls.reserve(a.members.size());
      for (const auto& user : a.members) {
        calls.push_back(post(
            "/bc/asset/unassign/",
            {{"bc_id", bc}, {"user_id", user}, {"asset_type", "ADVERTISER"}, {"asset_id", a.id}}));
      }
      return calls;
    }
    case unlink_mode::bc_asset:
      return {post("/bc/asset/admin/delete/", {{"bc_id", bc},
                                               {"asset_type", "TT_ACCOUNT"},
                                               {"asset_ids", json::array{json::string(a.id)}}})};
    case unlink_mode::tiktok_binding:
      return {post("/bc/asset/advertiser/unassign/", {{"bc_id", bc},
                                                      {"asset_id", a.id},
                                                      {"asset_type", "TT_ACCOUNT"},
                                                      {"advertiser_id", a.advertiser_id}})};
  }
  return {};
}

api_request campaigns_request(const std::string& advertiser_id) {
  api_request r = get("/campaign/get/",
                      {{"advertiser_id", advertiser_id},
                       {"fields", json_text(json::array{"campaign_id", "operation_status"})}});
  r.scope = call_scope::account_level;
  return r;
}

api_request pause_request(const std::string& advertiser_id, std::span<const std::string> ids) {
  json::array list;
  for (const auto& id : ids) {
    list.emplace_back(id);
  }
  api_request r = post("/campaign/status/update/", {{"advertiser_id", advertiser_id},
                                                    {"campaign_ids", std::move(list)},
                                                    {"operation_status", "DISABLE"}});
  r.scope = call_scope::account_level;
  return r;
}

}  // namespace unlinkd::adapters
