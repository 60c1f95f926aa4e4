#include "sandbox/fixture_loader.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <utility>

#include "config/file_reader.hpp"
#include "config/scalars.hpp"
#include "config/value_reader.hpp"
#include "config/yaml_reader.hpp"

namespace unlinkd::sandbox {

namespace {

using config::choice;
using config::quote;
using config::source_mark;
using config::yaml_node;

constexpr std::size_t max_fixture_bytes = std::size_t{16} << 20U;
constexpr std::size_t max_name_chars = 256;
constexpr double max_budget = 1e12;
constexpr std::uint64_t max_epoch_seconds = 4'102'444'800;  // 2100-01-01
constexpr const char* default_time = "2025-01-01 00:00:00";

constexpr std::array<choice<user_role>, 2> role_choices{{
    {"ADMIN", user_role::admin, {}},
    {"STANDARD", user_role::standard, {}},
}};

constexpr std::array<choice<asset_type>, 2> asset_type_choices{{
    {"ADVERTISER", asset_type::advertiser, {}},
    {"TT_ACCOUNT", asset_type::tt_account, {}},
}};

constexpr std::array<choice<relation_type>, 3> relation_choices{{
    {"OWNER_BC", relation_type::owner_bc, {}},
    {"OWNER_PARTNER", relation_type::owner_partner, {}},
    {"OWNER_INDIVIDUAL", relation_type::owner_individual, {}},
}};

constexpr std::array<choice<operation_status>, 3> status_choices{{
    {"ENABLE", operation_status::enable, {}},
    {"DISABLE", operation_status::disable, {}},
    {"DELETE", operation_status::del, {}},
}};

constexpr std::array<choice<std::string_view>, 3> advertiser_role_choices{{
    {"ADMIN", "ADMIN", {}},
    {"OPERATOR", "OPERATOR", {}},
    {"ANALYST", "ANALYST", {}},
}};

constexpr std::array<choice<std::string_view>, 3> budget_mode_choices{{
    {"BUDGET_MODE_DAY", "BUDGET_MODE_DAY", {}},
    {"BUDGET_MODE_TOTAL", "BUDGET_MODE_TOTAL", {}},
    {"BUDGET_MODE_INFINITE", "BUDGET_MODE_INFINITE", {}},
}};

// The advertiser statuses of ../shared/reference/tiktok-api.md.
constexpr std::array<choice<std::string_view>, 13> advertiser_status_choices{{
    {"STATUS_ENABLE", "STATUS_ENABLE", {}},
    {"STATUS_DISABLE", "STATUS_DISABLE", {}},
    {"STATUS_LIMIT", "STATUS_LIMIT", {}},
    {"STATUS_PENDING_CONFIRM", "STATUS_PENDING_CONFIRM", {}},
    {"STATUS_PENDING_VERIFIED", "STATUS_PENDING_VERIFIED", {}},
    {"STATUS_CONFIRM_FAIL", "STATUS_CONFIRM_FAIL", {}},
    {"STATUS_CONFIRM_FAIL_END", "STATUS_CONFIRM_FAIL_END", {}},
    {"STATUS_PENDING_CONFIRM_MODIFY", "STATUS_PENDING_CONFIRM_MODIFY", {}},
    {"STATUS_CONFIRM_MODIFY_FAIL", "STATUS_CONFIRM_MODIFY_FAIL", {}},
    {"STATUS_WAIT_FOR_BPM_AUDIT", "STATUS_WAIT_FOR_BPM_AUDIT", {}},
    {"STATUS_WAIT_FOR_PUBLIC_AUTH", "STATUS_WAIT_FOR_PUBLIC_AUTH", {}},
    {"STATUS_SELF_SERVICE_UNAUDITED", "STATUS_SELF_SERVICE_UNAUDITED", {}},
    {"STATUS_CONTRACT_PENDING", "STATUS_CONTRACT_PENDING", {}},
}};

// "YYYY-MM-DD HH:MM:SS", as /campaign/get/ writes create_time.
bool is_timestamp(std::string_view t) {
  if (t.size() != 19 || t[10] != ' ' || t[13] != ':' || t[16] != ':' ||
      !config::parse_date(t.substr(0, 10))) {
    return false;
  }
  const auto two_digits = [&](std::size_t at, int max) {
    const char a = t[at];
    const char b = t[at + 1];
    return a >= '0' && a <= '9' && b >= '0' && b <= '9' && (a - '0') * 10 + (b - '0') <= max;
  };
  return two_digits(11, 23) && two_digits(14, 59) && two_digits(17, 59);
}

// An Access-Token header value: visible ASCII, no blanks.
bool is_token_text(std::string_view t) {
  return std::all_of(t.begin(), t.end(), [](char c) { return c > ' ' && c < 0x7F; });
}

std::string default_profile(std::size_t token_index) {
  if (token_index == 0) {
    return "sandbox-admin";
  }
  if (token_index == 1) {
    return "sandbox-standard";
  }
  return "sandbox-token-" + std::to_string(token_index + 1);
}

std::string line_of(source_mark m) { return "line " + std::to_string(m.line + 1); }

// The keys of one item, checked against those its kind knows: an unknown key
// is reported (with the nearest known one) when the item is read.
class fields {
 public:
  fields(config::value_reader& read, const yaml_node& n, std::string path,
         std::initializer_list<std::string_view> known)
      : read_(read), node_(n), path_(std::move(path)) {
    ok_ = read_.expect_mapping(n, path_);
    if (!ok_) {
      return;
    }
    for (std::size_t i = 0; i < n.mapping_size(); ++i) {
      const auto& key = n.key(i);
      if (std::find(known.begin(), known.end(), std::string_view(key.text)) == known.end()) {
        read_.unknown_key(key, path_, known);
      } else if (get(key.text) == nullptr) {  // a repeated key: the reader reported it
        found_.emplace_back(key.text, &n.value(i));
      }
    }
  }

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] const yaml_node& node() const { return node_; }
  [[nodiscard]] std::string path(std::string_view key) const {
    return config::join_path(path_, key);
  }

  [[nodiscard]] const yaml_node* get(std::string_view key) const {
    for (const auto& [k, v] : found_) {
      if (k == key) {
        return v;
      }
    }
    return nullptr;
  }

  // The value of a key that must be there; reports it missing otherwise.
  [[nodiscard]] const yaml_node* need(std::string_view key) const {
    const auto* v = get(key);
    if (v == nullptr) {
      read_.error(node_, path_, "missing required key '" + std::string(key) + "'");
    }
    return v;
  }

 private:
  config::value_reader& read_;
  const yaml_node& node_;
  std::string path_;
  bool ok_ = false;
  std::vector<std::pair<std::string_view, const yaml_node*>> found_;
};

// IDs of one kind, with where each was first given and its index in the
// state's vector of that kind.
struct known_id {
  source_mark mark;
  std::size_t index = 0;
};
using id_index = std::map<std::string, known_id, std::less<>>;

class fixture_decoder {
 public:
  explicit fixture_decoder(fixture_result& out) : read_(out.problems), out_(out), s_(out.state) {}

  void decode(const yaml_node& root) {
    if (root.is_null()) {
      read_.diags().error_at(1, 1,
                             "the file is empty; a fixture needs at least business_centers: "
                             "with one business center (the first is ours)");
      return;
    }
    if (!read_.expect_mapping(root, "(top level)")) {
      return;
    }
    std::map<std::string_view, const yaml_node*> sections;
    for (std::size_t i = 0; i < root.mapping_size(); ++i) {
      const auto& key = root.key(i);
      const auto* const known = std::find(section_names.begin(), section_names.end(), key.text);
      if (known == section_names.end()) {
        read_.unknown_key(key, "",
                          {"apps", "users", "tokens", "business_centers", "advertisers",
                           "tiktok_accounts", "assets", "partner_shares", "member_accesses",
                           "bindings", "campaigns", "adgroups", "ads"});
      } else {
        sections.emplace(*known, &root.value(i));  // a repeated key: the reader reported it
      }
    }
    // In the order references point: what an item names is read before it.
    const auto each = [&](std::string_view name, auto decode_item) {
      const auto found = sections.find(name);
      if (found == sections.end() || !read_.expect_sequence(*found->second, name)) {
        return;
      }
      const auto& list = *found->second;
      for (std::size_t i = 0; i < list.items.size(); ++i) {
        (this->*decode_item)(list.items[i], config::index_path(name, i));
      }
    };
    each("apps", &fixture_decoder::decode_app);
    each("users", &fixture_decoder::decode_user);
    each("business_centers", &fixture_decoder::decode_bc);
    each("advertisers", &fixture_decoder::decode_advertiser);
    each("tiktok_accounts", &fixture_decoder::decode_tiktok_account);
    each("tokens", &fixture_decoder::decode_token);
    each("assets", &fixture_decoder::decode_asset);
    each("partner_shares", &fixture_decoder::decode_partner_share);
    each("member_accesses", &fixture_decoder::decode_member_access);
    each("bindings", &fixture_decoder::decode_binding);
    each("campaigns", &fixture_decoder::decode_campaign);
    each("adgroups", &fixture_decoder::decode_adgroup);
    each("ads", &fixture_decoder::decode_ad);

    const auto bcs = sections.find("business_centers");
    if (bcs == sections.end()) {
      read_.diags().error(root.mark,
                          "missing required key 'business_centers'; a fixture needs at least one "
                          "business center (the first is ours)");
    } else if (bcs->second->is_sequence() && bcs->second->items.empty()) {
      read_.error(*bcs->second, "business_centers",
                  "is empty; a fixture needs at least one business center (the first is ours)");
    }
    // An ad account's owner, unless given: the BC it is an OWNER_BC asset of.
    for (std::size_t i = 0; i < s_.advertisers.size(); ++i) {
      auto& a = s_.advertisers[i];
      if (owner_given_[i]) {
        continue;
      }
      const auto owner = std::find_if(s_.assets.begin(), s_.assets.end(), [&](const bc_asset& x) {
        return x.asset_id == a.advertiser_id && x.type == asset_type::advertiser &&
               x.relation == relation_type::owner_bc;
      });
      if (owner != s_.assets.end()) {
        a.owner_bc_id = owner->bc_id;
      }
    }
  }

 private:
  static constexpr std::array<std::string_view, 13> section_names{"apps",
                                                                  "users",
                                                                  "tokens",
                                                                  "business_centers",
                                                                  "advertisers",
                                                                  "tiktok_accounts",
                                                                  "assets",
                                                                  "partner_shares",
                                                                  "member_accesses",
                                                                  "bindings",
                                                                  "campaigns",
                                                                  "adgroups",
                                                                  "ads"};

  // Notes `id` as given at `n`; reports it and answers false when it is not new.
  bool register_id(const yaml_node& n, const std::string& path, const std::string& id,
                   id_index& index, std::size_t position, std::string_view kind) {
    const auto [at, added] = index.emplace(id, known_id{n.mark, position});
    if (!added) {
      read_.error(n, path,
                  quote(id) + " is already the ID of " + std::string(kind) + " (" +
                      line_of(at->second.mark) + "); each needs its own");
    }
    return added;
  }

  // The ID of a new thing of one kind.
  std::optional<std::string> new_id(const fields& f, std::string_view key, id_index& index,
                                    std::size_t position, std::string_view kind) {
    const auto* n = f.need(key);
    if (n == nullptr) {
      return std::nullopt;
    }
    auto id = read_.id(*n, f.path(key));
    if (!id || !register_id(*n, f.path(key), *id, index, position, kind)) {
      return std::nullopt;
    }
    return id;
  }

  // An ID that must name something listed under `section`.
  std::optional<std::string> reference(const fields& f, std::string_view key, const id_index& index,
                                       std::string_view kind, std::string_view section) {
    const auto* n = f.need(key);
    if (n == nullptr) {
      return std::nullopt;
    }
    return check_reference(*n, f.path(key), index, kind, section);
  }

  std::optional<std::string> check_reference(const yaml_node& n, const std::string& path,
                                             const id_index& index, std::string_view kind,
                                             std::string_view section) {
    auto id = read_.id(n, path);
    if (!id) {
      return std::nullopt;
    }
    if (!index.contains(*id)) {
      read_.error(n, path,
                  quote(*id) + " is not " + std::string(kind) + " of this fixture; list it under " +
                      std::string(section));
      return std::nullopt;
    }
    return id;
  }

  // A relationship (a key of IDs) listed once.
  bool register_relation(const yaml_node& n, const std::string& path, const std::string& key,
                         std::map<std::string, source_mark>& seen, std::string_view what) {
    const auto [at, added] = seen.emplace(key, n.mark);
    if (!added) {
      read_.error(
          n, path,
          std::string(what) + " is already listed (" + line_of(at->second) + "); list each once");
    }
    return added;
  }

  // The asset an item names, and its type: given by `asset_type`, or
  // inferred from the kind of thing the ID is.
  std::optional<std::pair<std::string, asset_type>> asset_reference(const fields& f,
                                                                    std::string_view id_key) {
    const auto* n = f.need(id_key);
    if (n == nullptr) {
      return std::nullopt;
    }
    const auto path = f.path(id_key);
    auto id = read_.id(*n, path);
    if (!id) {
      return std::nullopt;
    }
    const bool ad_account = advertisers_.contains(*id);
    const bool tiktok = tt_accounts_.contains(*id);
    std::optional<asset_type> type;
    if (const auto* t = f.get("asset_type")) {
      type = read_.one_of<asset_type>(*t, f.path("asset_type"), asset_type_choices);
      if (!type) {
        return std::nullopt;
      }
      if (*type == asset_type::advertiser && !ad_account) {
        read_.error(
            *n, path,
            quote(*id) + " is not an ad account of this fixture; list it under advertisers");
        return std::nullopt;
      }
      if (*type == asset_type::tt_account && !tiktok) {
        read_.error(
            *n, path,
            quote(*id) + " is not a TikTok account of this fixture; list it under tiktok_accounts");
        return std::nullopt;
      }
    } else if (ad_account && tiktok) {
      read_.error(*n, path,
                  quote(*id) +
                      " is both an ad account and a TikTok account; say which with asset_type: "
                      "ADVERTISER or TT_ACCOUNT");
      return std::nullopt;
    } else if (ad_account || tiktok) {
      type = ad_account ? asset_type::advertiser : asset_type::tt_account;
    } else {
      read_.error(*n, path,
                  quote(*id) +
                      " is neither an ad account (advertisers) nor a TikTok account "
                      "(tiktok_accounts) of this fixture");
      return std::nullopt;
    }
    return std::pair(std::move(*id), *type);
  }

  // Reports an asset that is not in the BC an item names.
  bool check_in_bc(const fields& f, std::string_view key, const std::string& bc_id,
                   const std::string& asset_id) {
    if (bc_assets_.contains(bc_id + "/" + asset_id)) {
      return true;
    }
    read_.error(*f.get(key), f.path(key),
                quote(asset_id) + " is not an asset of business center " + quote(bc_id) +
                    "; list it under assets with that bc_id first");
    return false;
  }

  // A value taken from elsewhere that the item may repeat, if it agrees.
  void check_same(const fields& f, std::string_view key, const std::string& expected,
                  std::string_view whose) {
    const auto* n = f.get(key);
    if (n == nullptr) {
      return;
    }
    const auto id = read_.id(*n, f.path(key));
    if (id && *id != expected) {
      read_.error(*n, f.path(key),
                  quote(*id) + " differs from " + std::string(key) + " " + quote(expected) +
                      " of its " + std::string(whose) + "; leave it out, it is taken from there");
    }
  }

  std::string text_or(const fields& f, std::string_view key, std::string fallback,
                      std::size_t max_chars = max_name_chars) {
    if (const auto* n = f.get(key)) {
      if (auto v = read_.text(*n, f.path(key), max_chars)) {
        return std::move(*v);
      }
    }
    return fallback;
  }

  template <class E, std::size_t N>
  E word_or(const fields& f, std::string_view key, const std::array<choice<E>, N>& choices,
            E fallback) {
    if (const auto* n = f.get(key)) {
      if (auto v = read_.one_of<E>(*n, f.path(key), std::span<const choice<E>>(choices))) {
        return *v;
      }
    }
    return fallback;
  }

  bool flag_or(const fields& f, std::string_view key, bool fallback) {
    if (const auto* n = f.get(key)) {
      if (auto v = read_.boolean(*n, f.path(key))) {
        return *v;
      }
    }
    return fallback;
  }

  double number_or(const fields& f, std::string_view key, double fallback) {
    const auto* n = f.get(key);
    if (n == nullptr) {
      return fallback;
    }
    double value = 0;
    if (n->is_scalar() && !n->quoted) {
      const char* begin = n->text.data();
      const char* end = begin + n->text.size();
      const auto [stop, ec] = std::from_chars(begin, end, value);
      if (ec == std::errc{} && stop == end && std::isfinite(value) && value >= 0 &&
          value <= max_budget) {
        return value;
      }
    }
    const std::string want = "a number from 0 to 1000000000000 (without quotes), e.g. 50 or 12.5";
    read_.error(*n, f.path(key),
                n->is_scalar() ? quote(n->text) + " is not " + want
                               : "must be " + want + ", not " + config::describe(*n));
    return fallback;
  }

  std::string time_or(const fields& f, std::string_view key, std::string fallback) {
    const auto* n = f.get(key);
    if (n == nullptr) {
      return fallback;
    }
    auto v = read_.text(*n, f.path(key), 19);
    if (v && is_timestamp(*v)) {
      return std::move(*v);
    }
    if (v) {
      read_.error(*n, f.path(key),
                  quote(*v) +
                      " is not a time written \"YYYY-MM-DD HH:MM:SS\" (as the API does), "
                      "e.g. \"2025-03-01 09:30:00\"");
    }
    return fallback;
  }

  void decode_app(const yaml_node& n, const std::string& path) {
    const fields f(read_, n, path, {"app_id", "secret"});
    if (!f.ok()) {
      return;
    }
    auto id = new_id(f, "app_id", apps_, s_.apps.size(), "an app");
    if (!id) {
      return;
    }
    auto secret = text_or(f, "secret", "sandbox-secret-" + *id, 4096);
    s_.apps.push_back({std::move(*id), std::move(secret)});
  }

  void decode_user(const yaml_node& n, const std::string& path) {
    const fields f(read_, n, path, {"user_id", "user_name", "user_email"});
    if (!f.ok()) {
      return;
    }
    auto id = new_id(f, "user_id", users_, s_.users.size(), "a user");
    if (!id) {
      return;
    }
    bc_user u;
    u.user_name = text_or(f, "user_name", "User " + *id);
    u.user_email = text_or(f, "user_email", "");
    u.user_id = std::move(*id);
    s_.users.push_back(std::move(u));
  }

  void decode_bc(const yaml_node& n, const std::string& path) {
    const fields f(read_, n, path, {"bc_id", "name", "company", "currency", "timezone", "roles"});
    if (!f.ok()) {
      return;
    }
    auto id = new_id(f, "bc_id", bcs_, s_.business_centers.size(), "a business center");
    if (!id) {
      return;
    }
    business_center bc;
    bc.name = text_or(f, "name", "Business Center " + *id);
    bc.company = text_or(f, "company", "");
    bc.currency = text_or(f, "currency", bc.currency, 8);
    bc.timezone = text_or(f, "timezone", bc.timezone, 64);
    bc.bc_id = std::move(*id);
    if (const auto* roles = f.get("roles"); roles != nullptr) {
      const auto roles_path = f.path("roles");
      if (read_.expect_mapping(*roles, roles_path)) {
        for (std::size_t i = 0; i < roles->mapping_size(); ++i) {
          const auto& key = roles->key(i);
          const auto user =
              check_reference(key, roles_path, users_, "a user", "users with its user_id");
          const auto role = read_.one_of<user_role>(
              roles->value(i), config::join_path(roles_path, key.text), std::span(role_choices));
          if (user && role) {
            bc.roles[*user] = *role;
          }
        }
      }
    }
    s_.business_centers.push_back(std::move(bc));
  }

  void decode_advertiser(const yaml_node& n, const std::string& path) {
    const fields f(read_, n, path,
                   {"advertiser_id", "name", "company", "status", "currency", "timezone",
                    "create_time", "owner_bc_id", "disabled_by_bc"});
    if (!f.ok()) {
      return;
    }
    auto id = new_id(f, "advertiser_id", advertisers_, s_.advertisers.size(), "an ad account");
    if (!id) {
      return;
    }
    advertiser a;
    a.name = text_or(f, "name", "Ad account " + *id);
    a.company = text_or(f, "company", "");
    a.status =
        std::string(word_or(f, "status", advertiser_status_choices, std::string_view(a.status)));
    a.currency = text_or(f, "currency", a.currency, 8);
    a.timezone = text_or(f, "timezone", a.timezone, 64);
    a.create_time = 1'700'000'000;
    if (const auto* t = f.get("create_time")) {
      if (const auto v = read_.count(*t, f.path("create_time"), 0, max_epoch_seconds)) {
        a.create_time = static_cast<std::int64_t>(*v);
      }
    }
    const bool owner_given = f.get("owner_bc_id") != nullptr;
    if (owner_given) {
      a.owner_bc_id =
          reference(f, "owner_bc_id", bcs_, "a business center", "business_centers").value_or("");
    }
    a.disabled_by_bc = flag_or(f, "disabled_by_bc", false);
    a.advertiser_id = std::move(*id);
    s_.advertisers.push_back(std::move(a));
    owner_given_.push_back(owner_given);
  }

  void decode_tiktok_account(const yaml_node& n, const std::string& path) {
    const fields f(read_, n, path, {"tt_account_id", "name"});
    if (!f.ok()) {
      return;
    }
    auto id =
        new_id(f, "tt_account_id", tt_accounts_, s_.tiktok_accounts.size(), "a TikTok account");
    if (!id) {
      return;
    }
    auto name = text_or(f, "name", "@" + *id);
    s_.tiktok_accounts.push_back({std::move(*id), std::move(name)});
  }

  void decode_token(const yaml_node& n, const std::string& path) {
    const fields f(read_, n, path, {"token", "app_id", "user_id", "revoked", "profile"});
    if (!f.ok()) {
      return;
    }
    access_token t;
    const auto* token_node = f.need("token");
    if (token_node != nullptr) {
      if (auto text = read_.text(*token_node, f.path("token"), 512)) {
        if (!is_token_text(*text)) {
          read_.error(*token_node, f.path("token"),
                      "must be visible ASCII without blanks: it is sent as the Access-Token "
                      "header");
        } else if (register_id(*token_node, f.path("token"), *text, tokens_, s_.tokens.size(),
                               "a token")) {
          t.token = std::move(*text);
        }
      }
    }
    t.app_id = reference(f, "app_id", apps_, "an app", "apps").value_or("");
    t.user_id = reference(f, "user_id", users_, "a user", "users").value_or("");
    t.revoked = flag_or(f, "revoked", false);
    if (t.token.empty()) {
      return;
    }
    std::string profile = default_profile(s_.tokens.size());
    const yaml_node* profile_node = f.get("profile");
    if (profile_node != nullptr) {
      if (auto v = read_.text(*profile_node, f.path("profile"), 64)) {
        if (config::is_valid_profile_name(*v)) {
          profile = std::move(*v);
        } else {
          read_.error(*profile_node, f.path("profile"),
                      quote(*v) +
                          " is not a profile name (letters, digits, '.', '_' and '-', starting "
                          "with a letter or digit)");
        }
      }
    }
    const auto [at, added] =
        profiles_.emplace(profile, profile_node != nullptr ? profile_node->mark : n.mark);
    if (!added) {
      read_.error(profile_node != nullptr ? *profile_node : n,
                  profile_node != nullptr ? f.path("profile") : path,
                  "the credentials profile " + quote(profile) + " is already another token's (" +
                      line_of(at->second) + "); give this token its own profile:");
    }
    s_.tokens.push_back(std::move(t));
    out_.profiles.push_back(std::move(profile));
  }

  void decode_asset(const yaml_node& n, const std::string& path) {
    const fields f(read_, n, path, {"bc_id", "asset_id", "asset_type", "relation_type"});
    if (!f.ok()) {
      return;
    }
    const auto bc = reference(f, "bc_id", bcs_, "a business center", "business_centers");
    auto asset = asset_reference(f, "asset_id");
    const auto relation = word_or(f, "relation_type", relation_choices, relation_type::owner_bc);
    if (!bc || !asset) {
      return;
    }
    if (!register_relation(*f.get("asset_id"), f.path("asset_id"), *bc + "/" + asset->first,
                           bc_assets_, "this asset of business center " + quote(*bc))) {
      return;
    }
    s_.assets.push_back({*bc, std::move(asset->first), asset->second, relation});
  }

  void decode_partner_share(const yaml_node& n, const std::string& path) {
    const fields f(read_, n, path, {"bc_id", "partner_id", "asset_id", "asset_type"});
    if (!f.ok()) {
      return;
    }
    const auto bc = reference(f, "bc_id", bcs_, "a business center", "business_centers");
    auto partner = reference(f, "partner_id", bcs_, "a business center", "business_centers");
    if (bc && partner && *bc == *partner) {
      read_.error(*f.get("partner_id"), f.path("partner_id"),
                  "is the sharing business center itself; a partner is another business center");
      partner.reset();
    }
    auto asset = asset_reference(f, "asset_id");
    if (!bc || !partner || !asset || !check_in_bc(f, "asset_id", *bc, asset->first) ||
        !register_relation(*f.get("asset_id"), f.path("asset_id"),
                           *bc + "/" + *partner + "/" + asset->first, shares_, "this share")) {
      return;
    }
    s_.partner_shares.push_back({*bc, std::move(*partner), std::move(asset->first), asset->second});
  }

  void decode_member_access(const yaml_node& n, const std::string& path) {
    const fields f(read_, n, path,
                   {"bc_id", "user_id", "asset_id", "asset_type", "advertiser_role"});
    if (!f.ok()) {
      return;
    }
    const auto bc = reference(f, "bc_id", bcs_, "a business center", "business_centers");
    auto user = reference(f, "user_id", users_, "a user", "users");
    if (bc && user && !s_.role_of(*bc, *user)) {
      read_.error(*f.get("user_id"), f.path("user_id"),
                  quote(*user) + " is not a member of business center " + quote(*bc) +
                      "; give it a role under that business center's roles");
      user.reset();
    }
    auto asset = asset_reference(f, "asset_id");
    const auto role =
        word_or(f, "advertiser_role", advertiser_role_choices, std::string_view("ADMIN"));
    if (!bc || !user || !asset || !check_in_bc(f, "asset_id", *bc, asset->first) ||
        !register_relation(*f.get("asset_id"), f.path("asset_id"),
                           *bc + "/" + *user + "/" + asset->first, accesses_,
                           "this member's access")) {
      return;
    }
    s_.member_accesses.push_back(
        {*bc, std::move(*user), std::move(asset->first), asset->second, std::string(role)});
  }

  void decode_binding(const yaml_node& n, const std::string& path) {
    const fields f(read_, n, path, {"bc_id", "tt_account_id", "advertiser_id"});
    if (!f.ok()) {
      return;
    }
    const auto bc = reference(f, "bc_id", bcs_, "a business center", "business_centers");
    auto tiktok =
        reference(f, "tt_account_id", tt_accounts_, "a TikTok account", "tiktok_accounts");
    auto ad_account = reference(f, "advertiser_id", advertisers_, "an ad account", "advertisers");
    if (!bc || !tiktok || !ad_account) {
      return;
    }
    const bool in_bc = check_in_bc(f, "tt_account_id", *bc, *tiktok);
    if (!check_in_bc(f, "advertiser_id", *bc, *ad_account) || !in_bc ||
        !register_relation(*f.get("tt_account_id"), f.path("tt_account_id"),
                           *bc + "/" + *tiktok + "/" + *ad_account, bindings_, "this binding")) {
      return;
    }
    s_.bindings.push_back({*bc, std::move(*tiktok), std::move(*ad_account)});
  }

  void decode_campaign(const yaml_node& n, const std::string& path) {
    const fields f(read_, n, path,
                   {"campaign_id", "advertiser_id", "name", "operation_status", "objective_type",
                    "budget_mode", "budget", "create_time", "modify_time"});
    if (!f.ok()) {
      return;
    }
    auto id = new_id(f, "campaign_id", campaigns_, s_.campaigns.size(), "a campaign");
    auto ad_account = reference(f, "advertiser_id", advertisers_, "an ad account", "advertisers");
    campaign c;
    c.name = text_or(f, "name", "Campaign " + id.value_or(""));
    c.status = word_or(f, "operation_status", status_choices, c.status);
    c.objective_type = text_or(f, "objective_type", c.objective_type, 64);
    c.budget_mode = std::string(
        word_or(f, "budget_mode", budget_mode_choices, std::string_view(c.budget_mode)));
    c.budget = number_or(f, "budget", c.budget);
    c.create_time = time_or(f, "create_time", default_time);
    c.modify_time = time_or(f, "modify_time", c.create_time);
    if (!id) {
      return;
    }
    // A campaign whose ad account is wrong is still noted, so that its ad
    // groups are not reported too.
    c.campaign_id = std::move(*id);
    c.advertiser_id = ad_account.value_or("");
    s_.campaigns.push_back(std::move(c));
  }

  void decode_adgroup(const yaml_node& n, const std::string& path) {
    const fields f(read_, n, path,
                   {"adgroup_id", "campaign_id", "advertiser_id", "name", "operation_status"});
    if (!f.ok()) {
      return;
    }
    auto id = new_id(f, "adgroup_id", adgroups_, s_.adgroups.size(), "an ad group");
    const auto parent = reference(f, "campaign_id", campaigns_, "a campaign", "campaigns");
    adgroup g;
    if (parent) {
      const auto& c = s_.campaigns[campaigns_.find(*parent)->second.index];
      g.campaign_id = c.campaign_id;
      g.advertiser_id = c.advertiser_id;
      g.status = c.status;
      check_same(f, "advertiser_id", c.advertiser_id, "campaign");
    }
    g.name = text_or(f, "name", "Ad group " + id.value_or(""));
    g.status = word_or(f, "operation_status", status_choices, g.status);
    if (!id) {
      return;
    }
    g.adgroup_id = std::move(*id);
    s_.adgroups.push_back(std::move(g));
  }

  void decode_ad(const yaml_node& n, const std::string& path) {
    const fields f(
        read_, n, path,
        {"ad_id", "adgroup_id", "campaign_id", "advertiser_id", "name", "operation_status"});
    if (!f.ok()) {
      return;
    }
    auto id = new_id(f, "ad_id", ads_, s_.ads.size(), "an ad");
    const auto parent = reference(f, "adgroup_id", adgroups_, "an ad group", "adgroups");
    ad x;
    if (parent) {
      const auto& g = s_.adgroups[adgroups_.find(*parent)->second.index];
      x.adgroup_id = g.adgroup_id;
      x.campaign_id = g.campaign_id;
      x.advertiser_id = g.advertiser_id;
      x.status = g.status;
      check_same(f, "campaign_id", g.campaign_id, "ad group");
      check_same(f, "advertiser_id", g.advertiser_id, "ad group");
    }
    x.name = text_or(f, "name", "Ad " + id.value_or(""));
    x.status = word_or(f, "operation_status", status_choices, x.status);
    if (!id) {
      return;
    }
    x.ad_id = std::move(*id);
    s_.ads.push_back(std::move(x));
  }

  config::value_reader read_;
  fixture_result& out_;
  sandbox_state& s_;
  id_index apps_;
  id_index users_;
  id_index bcs_;
  id_index advertisers_;
  id_index tt_accounts_;
  id_index tokens_;
  id_index campaigns_;
  id_index adgroups_;
  id_index ads_;
  std::vector<bool> owner_given_;  // per advertiser: owner_bc_id was written
  std::map<std::string, source_mark> profiles_;
  std::map<std::string, source_mark> bc_assets_;  // "BC/ASSET"
  std::map<std::string, source_mark> shares_;     // "BC/PARTNER/ASSET"
  std::map<std::string, source_mark> accesses_;   // "BC/USER/ASSET"
  std::map<std::string, source_mark> bindings_;   // "BC/TT_ACCOUNT/ADVERTISER"
};

}  // namespace

fixture_result load_fixture(std::string_view bytes, std::string file_name) {
  fixture_result out{sandbox_state{}, config::diagnostics(std::move(file_name)), {}};
  config::yaml_limits limits;
  limits.max_bytes = max_fixture_bytes;
  limits.size_advice = "a fixture is a hand-written world; generate large ones with --accounts N";
  const auto root = config::read_yaml(bytes, limits, out.problems);
  if (root) {
    fixture_decoder(out).decode(*root);
  }
  out.problems.sort_by_position();  // in the order people read the file
  out.problems.set_text({});        // `bytes` may go away; no more marks to place
  return out;
}

fixture_result load_fixture_file(const std::string& path) {
  auto file = config::read_regular_file(path, max_fixture_bytes);
  if (!file.value) {
    fixture_result out{sandbox_state{}, config::diagnostics(path), {}};
    out.problems.file_error(file.error);
    return out;
  }
  return load_fixture(file.value->bytes, path);
}

}  // namespace unlinkd::sandbox
