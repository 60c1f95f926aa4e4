// The Business Center reads: a BC's assets (a member's, and the admin view),
// its members and partners, who an asset is shared with or assigned to,
// what is shared with or by a partner, and the ad accounts a TikTok account
// is bound to. unlinkd's preflight and verify find each relationship of
// PRODUCT.md §4 with them, so every answer is computed from the current
// state. Parameters, limits, fields and messages follow docs/SANDBOX_API.md
// §4.5–§4.12; the choices made where it and the reference are silent are in
// docs/SANDBOX.md ("Business Center reads").
//
// Each read checks its parameters first (40002), then the caller's place in
// the BC (40001), then what it names (40002). A request costs a few linear
// passes over the state's vectors and one sort, never a pass per item.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "sandbox/endpoints.hpp"

namespace unlinkd::sandbox {

namespace {

namespace json = boost::json;

// page_size maxima: the yml files, and BUB where the yml gives none
// (/bc/member/get/, /bc/asset/advertiser/assigned/).
constexpr std::uint64_t max_page_size = 50;
constexpr std::uint64_t max_asset_member_page_size = 20;
constexpr std::uint64_t max_member_page_size = 20;
constexpr std::size_t max_keyword_length = 250;  // /bc/asset/member/get/

// The types of asset the sandbox has. Another type the API knows (CATALOG,
// PIXEL, ...) is refused rather than answered with an empty list, which a
// verify could take for "the relationship is gone".
constexpr std::initializer_list<asset_type> both_types{asset_type::advertiser,
                                                       asset_type::tt_account};

// ---------------------------------------------------------------------------
// Parameters

// 1 to 19 decimal digits, no leading zero, at most INT64_MAX
// (x-open-convert: int64).
bool is_id(std::string_view text) {
  if (text.empty() || text.size() > 19 || (text.size() > 1 && text.front() == '0')) {
    return false;
  }
  std::int64_t number = 0;
  const char* end = text.data() + text.size();
  const auto [last, ec] = std::from_chars(text.data(), end, number);
  return ec == std::errc{} && last == end && number >= 0;
}

// A required ID parameter; empty counts as absent.
std::optional<std::string> required_id(const request_params& params, const std::string& name,
                                       api_outcome& out) {
  auto value = params.text(name);
  if (!value || value->empty()) {
    out = missing_param(name);
    return std::nullopt;
  }
  if (!is_id(*value)) {
    out = invalid_param(name, "Not a valid ID.");
    return std::nullopt;
  }
  return value;
}

template <class T, class Name>
std::string one_of(std::initializer_list<T> values, Name name) {
  std::string text = "Must be one of: ";
  for (const auto& v : values) {
    if (&v != values.begin()) {
      text += ", ";
    }
    text += name(v);
  }
  return text + ".";
}

std::string one_of(std::initializer_list<std::string_view> values) {
  return one_of(values, [](std::string_view v) { return v; });
}

// The asset_type parameter, one of the types this endpoint takes.
std::optional<asset_type> required_asset_type(const request_params& params,
                                              std::initializer_list<asset_type> allowed,
                                              api_outcome& out) {
  const auto value = params.text("asset_type");
  if (!value || value->empty()) {
    out = missing_param("asset_type");
    return std::nullopt;
  }
  const auto type = asset_type_from_api(*value);
  if (!type || std::find(allowed.begin(), allowed.end(), *type) == allowed.end()) {
    out = invalid_param("asset_type", one_of(allowed, [](asset_type t) { return to_api(t); }));
    return std::nullopt;
  }
  return type;
}

// The sandbox has no child BCs, so any child_bc_id is refused.
bool no_child_bc(const request_params& params, const std::string& bc_id, api_outcome& out) {
  const auto child = params.text("child_bc_id");
  if (!child || child->empty()) {
    return true;
  }
  out = is_id(*child) ? invalid_param("child_bc_id", "Business Center " + *child +
                                                         " is not a child of " + bc_id + ".")
                      : invalid_param("child_bc_id", "Not a valid ID.");
  return false;
}

// The optional `filtering` object (empty when absent).
std::optional<json::object> read_filtering(const request_params& params, api_outcome& out) {
  std::string error;
  const auto value = params.structured("filtering", error);
  if (!error.empty()) {
    out = api_outcome::error(40002, error);
    return std::nullopt;
  }
  if (!value || value->is_null()) {
    return json::object{};
  }
  if (!value->is_object()) {
    out = invalid_param("filtering", "Not a valid object.");
    return std::nullopt;
  }
  return value->as_object();
}

std::string field_name(std::string_view field) { return "filtering." + std::string(field); }

// A string field of `filtering`, empty when absent. False, with `out` set,
// when it is not a string.
bool filter_text(const json::object& filtering, std::string_view field, std::string& value,
                 api_outcome& out) {
  const auto* v = filtering.if_contains(field);
  if (v == nullptr || v->is_null()) {
    return true;
  }
  if (!v->is_string()) {
    out = invalid_param(field_name(field), "Not a valid string.");
    return false;
  }
  value = v->get_string();
  return true;
}

// An enum field of `filtering`, empty when absent.
bool filter_enum(const json::object& filtering, std::string_view field,
                 std::initializer_list<std::string_view> allowed, std::string& value,
                 api_outcome& out) {
  if (!filter_text(filtering, field, value, out)) {
    return false;
  }
  if (!value.empty() && std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    out = invalid_param(field_name(field), one_of(allowed));
    return false;
  }
  return true;
}

// An ID field of `filtering`: a JSON string of an ID, empty when absent.
bool filter_id(const json::object& filtering, std::string_view field, std::string& value,
               api_outcome& out) {
  if (!filter_text(filtering, field, value, out)) {
    out = invalid_param(field_name(field), "Not a valid ID.");
    return false;
  }
  if (!value.empty() && !is_id(value)) {
    out = invalid_param(field_name(field), "Not a valid ID.");
    return false;
  }
  return true;
}

bool contains_folded(std::string_view text, std::string_view part) {
  const auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  return std::search(text.begin(), text.end(), part.begin(), part.end(), same) != text.end();
}

// IDs of one kind compare as numbers: the shorter is the smaller.
bool id_less(std::string_view a, std::string_view b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

// ---------------------------------------------------------------------------
// Access

enum class needs : std::uint8_t { member, admin };

// The caller's role in the BC a read names, or `out` set to the 40001 answer
// when the caller is not a member there (an unknown BC looks the same), or
// the read needs the ADMIN role and the caller is STANDARD.
std::optional<user_role> enter_bc(const api_call& call, const std::string& bc_id, needs need,
                                  api_outcome& out) {
  const auto role = call.state.role_of(bc_id, call.caller.user_id);
  if (!role) {
    out = api_outcome::error(40001, "No permission to operate Business Center " + bc_id +
                                        ": the user is not a member of it.");
    return std::nullopt;
  }
  if (need == needs::admin && *role != user_role::admin) {
    out = api_outcome::error(40001, "No permission to operate Business Center " + bc_id +
                                        ": this action requires the ADMIN role.");
    return std::nullopt;
  }
  return role;
}

bool asset_in_bc(const sandbox_state& state, const std::string& bc_id, const std::string& asset_id,
                 asset_type type, api_outcome& out) {
  const bool found = std::any_of(state.assets.begin(), state.assets.end(), [&](const bc_asset& a) {
    return a.bc_id == bc_id && a.asset_id == asset_id && a.type == type;
  });
  if (!found) {
    out = api_outcome::error(40002, "Asset " + asset_id + " (" + to_api(type) +
                                        ") does not belong to Business Center " + bc_id + ".");
  }
  return found;
}

// ---------------------------------------------------------------------------
// Lookups for one request. The items of one page are found in one pass over
// the state (prepare()); a lookup of anything else, as a keyword filter
// needs, builds a full index once.

class lookup {
 public:
  explicit lookup(const sandbox_state& state) : state_(state) {}

  // Finds these IDs of ad accounts and TikTok accounts in one pass.
  void prepare(const std::vector<std::string_view>& ids) {
    if (ids.empty()) {
      return;
    }
    const std::unordered_set<std::string_view> wanted(ids.begin(), ids.end());
    for (const auto& a : state_.advertisers) {
      if (wanted.contains(a.advertiser_id)) {
        advertisers_.emplace(a.advertiser_id, &a);
      }
    }
    for (const auto& t : state_.tiktok_accounts) {
      if (wanted.contains(t.tt_account_id)) {
        tiktok_accounts_.emplace(t.tt_account_id, &t);
      }
    }
    for (const auto id : ids) {  // known to be absent
      advertisers_.emplace(id, nullptr);
      tiktok_accounts_.emplace(id, nullptr);
    }
  }

  const advertiser* find_advertiser(std::string_view id) {
    return find(advertisers_, advertisers_complete_, state_.advertisers, &advertiser::advertiser_id,
                id);
  }

  const tiktok_account* find_tiktok_account(std::string_view id) {
    return find(tiktok_accounts_, tiktok_accounts_complete_, state_.tiktok_accounts,
                &tiktok_account::tt_account_id, id);
  }

  std::string_view asset_name(std::string_view id, asset_type type) {
    if (type == asset_type::advertiser) {
      const auto* a = find_advertiser(id);
      return a == nullptr ? std::string_view() : std::string_view(a->name);
    }
    const auto* t = find_tiktok_account(id);
    return t == nullptr ? std::string_view() : std::string_view(t->name);
  }

  // The name of the BC that owns an ad account; null when a person owns it.
  json::value owner_bc_name(std::string_view advertiser_id) {
    const auto* a = find_advertiser(advertiser_id);
    const auto* bc = a == nullptr ? nullptr : state_.find_bc(a->owner_bc_id);
    return bc == nullptr ? json::value(nullptr) : json::value(bc->name);
  }

  // An asset-list keyword: part of the name (ignoring case), or the whole ID.
  bool keyword_matches(std::string_view keyword, std::string_view id, asset_type type) {
    return keyword.empty() || id == keyword || contains_folded(asset_name(id, type), keyword);
  }

 private:
  template <class T>
  using index = std::unordered_map<std::string_view, const T*>;

  template <class T>
  static const T* find(index<T>& found, bool& complete, const std::vector<T>& items,
                       const std::string T::*key, std::string_view id) {
    if (const auto it = found.find(id); it != found.end()) {
      return it->second;
    }
    if (complete) {
      return nullptr;
    }
    complete = true;
    found.clear();
    found.reserve(items.size());
    for (const auto& item : items) {
      found.emplace(item.*key, &item);
    }
    const auto it = found.find(id);
    return it == found.end() ? nullptr : it->second;
  }

  const sandbox_state& state_;
  index<advertiser> advertisers_;
  index<tiktok_account> tiktok_accounts_;
  bool advertisers_complete_ = false;
  bool tiktok_accounts_complete_ = false;
};

// ---------------------------------------------------------------------------
// Answers

// The {list, page_info} answer of `rows`, in ascending order of `key`; with
// `world`, the keys of the page are looked up in one pass first.
template <class T, class Key, class F>
api_outcome sorted_page(std::vector<T>& rows, Key key, const paging& p, F to_json,
                        lookup* world = nullptr) {
  std::sort(rows.begin(), rows.end(),
            [&](const T& a, const T& b) { return id_less(key(a), key(b)); });
  std::vector<const T*> items;
  items.reserve(rows.size());
  for (const auto& r : rows) {
    items.push_back(&r);
  }
  if (world != nullptr) {
    std::vector<std::string_view> page_keys;
    const std::uint64_t first = (p.page - 1) * p.page_size;
    for (std::uint64_t i = first; i < rows.size() && i < first + p.page_size; ++i) {
      page_keys.push_back(key(rows[i]));
    }
    world->prepare(page_keys);
  }
  return paged_list(items, p, to_json);
}

// One asset of an asset list, with the list user's access row to it if any.
struct asset_row {
  std::string_view asset_id;
  asset_type type = asset_type::advertiser;
  relation_type relation = relation_type::owner_bc;
  const member_access* access = nullptr;
};

std::string_view row_id(const asset_row& r) { return r.asset_id; }

std::string_view advertiser_status(const advertiser& a) {
  return a.disabled_by_bc ? std::string_view("STATUS_DISABLE") : std::string_view(a.status);
}

// advertiser_show_status, the admin view's filter, from an advertiser status.
std::string_view show_status(std::string_view status) {
  if (status == "STATUS_ENABLE") {
    return "SHOW_ACCOUNT_STATUS_APPROVED";
  }
  if (status == "STATUS_DISABLE" || status == "STATUS_LIMIT") {
    return "SHOW_ACCOUNT_STATUS_PUNISHED";
  }
  if (status.find("FAIL") != std::string_view::npos) {
    return "SHOW_ACCOUNT_STATUS_NOT_APPROVED";
  }
  return "SHOW_ACCOUNT_STATUS_IN_REVIEW";
}

// An asset as /bc/asset/get/ shows it: fields that do not apply are null.
json::object asset_json(const asset_row& row, lookup& world) {
  const bool ad_account = row.type == asset_type::advertiser;
  json::value role = nullptr;
  json::value tt_roles = nullptr;
  if (row.access != nullptr) {
    if (ad_account) {
      role = row.access->advertiser_role;
    } else {
      tt_roles = json::array{"POST"};
    }
  }
  return {{"asset_id", row.asset_id},
          {"asset_name", world.asset_name(row.asset_id, row.type)},
          {"asset_type", to_api(row.type)},
          {"advertiser_account_type", ad_account ? json::value("AUCTION") : json::value(nullptr)},
          {"advertiser_role", std::move(role)},
          {"catalog_role", nullptr},
          {"ad_creation_eligible", nullptr},
          {"store_role", nullptr},
          {"tt_account_roles", std::move(tt_roles)},
          {"owner_bc_name", ad_account ? world.owner_bc_name(row.asset_id) : json::value(nullptr)}};
}

// An asset as /bc/asset/admin/get/ shows it: also how it is in the BC.
json::object admin_asset_json(const asset_row& row, lookup& world) {
  auto o = asset_json(row, world);
  o["relation_type"] = to_api(row.relation);
  o["relation_status"] = nullptr;
  o["advertiser_status"] = nullptr;
  o["pixel_code"] = nullptr;
  if (row.type == asset_type::advertiser) {
    o["relation_status"] = "BOUND";  // every asset the sandbox holds is BOUND
    if (const auto* a = world.find_advertiser(row.asset_id)) {
      o["advertiser_status"] = advertiser_status(*a);
    }
  }
  return o;
}

json::object partner_json(const business_center& bc) {
  return {{"bc_id", bc.bc_id}, {"bc_name", bc.name}};
}

// The partners of a BC. The state keeps no partner list, so they are the BCs
// it has a relationship with: shares either way, and the owners of the ad
// accounts in it as OWNER_PARTNER.
std::vector<const business_center*> partners_of(const sandbox_state& state,
                                                const std::string& bc_id) {
  std::unordered_set<std::string_view> ids;
  for (const auto& s : state.partner_shares) {
    if (s.bc_id == bc_id) {
      ids.insert(s.partner_id);
    } else if (s.partner_id == bc_id) {
      ids.insert(s.bc_id);
    }
  }
  std::unordered_set<std::string_view> shared_to_us;
  for (const auto& a : state.assets) {
    if (a.bc_id == bc_id && a.relation == relation_type::owner_partner &&
        a.type == asset_type::advertiser) {
      shared_to_us.insert(a.asset_id);
    }
  }
  if (!shared_to_us.empty()) {
    for (const auto& a : state.advertisers) {
      if (!a.owner_bc_id.empty() && shared_to_us.contains(a.advertiser_id)) {
        ids.insert(a.owner_bc_id);
      }
    }
  }
  std::vector<const business_center*> partners;
  for (const auto& bc : state.business_centers) {
    if (bc.bc_id != bc_id && ids.contains(bc.bc_id)) {
      partners.push_back(&bc);
    }
  }
  return partners;
}

// ---------------------------------------------------------------------------
// The endpoints

// GET /bc/asset/get/ (§4.5): the assets a member has an access row to; the
// caller's own, or, for an admin, those of the member filtering.user_id
// names. A BC admin has no implicit rows.
api_outcome asset_get(api_call& call) {
  api_outcome out;
  const auto bc_id = required_id(call.params, "bc_id", out);
  if (!bc_id) {
    return out;
  }
  const auto type = required_asset_type(call.params, both_types, out);
  if (!type || !no_child_bc(call.params, *bc_id, out)) {
    return out;
  }
  const auto filtering = read_filtering(call.params, out);
  if (!filtering) {
    return out;
  }
  std::string user_id;
  std::string user_email;
  std::string keyword;
  if (!filter_id(*filtering, "user_id", user_id, out) ||
      !filter_text(*filtering, "user_email", user_email, out) ||
      !filter_text(*filtering, "keyword", keyword, out)) {
    return out;
  }
  if (!user_id.empty() && !user_email.empty()) {
    return api_outcome::error(
        40002, "filtering.user_id and filtering.user_email cannot be used together.");
  }
  if (!user_email.empty() && user_email.find('@') == std::string::npos) {
    return invalid_param("filtering.user_email", "Not a valid email address.");
  }
  if (!user_email.empty() && *type != asset_type::advertiser) {
    return invalid_param("filtering.user_email", "Can only be used with asset_type ADVERTISER.");
  }
  const auto p = read_paging(call.params, max_page_size, out);
  if (!p) {
    return out;
  }
  const auto role = enter_bc(call, *bc_id, needs::member, out);
  if (!role) {
    return out;
  }
  const bool someone_else =
      !user_email.empty() || (!user_id.empty() && user_id != call.caller.user_id);
  if (someone_else && *role != user_role::admin) {
    return api_outcome::error(40001, "No permission to operate Business Center " + *bc_id +
                                         ": this action requires the ADMIN role.");
  }
  if (!user_id.empty() && !call.state.role_of(*bc_id, user_id)) {
    return api_outcome::error(
        40002, "User " + user_id + " is not a member of Business Center " + *bc_id + ".");
  }

  lookup world(call.state);
  std::vector<asset_row> rows;
  // user_email names an invited (PENDING) member; the sandbox has none.
  if (user_email.empty()) {
    // The subject's rows first (a few), then which of them are in the BC.
    const std::string& subject = user_id.empty() ? call.caller.user_id : user_id;
    std::unordered_map<std::string_view, const member_access*> access;
    for (const auto& m : call.state.member_accesses) {
      if (m.bc_id == *bc_id && m.user_id == subject && m.type == *type) {
        access.emplace(m.asset_id, &m);
      }
    }
    if (!access.empty()) {
      for (const auto& a : call.state.assets) {
        if (a.bc_id != *bc_id || a.type != *type) {
          continue;
        }
        const auto it = access.find(a.asset_id);
        if (it != access.end() && world.keyword_matches(keyword, a.asset_id, a.type)) {
          rows.push_back({a.asset_id, a.type, a.relation, it->second});
          access.erase(it);
        }
      }
    }
  }
  return sorted_page(
      rows, row_id, *p, [&](const asset_row& r) { return asset_json(r, world); }, &world);
}

// GET /bc/asset/admin/get/ (§4.6): every asset of the BC, for its admins;
// the verify read of mode bc_asset.
api_outcome asset_admin_get(api_call& call) {
  api_outcome out;
  const auto bc_id = required_id(call.params, "bc_id", out);
  if (!bc_id || !no_child_bc(call.params, *bc_id, out)) {
    return out;
  }
  const auto type = required_asset_type(call.params, both_types, out);
  if (!type) {
    return out;
  }
  const auto filtering = read_filtering(call.params, out);
  if (!filtering) {
    return out;
  }
  std::string show;
  std::string keyword;
  std::string relation;
  std::string status;
  if (!filter_enum(*filtering, "advertiser_show_status",
                   {"SHOW_ACCOUNT_STATUS_APPROVED", "SHOW_ACCOUNT_STATUS_IN_REVIEW",
                    "SHOW_ACCOUNT_STATUS_NOT_APPROVED", "SHOW_ACCOUNT_STATUS_PUNISHED"},
                   show, out) ||
      !filter_text(*filtering, "keyword", keyword, out) ||
      !filter_enum(*filtering, "relation_type", {"OWNER_BC", "OWNER_PARTNER", "OWNER_INDIVIDUAL"},
                   relation, out) ||
      !filter_enum(*filtering, "relation_status", {"BOUND", "UNBOUND", "PENDING", "REJECTED"},
                   status, out)) {
    return out;
  }
  if (!show.empty() && *type != asset_type::advertiser) {
    return invalid_param("filtering.advertiser_show_status",
                         "Can only be used with asset_type ADVERTISER.");
  }
  const auto p = read_paging(call.params, max_page_size, out);
  if (!p || !enter_bc(call, *bc_id, needs::admin, out)) {
    return out;
  }

  // The caller's own access rows give its advertiser_role.
  std::unordered_map<std::string_view, const member_access*> own;
  for (const auto& m : call.state.member_accesses) {
    if (m.bc_id == *bc_id && m.user_id == call.caller.user_id && m.type == *type) {
      own.emplace(m.asset_id, &m);
    }
  }
  lookup world(call.state);
  const auto keep = [&](std::string_view id, relation_type r) {
    if ((!relation.empty() && relation != to_api(r)) ||
        !world.keyword_matches(keyword, id, *type)) {
      return false;
    }
    // Only ad accounts have a relation_status, and every one here is BOUND.
    if (!status.empty() && *type == asset_type::advertiser && status != "BOUND") {
      return false;
    }
    if (!show.empty()) {
      const auto* a = world.find_advertiser(id);
      return a != nullptr && show_status(advertiser_status(*a)) == show;
    }
    return true;
  };
  // What a partner shares with this BC is in it as OWNER_PARTNER (the
  // generated world has no such shares: its partners' ad accounts are assets).
  std::unordered_set<std::string_view> shared_to_us;
  for (const auto& s : call.state.partner_shares) {
    if (s.partner_id == *bc_id && s.type == *type) {
      shared_to_us.insert(s.asset_id);
    }
  }
  std::vector<asset_row> rows;
  const auto add = [&](std::string_view id, relation_type r) {
    if (keep(id, r)) {
      const auto it = own.find(id);
      rows.push_back({id, *type, r, it == own.end() ? nullptr : it->second});
    }
  };
  for (const auto& a : call.state.assets) {
    if (a.bc_id == *bc_id && a.type == *type) {
      shared_to_us.erase(a.asset_id);
      add(a.asset_id, a.relation);
    }
  }
  for (const auto id : shared_to_us) {
    add(id, relation_type::owner_partner);
  }
  return sorted_page(
      rows, row_id, *p, [&](const asset_row& r) { return admin_asset_json(r, world); }, &world);
}

// GET /bc/asset/member/get/ (§4.7): the members with an access row to an ad
// account; the verify read of mode member_access.
api_outcome asset_member_get(api_call& call) {
  api_outcome out;
  const auto bc_id = required_id(call.params, "bc_id", out);
  if (!bc_id) {
    return out;
  }
  // TT_ACCOUNT is is_valid: false here in the yml.
  const auto type = required_asset_type(call.params, {asset_type::advertiser}, out);
  if (!type) {
    return out;
  }
  const auto asset_id = required_id(call.params, "asset_id", out);
  if (!asset_id) {
    return out;
  }
  const auto filtering = read_filtering(call.params, out);
  if (!filtering) {
    return out;
  }
  std::string keyword;
  if (!filter_text(*filtering, "keyword", keyword, out)) {
    return out;
  }
  if (keyword.size() > max_keyword_length) {
    return invalid_param("filtering.keyword",
                         "Longer than maximum length " + std::to_string(max_keyword_length) + ".");
  }
  const auto p = read_paging(call.params, max_asset_member_page_size, out);
  if (!p || !enter_bc(call, *bc_id, needs::admin, out) ||
      !asset_in_bc(call.state, *bc_id, *asset_id, *type, out)) {
    return out;
  }
  struct member_row {
    const bc_user* user;
    const member_access* access;
  };
  std::vector<member_row> rows;
  std::unordered_set<std::string_view> listed;
  for (const auto& m : call.state.member_accesses) {
    if (m.bc_id != *bc_id || m.asset_id != *asset_id || m.type != *type ||
        !listed.insert(m.user_id).second) {
      continue;
    }
    // Someone who has left the BC is no longer listed.
    const auto* user = call.state.find_user(m.user_id);
    if (user != nullptr && call.state.role_of(*bc_id, m.user_id) &&
        (contains_folded(user->user_name, keyword) || contains_folded(user->user_email, keyword))) {
      rows.push_back({user, &m});
    }
  }
  return sorted_page(
      rows, [](const member_row& r) { return std::string_view(r.user->user_id); }, *p,
      [](const member_row& r) {
        return json::object{{"user_id", r.user->user_id},
                            {"user_name", r.user->user_name},
                            {"user_email", r.user->user_email},
                            {"advertiser_role", r.access->advertiser_role},
                            {"catalog_role", nullptr}};
      });
}

// GET /bc/member/get/ (§4.8): the BC's members, for its admins.
api_outcome member_get(api_call& call) {
  api_outcome out;
  const auto bc_id = required_id(call.params, "bc_id", out);
  if (!bc_id || !no_child_bc(call.params, *bc_id, out)) {
    return out;
  }
  const auto filtering = read_filtering(call.params, out);
  if (!filtering) {
    return out;
  }
  std::string keyword;
  std::string role_filter;
  std::string status;
  if (!filter_text(*filtering, "keyword", keyword, out) ||
      !filter_enum(*filtering, "user_role", {"ADMIN", "STANDARD"}, role_filter, out) ||
      !filter_enum(*filtering, "relation_status", {"BOUND", "PENDING", "REJECTED", "UNBOUND"},
                   status, out)) {
    return out;
  }
  const auto p = read_paging(call.params, max_member_page_size, out);
  if (!p || !enter_bc(call, *bc_id, needs::admin, out)) {
    return out;
  }
  struct member_row {
    const bc_user* user;
    user_role role;
  };
  std::vector<member_row> rows;
  // Every member the sandbox holds has joined (BOUND); none is invited.
  if (status.empty() || status == "BOUND") {
    for (const auto& [user_id, role] : call.state.find_bc(*bc_id)->roles) {
      const auto* user = call.state.find_user(user_id);
      if (user != nullptr && (role_filter.empty() || role_filter == to_api(role)) &&
          (contains_folded(user->user_name, keyword) ||
           contains_folded(user->user_email, keyword))) {
        rows.push_back({user, role});
      }
    }
  }
  return sorted_page(
      rows, [](const member_row& r) { return std::string_view(r.user->user_id); }, *p,
      [](const member_row& r) {
        return json::object{{"user_id", r.user->user_id},
                            {"user_name", r.user->user_name},
                            {"user_email", r.user->user_email},
                            {"user_role", to_api(r.role)},
                            {"relation_status", "BOUND"},
                            {"ext_user_role", json::object{{"finance_role", "MANAGER"}}}};
      });
}

// GET /bc/partner/get/ (§4.9): the BC's partners, for its admins.
api_outcome partner_get(api_call& call) {
  api_outcome out;
  const auto bc_id = required_id(call.params, "bc_id", out);
  if (!bc_id) {
    return out;
  }
  const auto filtering = read_filtering(call.params, out);
  if (!filtering) {
    return out;
  }
  std::string name;
  if (!filter_text(*filtering, "name", name, out)) {
    return out;
  }
  const auto p = read_paging(call.params, max_page_size, out);
  if (!p || !enter_bc(call, *bc_id, needs::admin, out)) {
    return out;
  }
  std::vector<const business_center*> partners;
  for (const auto* bc : partners_of(call.state, *bc_id)) {
    if (contains_folded(bc->name, name)) {
      partners.push_back(bc);
    }
  }
  return sorted_page(
      partners, [](const business_center* bc) { return std::string_view(bc->bc_id); }, *p,
      [](const business_center* bc) { return partner_json(*bc); });
}

// GET /bc/partner/asset/get/ (§4.10): SHARING, the assets the BC shares with
// the partner; SHARED, what the partner shares with the BC (its shares, and
// the ad accounts it owns that are in the BC as OWNER_PARTNER).
api_outcome partner_asset_get(api_call& call) {
  api_outcome out;
  const auto bc_id = required_id(call.params, "bc_id", out);
  if (!bc_id) {
    return out;
  }
  const auto partner_id = required_id(call.params, "partner_id", out);
  if (!partner_id) {
    return out;
  }
  // TT_ACCOUNT is is_valid: false here in the yml.
  const auto type = required_asset_type(call.params, {asset_type::advertiser}, out);
  if (!type) {
    return out;
  }
  const auto share_type = call.params.text("share_type");
  if (!share_type || share_type->empty()) {
    return missing_param("share_type");
  }
  if (*share_type != "SHARED" && *share_type != "SHARING") {
    return invalid_param("share_type", one_of({"SHARED", "SHARING"}));
  }
  const auto filtering = read_filtering(call.params, out);
  if (!filtering) {
    return out;
  }
  std::string keyword;
  if (!filter_text(*filtering, "keyword", keyword, out)) {
    return out;
  }
  const auto p = read_paging(call.params, max_page_size, out);
  if (!p || !enter_bc(call, *bc_id, needs::admin, out)) {
    return out;
  }
  // Any other BC will do, so that a partner whose last share was just
  // removed lists nothing rather than failing a verify.
  const auto* partner = call.state.find_bc(*partner_id);
  if (partner == nullptr || *partner_id == *bc_id) {
    return api_outcome::error(40002, "Business Center " + *partner_id +
                                         " is not a partner of Business Center " + *bc_id + ".");
  }
  const bool sharing = *share_type == "SHARING";
  const auto* sharer = sharing ? call.state.find_bc(*bc_id) : partner;
  lookup world(call.state);
  std::vector<std::string_view> ids;
  std::unordered_set<std::string_view> listed;
  const auto add = [&](std::string_view id) {
    if (listed.insert(id).second && world.keyword_matches(keyword, id, *type)) {
      ids.push_back(id);
    }
  };
  const std::string& from = sharing ? *bc_id : *partner_id;
  const std::string& to = sharing ? *partner_id : *bc_id;
  for (const auto& s : call.state.partner_shares) {
    if (s.bc_id == from && s.partner_id == to && s.type == *type) {
      add(s.asset_id);
    }
  }
  if (!sharing) {
    std::unordered_set<std::string_view> owner_partner;
    for (const auto& a : call.state.assets) {
      if (a.bc_id == *bc_id && a.type == *type && a.relation == relation_type::owner_partner) {
        owner_partner.insert(a.asset_id);
      }
    }
    if (!owner_partner.empty()) {
      for (const auto& a : call.state.advertisers) {
        if (a.owner_bc_id == *partner_id && owner_partner.contains(a.advertiser_id)) {
          add(a.advertiser_id);
        }
      }
    }
  }
  return sorted_page(
      ids, [](std::string_view id) { return id; }, *p,
      [&](std::string_view id) {
        return json::object{{"asset_id", id},
                            {"asset_name", world.asset_name(id, *type)},
                            {"asset_type", to_api(*type)},
                            {"advertiser_role", "ADMIN"},
                            {"owner_bc_name", sharer->name}};
      },
      &world);
}

// GET /bc/asset/partner/get/ (§4.11): the partners an asset of the BC is
// shared with; the verify read of mode partner_share.
api_outcome asset_partner_get(api_call& call) {
  api_outcome out;
  const auto bc_id = required_id(call.params, "bc_id", out);
  if (!bc_id) {
    return out;
  }
  const auto type = required_asset_type(call.params, both_types, out);
  if (!type) {
    return out;
  }
  const auto asset_id = required_id(call.params, "asset_id", out);
  if (!asset_id) {
    return out;
  }
  const auto filtering = read_filtering(call.params, out);
  if (!filtering) {
    return out;
  }
  std::string keyword;
  if (!filter_text(*filtering, "keyword", keyword, out)) {
    return out;
  }
  const auto p = read_paging(call.params, max_page_size, out);
  if (!p || !enter_bc(call, *bc_id, needs::admin, out) ||
      !asset_in_bc(call.state, *bc_id, *asset_id, *type, out)) {
    return out;
  }
  std::vector<const business_center*> partners;
  std::unordered_set<std::string_view> listed;
  for (const auto& s : call.state.partner_shares) {
    if (s.bc_id != *bc_id || s.asset_id != *asset_id || s.type != *type ||
        !listed.insert(s.partner_id).second) {
      continue;
    }
    const auto* partner = call.state.find_bc(s.partner_id);
    if (partner != nullptr && contains_folded(partner->name, keyword)) {
      partners.push_back(partner);
    }
  }
  return sorted_page(
      partners, [](const business_center* bc) { return std::string_view(bc->bc_id); }, *p,
      [](const business_center* bc) { return partner_json(*bc); });
}

// GET /bc/asset/advertiser/assigned/ (§4.12): the ad accounts a TikTok
// account of the BC is bound to; the verify read of mode tiktok_binding.
// advertiser_id, which BUB sends, is ignored.
api_outcome asset_advertiser_assigned(api_call& call) {
  api_outcome out;
  const auto bc_id = required_id(call.params, "bc_id", out);
  if (!bc_id) {
    return out;
  }
  const auto asset_id = required_id(call.params, "asset_id", out);
  if (!asset_id) {
    return out;
  }
  // The sandbox has no MANAGED_BUSINESS_ACCOUNT.
  const auto type = required_asset_type(call.params, {asset_type::tt_account}, out);
  if (!type) {
    return out;
  }
  const auto p = read_paging(call.params, max_page_size, out);
  if (!p || !enter_bc(call, *bc_id, needs::member, out) ||
      !asset_in_bc(call.state, *bc_id, *asset_id, *type, out)) {
    return out;
  }
  std::vector<std::string_view> bound;
  std::unordered_set<std::string_view> listed;
  for (const auto& b : call.state.bindings) {
    if (b.bc_id == *bc_id && b.tt_account_id == *asset_id &&
        listed.insert(b.advertiser_id).second) {
      bound.push_back(b.advertiser_id);
    }
  }
  lookup world(call.state);
  return sorted_page(
      bound, [](std::string_view id) { return id; }, *p,
      [&](std::string_view id) {
        return json::object{{"advertiser_id", id},
                            {"advertiser_name", world.asset_name(id, asset_type::advertiser)}};
      },
      &world);
}

constexpr std::array<endpoint, 8> bc_reads{{
    {"/bc/asset/get/", http_method::get, asset_get},
    {"/bc/asset/admin/get/", http_method::get, asset_admin_get},
    {"/bc/asset/member/get/", http_method::get, asset_member_get},
    {"/bc/member/get/", http_method::get, member_get},
    {"/bc/partner/get/", http_method::get, partner_get},
    {"/bc/partner/asset/get/", http_method::get, partner_asset_get},
    {"/bc/asset/partner/get/", http_method::get, asset_partner_get},
    {"/bc/asset/advertiser/assigned/", http_method::get, asset_advertiser_assigned},
}};

}  // namespace

std::span<const endpoint> bc_endpoints() { return bc_reads; }

}  // namespace unlinkd::sandbox
