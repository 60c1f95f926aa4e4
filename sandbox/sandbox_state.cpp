#include "sandbox/sandbox_state.hpp"

#include <algorithm>

namespace unlinkd::sandbox {

const char* to_api(user_role r) { return r == user_role::admin ? "ADMIN" : "STANDARD"; }

const char* to_api(asset_type t) {
  return t == asset_type::advertiser ? "ADVERTISER" : "TT_ACCOUNT";
}

const char* to_api(relation_type r) {
  switch (r) {
    case relation_type::owner_bc:
      return "OWNER_BC";
    case relation_type::owner_partner:
      return "OWNER_PARTNER";
    case relation_type::owner_individual:
      return "OWNER_INDIVIDUAL";
  }
  return "";
}

const char* to_api(operation_status s) {
  switch (s) {
    case operation_status::enable:
      return "ENABLE";
    case operation_status::disable:
      return "DISABLE";
    case operation_status::del:
      return "DELETE";
  }
  return "";
}

std::optional<asset_type> asset_type_from_api(std::string_view s) {
  if (s == "ADVERTISER") {
    return asset_type::advertiser;
  }
  if (s == "TT_ACCOUNT") {
    return asset_type::tt_account;
  }
  return std::nullopt;
}

namespace {

template <class T, class Key>
const T* find_by(const std::vector<T>& items, Key T::*key, std::string_view value) {
  const auto it =
      std::find_if(items.begin(), items.end(), [&](const T& item) { return item.*key == value; });
  return it == items.end() ? nullptr : &*it;
}

}  // namespace

const access_token* sandbox_state::find_token(std::string_view token) const {
  return find_by(tokens, &access_token::token, token);
}

const business_center* sandbox_state::find_bc(std::string_view bc_id) const {
  return find_by(business_centers, &business_center::bc_id, bc_id);
}

const advertiser* sandbox_state::find_advertiser(std::string_view id) const {
  return find_by(advertisers, &advertiser::advertiser_id, id);
}

const bc_user* sandbox_state::find_user(std::string_view user_id) const {
  return find_by(users, &bc_user::user_id, user_id);
}

std::optional<user_role> sandbox_state::role_of(std::string_view bc_id,
                                                const std::string& user_id) const {
  const auto* bc = find_bc(bc_id);
  if (bc == nullptr) {
    return std::nullopt;
  }
  const auto it = bc->roles.find(user_id);
  return it == bc->roles.end() ? std::nullopt : std::optional(it->second);
}

bool sandbox_state::can_access_advertiser(const access_token& caller,
                                          std::string_view advertiser_id) const {
  return std::any_of(assets.begin(), assets.end(), [&](const bc_asset& a) {
    return a.asset_id == advertiser_id && a.type == asset_type::advertiser &&
           role_of(a.bc_id, caller.user_id).has_value();
  });
}

}  // namespace unlinkd::sandbox
