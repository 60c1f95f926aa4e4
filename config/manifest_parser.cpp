#include "config/manifest_parser.hpp"

#include <algorithm>
#include <array>
#include <numeric>
#include <utility>

#include "config/scalars.hpp"
#include "config/value_reader.hpp"
#include "config/yaml_reader.hpp"

namespace unlinkd::config {

std::string_view to_string(account_type t) {
  return t == account_type::advertiser ? "advertiser" : "tiktok_account";
}

std::string_view to_string(unlink_mode m) {
  switch (m) {
    case unlink_mode::partner_share:
      return "partner_share";
    case unlink_mode::member_access:
      return "member_access";
    case unlink_mode::bc_asset:
      return "bc_asset";
    case unlink_mode::tiktok_binding:
      return "tiktok_binding";
  }
  return "?";
}

std::string_view to_string(batch_action a) {
  return a == batch_action::unlink ? "unlink" : "pause";
}

std::string_view to_string(campaign_policy p) {
  switch (p) {
    case campaign_policy::pause:
      return "pause";
    case campaign_policy::fail:
      return "fail";
    case campaign_policy::ignore:
      return "ignore";
  }
  return "?";
}

account_type account_type_of(unlink_mode m) {
  return m == unlink_mode::partner_share || m == unlink_mode::member_access
             ? account_type::advertiser
             : account_type::tiktok_account;
}

std::chrono::year_month_day utc_today() {
  return std::chrono::year_month_day{
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
}

namespace {

using std::chrono::milliseconds;
using std::chrono::year_month_day;

constexpr std::size_t max_label_chars = 256;
constexpr std::size_t max_members = 100;
constexpr std::size_t max_notify = 10;
constexpr std::uint64_t max_concurrency = 10'000;
constexpr std::uint64_t max_retry_attempts = 100;

constexpr std::array<choice<unlink_mode>, 6> unlink_choices{{
    {"partner_share", unlink_mode::partner_share, {}},
    {"member_access", unlink_mode::member_access, {}},
    {"bc_asset", unlink_mode::bc_asset, {}},
    {"tiktok_binding", unlink_mode::tiktok_binding, {}},
    {"switch_to_personal",
     {},
     "TikTok offers no API to switch a business account to personal; the account holder does it "
     "in the TikTok app"},
    {"remove_owned",
     {},
     "an ad account owned by the Business Center cannot leave it through the API; ownership "
     "changes go through TikTok support"},
}};

constexpr std::array<choice<batch_action>, 4> action_choices{{
    {"unlink", batch_action::unlink, {}},
    {"pause", batch_action::pause, {}},
    {"disable",
     {},
     "disabling an ad account is irreversible and unlinkd never does it; use action: pause to "
     "stop delivery and keep the links"},
    {"delete",
     {},
     "deleting is irreversible and unlinkd never does it; use action: unlink to end the "
     "relationship, or action: pause to stop delivery"},
}};

constexpr std::array<choice<account_type>, 2> type_choices{{
    {"advertiser", account_type::advertiser, {}},
    {"tiktok_account", account_type::tiktok_account, {}},
}};

constexpr std::array<choice<campaign_policy>, 3> campaign_choices{{
    {"pause", campaign_policy::pause, {}},
    {"fail", campaign_policy::fail, {}},
    {"ignore", campaign_policy::ignore, {}},
}};

// The keys an account may set itself or inherit from `defaults:`. Each has a
// bit (to know what an account set itself) and a slot for its position.
enum setting : std::uint8_t {
  s_unlink,
  s_partner_id,
  s_members,
  s_advertiser_id,
  s_active_campaigns,
  s_backup_required,
  s_reports_since,
  s_reports_until,
  s_verify_deadline,
  setting_count
};

constexpr std::array<std::string_view, setting_count> setting_names{"unlink",
                                                                    "partner_id",
                                                                    "members",
                                                                    "advertiser_id",
                                                                    "active_campaigns",
                                                                    "backup.required",
                                                                    "backup.reports_since",
                                                                    "backup.reports_until",
                                                                    "verify_deadline"};

struct settings {
  std::optional<unlink_mode> mode;
  std::optional<std::string> partner_id;
  std::optional<std::vector<std::string>> members;
  std::optional<std::string> advertiser_id;
  std::optional<campaign_policy> active_campaigns;
  std::optional<bool> backup_required;
  std::optional<year_month_day> reports_since;
  std::optional<year_month_day> reports_until;
  std::optional<milliseconds> verify_deadline;
  std::array<source_mark, setting_count> marks{};
};

// Where an account's parts were written, kept until the checks that need
// `defaults:` have run.
struct account_origin {
  source_mark item;
  source_mark id;
  source_mark type;
  std::uint16_t own = 0;  // bit i: the account set setting i itself
  bool checked = false;   // read without problems; the checks after reading apply
  std::array<source_mark, setting_count> marks{};

  [[nodiscard]] bool has(setting s) const { return (own & (1U << s)) != 0; }
  [[nodiscard]] source_mark at(setting s) const { return has(s) ? marks[s] : item; }
};

std::string mode_list_for(account_type t) {
  return t == account_type::advertiser ? "partner_share or member_access"
                                       : "bc_asset or tiktok_binding";
}

class manifest_decoder {
 public:
  manifest_decoder(diagnostics& diags, const manifest_options& options, year_month_day today)
      : read_(diags), options_(options), today_(today) {}

  // Called for each item of `accounts:` as the YAML is read.
  bool on_account(yaml_node&& item, std::size_t index) {
    if (index >= options_.max_accounts) {
      read_.error(item, "accounts",
                  "more than " + std::to_string(options_.max_accounts) +
                      " accounts (max_accounts_per_manifest); split them over several manifests");
      return false;
    }
    ++accounts_seen_;
    decode_account(item, index);
    // Read on once the report is full: the problems past the cap are still
    // counted, so the report can say how many were left out. It costs what
    // a valid file of this size costs.
    return true;
  }

  std::optional<manifest> finish(std::optional<yaml_node> root) {
    if (!root) {
      return std::nullopt;
    }
    if (root->is_null()) {
      read_.diags().error_at(1, 1,
                             "the file is empty; a manifest needs at least version, batch, "
                             "credentials, business_center_id and accounts");
      return std::nullopt;
    }
    if (!root->is_mapping()) {
      read_.error(*root, "(top level)",
                  std::string("must be a mapping with keys version, batch, credentials, "
                              "business_center_id and accounts, not ") +
                      describe(*root));
      return std::nullopt;
    }
    decode_top_level(*root);
    resolve_accounts();
    check_duplicate_ids();
    read_.diags().sort_by_position();
    if (!read_.diags().empty()) {
      return std::nullopt;
    }
    result_.accounts = std::move(accounts_);
    return std::move(result_);
  }

 private:
  void decode_top_level(const yaml_node& root) {
    bool has_version = false;
    bool has_batch = false;
    bool has_credentials = false;
    bool has_bc = false;
    bool has_accounts = false;
    for (std::size_t i = 0; i < root.mapping_size(); ++i) {
      const auto& key = root.key(i);
      const auto& value = root.value(i);
      const std::string_view k = key.text;
      if (k == "version") {
        has_version = true;
        decode_version(value);
      } else if (k == "batch") {
        has_batch = true;
        if (auto v = read_.text(value, k, 64)) {
          if (is_valid_batch_name(*v)) {
            result_.batch = std::move(*v);
          } else {
            read_.error(value, k,
                        quote(*v) +
                            " is not a batch name; use 1 to 64 of a-z, 0-9, '.', '_' and '-', "
                            "starting with a letter or digit (e.g. acme-offboarding-2026-11)");
          }
        }
      } else if (k == "requested_by") {
        if (auto v = read_.text(value, k, max_label_chars)) {
          result_.requested_by = std::move(*v);
        }
      } else if (k == "credentials") {
        has_credentials = true;
        if (auto v = read_.text(value, k, 64)) {
          if (is_valid_profile_name(*v)) {
            check_profile_exists(value, *v);
            result_.credentials = std::move(*v);
          } else {
            read_.error(value, k,
                        quote(*v) +
                            " is not a profile name; use the name of a profile in the "
                            "credentials file (letters, digits, '.', '_', '-'); tokens never go "
                            "in a manifest");
          }
        }
      } else if (k == "business_center_id") {
        has_bc = true;
        if (auto v = read_.id(value, k)) {
          result_.business_center_id = std::move(*v);
        }
      } else if (k == "action") {
        if (auto v = read_.one_of<batch_action>(value, k, action_choices)) {
          result_.action = *v;
        }
      } else if (k == "dry_run") {
        if (auto v = read_.boolean(value, k)) {
          result_.dry_run = *v;
        }
      } else if (k == "notify") {
        decode_notify(value);
      } else if (k == "defaults") {
        decode_defaults(value);
      } else if (k == "limits") {
        decode_limits(value);
      } else if (k == "retry") {
        decode_retry(value);
      } else if (k == "accounts") {
        has_accounts = true;
        if (read_.expect_sequence(value, k) && accounts_seen_ == 0) {
          read_.error(value, k, "the list is empty; a manifest needs at least one account");
        }
      } else {
        read_.unknown_key(
            key, "",
            {"version", "batch", "requested_by", "credentials", "business_center_id", "action",
             "dry_run", "notify", "defaults", "limits", "retry", "accounts"});
      }
    }
    const auto require = [&](bool present, std::string_view key, std::string_view example) {
      if (!present) {
        read_.diags().error(root.mark, "missing required key '" + std::string(key) +
                                           "'; add it at the top level, e.g. " +
                                           std::string(example));
      }
    };
    require(has_version, "version", "version: 1");
    require(has_batch, "batch", "batch: acme-offboarding-2026-11");
    require(has_credentials, "credentials", "credentials: acme-bc");
    require(has_bc, "business_center_id", "business_center_id: \"7012345678901234567\"");
    require(has_accounts, "accounts",
            "accounts: [{id: \"7123456789012345678\", type: advertiser}]");
  }

  void check_profile_exists(const yaml_node& value, const std::string& name) {
    const auto& known = options_.known_profiles;
    if (!known || std::find(known->begin(), known->end(), name) != known->end()) {
      return;
    }
    std::string list;
    for (const auto& p : *known) {
      list += list.empty() ? "" : ", ";
      list += p;
    }
    read_.error(value, "credentials",
                "no profile " + quote(name) + " in the credentials file" +
                    (list.empty() ? std::string(", which has none") : "; it has " + list));
  }

  void decode_version(const yaml_node& value) {
    if (!value.is_scalar() || value.quoted) {
      read_.error(value, "version", "must be the number 1, without quotes");
      return;
    }
    if (value.text != "1") {
      read_.error(value, "version",
                  "manifest version " + quote(value.text) +
                      " is not supported; this unlinkd reads version 1");
    }
  }

  void decode_notify(const yaml_node& value) {
    if (!read_.expect_sequence(value, "notify")) {
      return;
    }
    if (value.items.size() > max_notify) {
      read_.error(value, "notify",
                  "lists " + std::to_string(value.items.size()) + " URLs; at most " +
                      std::to_string(max_notify) + " are allowed");
      return;
    }
    for (std::size_t i = 0; i < value.items.size(); ++i) {
      if (auto url = read_.url(value.items[i], index_path("notify", i))) {
        result_.notify.push_back(std::move(*url));
      }
    }
  }

  void decode_limits(const yaml_node& value) {
    if (!read_.expect_mapping(value, "limits")) {
      return;
    }
    for (std::size_t i = 0; i < value.mapping_size(); ++i) {
      if (value.key(i).text == "concurrency") {
        if (auto v = read_.count(value.value(i), "limits.concurrency", 1, max_concurrency)) {
          result_.concurrency = static_cast<std::uint32_t>(*v);
        }
      } else {
        read_.unknown_key(value.key(i), "limits", {"concurrency"});
      }
    }
  }

  void decode_retry(const yaml_node& value) {
    if (!read_.expect_mapping(value, "retry")) {
      return;
    }
    auto& retry = result_.retry;
    const yaml_node* max_backoff_node = nullptr;
    for (std::size_t i = 0; i < value.mapping_size(); ++i) {
      const std::string_view k = value.key(i).text;
      const auto& v = value.value(i);
      const auto path = join_path("retry", k);
      if (k == "max_attempts") {
        if (auto n = read_.count(v, path, 1, max_retry_attempts)) {
          retry.max_attempts = static_cast<std::uint32_t>(*n);
        }
      } else if (k == "initial_backoff") {
        retry.initial_backoff = read_.duration(v, path, milliseconds(10), std::chrono::hours(1));
      } else if (k == "max_backoff") {
        max_backoff_node = &v;
        retry.max_backoff = read_.duration(v, path, milliseconds(100), std::chrono::hours(24));
      } else {
        read_.unknown_key(value.key(i), "retry",
                          {"max_attempts", "initial_backoff", "max_backoff"});
      }
    }
    if (retry.initial_backoff && retry.max_backoff && *retry.max_backoff < *retry.initial_backoff) {
      // A repeated `retry:` may leave max_backoff from the first one: no node here.
      read_.error(max_backoff_node != nullptr ? *max_backoff_node : value, "retry.max_backoff",
                  "is shorter than retry.initial_backoff; the backoff grows from the initial "
                  "value up to this cap");
    }
  }

  // A key that `defaults:` and accounts share. Returns false when `key` is
  // not one of them.
  bool decode_setting(const yaml_node& key, const yaml_node& value, std::string_view path,
                      settings& out, std::uint16_t& set_mask) {
    const std::string_view k = key.text;
    const auto p = join_path(path, k);
    const auto mark = [&](setting s) {
      out.marks[s] = key.mark;
      set_mask = static_cast<std::uint16_t>(set_mask | (1U << s));
    };
    if (k == "unlink") {
      mark(s_unlink);
      out.mode = read_.one_of<unlink_mode>(value, p, unlink_choices);
    } else if (k == "partner_id") {
      mark(s_partner_id);
      out.partner_id = read_.id(value, p);
    } else if (k == "members") {
      mark(s_members);
      out.members = decode_members(value, p);
    } else if (k == "advertiser_id") {
      mark(s_advertiser_id);
      out.advertiser_id = read_.id(value, p);
    } else if (k == "active_campaigns") {
      mark(s_active_campaigns);
      out.active_campaigns = read_.one_of<campaign_policy>(value, p, campaign_choices);
    } else if (k == "verify_deadline") {
      mark(s_verify_deadline);
      out.verify_deadline =
          read_.duration(value, p, std::chrono::seconds(1), std::chrono::hours(24));
    } else if (k == "backup") {
      decode_backup(value, p, out, set_mask);
    } else {
      return false;
    }
    return true;
  }

  std::optional<std::vector<std::string>> decode_members(const yaml_node& value,
                                                         std::string_view path) {
    if (!read_.expect_sequence(value, path)) {
      return std::nullopt;
    }
    if (value.items.empty() || value.items.size() > max_members) {
      read_.error(value, path,
                  "must list 1 to " + std::to_string(max_members) +
                      " BC user IDs whose access to the account is removed");
      return std::nullopt;
    }
    std::vector<std::string> members;
    bool ok = true;
    for (std::size_t i = 0; i < value.items.size(); ++i) {
      auto id = read_.id(value.items[i], index_path(path, i));
      if (!id) {
        ok = false;
        continue;
      }
      if (std::find(members.begin(), members.end(), *id) != members.end()) {
        read_.error(value.items[i], index_path(path, i),
                    "user " + *id + " is listed twice; list each member once");
        ok = false;
        continue;
      }
      members.push_back(std::move(*id));
    }
    return ok ? std::optional(std::move(members)) : std::nullopt;
  }

  void decode_backup(const yaml_node& value, std::string_view path, settings& out,
                     std::uint16_t& set_mask) {
    if (!read_.expect_mapping(value, path)) {
      return;
    }
    for (std::size_t i = 0; i < value.mapping_size(); ++i) {
      const auto& key = value.key(i);
      const auto& v = value.value(i);
      const auto p = join_path(path, key.text);
      const auto mark = [&](setting s) {
        out.marks[s] = key.mark;
        set_mask = static_cast<std::uint16_t>(set_mask | (1U << s));
      };
      if (key.text == "required") {
        mark(s_backup_required);
        out.backup_required = read_.boolean(v, p);
      } else if (key.text == "reports_since") {
        mark(s_reports_since);
        out.reports_since = read_.date(v, p);
      } else if (key.text == "reports_until") {
        mark(s_reports_until);
        out.reports_until = read_.date(v, p);
      } else {
        read_.unknown_key(key, path, {"required", "reports_since", "reports_until"});
      }
    }
  }

  void decode_defaults(const yaml_node& value) {
    if (!read_.expect_mapping(value, "defaults")) {
      return;
    }
    std::uint16_t& set_mask = defaults_set_;
    for (std::size_t i = 0; i < value.mapping_size(); ++i) {
      const auto& key = value.key(i);
      if (decode_setting(key, value.value(i), "defaults", defaults_, set_mask)) {
        continue;
      }
      if (key.text == "id" || key.text == "type" || key.text == "label") {
        read_.diags().error(key.mark, "defaults: '" + key.text +
                                          "' cannot have a default; each account states its "
                                          "own " +
                                          key.text);
      } else {
        read_.unknown_key(key, "defaults",
                          {"unlink", "partner_id", "members", "advertiser_id", "active_campaigns",
                           "backup", "verify_deadline"});
      }
    }
  }

  void decode_account(const yaml_node& item, std::size_t index) {
    const auto path = index_path("accounts", index);
    if (!item.is_mapping()) {
      read_.error(item, path,
                  std::string("each account must be a mapping with at least id and type, not ") +
                      describe(item));
      return;
    }
    const std::size_t problems_before = read_.diags().items().size() + read_.diags().dropped();
    account a;
    account_origin origin;
    origin.item = item.mark;
    settings own;
    bool has_id = false;
    bool has_type = false;
    for (std::size_t i = 0; i < item.mapping_size(); ++i) {
      const auto& key = item.key(i);
      const auto& value = item.value(i);
      const auto p = join_path(path, key.text);
      if (key.text == "id") {
        has_id = true;
        origin.id = value.mark;
        if (auto id = read_.id(value, p)) {
          a.id = std::move(*id);
        }
      } else if (key.text == "type") {
        has_type = true;
        origin.type = value.mark;
        if (auto t = read_.one_of<account_type>(value, p, type_choices)) {
          a.type = *t;
        }
      } else if (key.text == "label") {
        if (auto label = read_.text(value, p, max_label_chars)) {
          a.label = std::move(*label);
        }
      } else if (!decode_setting(key, value, path, own, origin.own)) {
        read_.unknown_key(key, path,
                          {"id", "type", "label", "unlink", "partner_id", "members",
                           "advertiser_id", "active_campaigns", "backup", "verify_deadline"});
      }
    }
    if (!has_id) {
      read_.error(item, path, "missing required key 'id' (the account's ID, in quotes)");
    }
    if (!has_type) {
      read_.error(item, path, "missing required key 'type' (advertiser or tiktok_account)");
    }
    // An account already found wrong skips the checks that need defaults:
    // (they would only repeat it) but its ID still counts for duplicates.
    origin.checked = read_.diags().items().size() + read_.diags().dropped() == problems_before;
    if (a.id.empty()) {
      return;
    }
    a.mode = own.mode;
    if (own.partner_id) {
      a.partner_id = std::move(*own.partner_id);
    }
    if (own.members) {
      a.members = std::move(*own.members);
    }
    if (own.advertiser_id) {
      a.advertiser_id = std::move(*own.advertiser_id);
    }
    if (own.active_campaigns) {
      a.active_campaigns = *own.active_campaigns;
    }
    if (own.backup_required) {
      a.backup.required = *own.backup_required;
    }
    if (own.reports_since) {
      a.backup.reports_since = *own.reports_since;
    }
    if (own.reports_until) {
      a.backup.reports_until = *own.reports_until;
    }
    if (own.verify_deadline) {
      a.verify_deadline = *own.verify_deadline;
    }
    origin.marks = own.marks;
    accounts_.push_back(std::move(a));
    origins_.push_back(origin);
    indices_.push_back(index);
  }

  // Fills what each account left to `defaults:` and checks what only the
  // whole account can tell: the mode against the type, the mode's parameter,
  // the report range.
  void resolve_accounts() {
    const auto since_default =
        year_month_day{std::chrono::sys_days{today_} - std::chrono::days(365)};
    const auto until_default = year_month_day{std::chrono::sys_days{today_} - std::chrono::days(1)};
    const bool pausing = result_.action == batch_action::pause;
    const std::uint16_t broken = broken_defaults();
    for (std::size_t i = 0; i < accounts_.size(); ++i) {
      account& a = accounts_[i];
      const account_origin& o = origins_[i];
      if (!o.checked) {
        continue;
      }
      const auto path = index_path("accounts", indices_[i]);
      const auto fill = [&](setting s, auto& field, const auto& fallback) {
        if (!o.has(s) && fallback) {
          field = *fallback;
        }
      };
      if (!o.has(s_unlink)) {
        a.mode = defaults_.mode;
      }
      fill(s_partner_id, a.partner_id, defaults_.partner_id);
      fill(s_members, a.members, defaults_.members);
      fill(s_advertiser_id, a.advertiser_id, defaults_.advertiser_id);
      fill(s_backup_required, a.backup.required, defaults_.backup_required);
      fill(s_verify_deadline, a.verify_deadline, defaults_.verify_deadline);
      if (!o.has(s_active_campaigns)) {
        a.active_campaigns = defaults_.active_campaigns.value_or(pausing ? campaign_policy::pause
                                                                         : campaign_policy::fail);
      }
      a.backup.reports_since = o.has(s_reports_since)
                                   ? a.backup.reports_since
                                   : defaults_.reports_since.value_or(since_default);
      a.backup.reports_until = o.has(s_reports_until)
                                   ? a.backup.reports_until
                                   : defaults_.reports_until.value_or(until_default);
      // Like an account's own problems, a setting refused under defaults:
      // skips the checks it feeds: they would only repeat it, once per
      // account (as "has no unlink mode" for a mistyped defaults.unlink).
      check_account(a, o, path, pausing, static_cast<std::uint16_t>(broken & ~o.own));
    }
  }

  // The settings written under defaults: whose value was refused.
  [[nodiscard]] std::uint16_t broken_defaults() const {
    const std::array<bool, setting_count> has_value{defaults_.mode.has_value(),
                                                    defaults_.partner_id.has_value(),
                                                    defaults_.members.has_value(),
                                                    defaults_.advertiser_id.has_value(),
                                                    defaults_.active_campaigns.has_value(),
                                                    defaults_.backup_required.has_value(),
                                                    defaults_.reports_since.has_value(),
                                                    defaults_.reports_until.has_value(),
                                                    defaults_.verify_deadline.has_value()};
    std::uint16_t broken = 0;
    for (std::size_t s = 0; s < setting_count; ++s) {
      if ((defaults_set_ & (1U << s)) != 0 && !has_value[s]) {
        broken = static_cast<std::uint16_t>(broken | (1U << s));
      }
    }
    return broken;
  }

  // The position of a setting an account may have inherited: its own key,
  // else the key under defaults:, else the account's entry.
  source_mark where(const account_origin& o, setting s, bool from_defaults) const {
    if (o.has(s)) {
      return o.marks[s];
    }
    return from_defaults ? defaults_.marks[s] : o.item;
  }

  void check_account(const account& a, const account_origin& o, const std::string& path,
                     bool pausing, std::uint16_t refused) {
    auto& d = read_.diags();
    const std::string who = path + " (" + a.id + ")";
    const auto ok = [&](setting s) { return (refused & (1U << s)) == 0; };
    if (pausing && a.active_campaigns != campaign_policy::pause && ok(s_active_campaigns)) {
      d.error(where(o, s_active_campaigns, true),
              who +
                  ": with action: pause, active_campaigns must be pause, since pausing "
                  "campaigns is what the batch does; remove active_campaigns: " +
                  std::string(to_string(a.active_campaigns)));
    }
    if (!ok(s_unlink)) {
      // the mode was refused under defaults:; nothing to check it against
    } else if (!a.mode) {
      if (!pausing) {
        d.error(o.item,
                who +
                    ": has no unlink mode; set unlink: on the account or under "
                    "defaults: (for a" +
                    (a.type == account_type::advertiser ? "n advertiser: " : " tiktok_account: ") +
                    mode_list_for(a.type) + ")");
      }
    } else {
      check_mode(a, o, who, refused);
    }
    if (ok(s_reports_since) && ok(s_reports_until) &&
        std::chrono::sys_days{a.backup.reports_since} >
            std::chrono::sys_days{a.backup.reports_until}) {
      const bool own_until = o.has(s_reports_until);
      const bool own_since = o.has(s_reports_since);
      // Point at an end someone wrote: the account's own first, else the one
      // under defaults: (whose key has a position only when it was set).
      const setting s = own_until                 ? s_reports_until
                        : own_since               ? s_reports_since
                        : defaults_.reports_until ? s_reports_until
                                                  : s_reports_since;
      const bool explicit_somewhere =
          own_until || own_since || defaults_.reports_since || defaults_.reports_until;
      d.error(explicit_somewhere ? where(o, s, true) : o.item,
              who + ": backup.reports_since (" + format_date(a.backup.reports_since) +
                  ") is after backup.reports_until (" + format_date(a.backup.reports_until) +
                  "); the report range must run forwards");
    }
  }

  void check_mode(const account& a, const account_origin& o, const std::string& who,
                  std::uint16_t refused) {
    auto& d = read_.diags();
    const unlink_mode mode = *a.mode;
    const std::string mode_name(to_string(mode));
    if (account_type_of(mode) != a.type) {
      d.error(o.has(s_unlink) ? o.marks[s_unlink] : o.type,
              who + ": unlink: " + mode_name + " applies to " +
                  std::string(to_string(account_type_of(mode))) + " accounts, but this one is " +
                  (a.type == account_type::advertiser ? "an advertiser" : "a tiktok_account") +
                  "; use " + mode_list_for(a.type));
      return;
    }
    const auto need = [&](setting s, bool present, std::string_view what) {
      if (!present && (refused & (1U << s)) == 0) {
        d.error(o.at(s_unlink), who + ": unlink: " + mode_name + " needs " +
                                    std::string(setting_names[s]) + " (" + std::string(what) +
                                    "); set it on the account or under defaults:");
      }
    };
    const auto unused = [&](setting s, bool used) {
      if (!used && o.has(s)) {
        d.error(o.marks[s], who + ": " + std::string(setting_names[s]) +
                                " is not used by unlink: " + mode_name + "; remove it");
      }
    };
    need(s_partner_id, mode != unlink_mode::partner_share || !a.partner_id.empty(),
         "the partner Business Center the account is shared with");
    need(s_members, mode != unlink_mode::member_access || !a.members.empty(),
         "the BC user IDs whose access is removed");
    need(s_advertiser_id, mode != unlink_mode::tiktok_binding || !a.advertiser_id.empty(),
         "the ad account the TikTok account is bound to");
    unused(s_partner_id, mode == unlink_mode::partner_share);
    unused(s_members, mode == unlink_mode::member_access);
    unused(s_advertiser_id, mode == unlink_mode::tiktok_binding);
    if (mode == unlink_mode::partner_share && !result_.business_center_id.empty() &&
        a.partner_id == result_.business_center_id) {
      d.error(where(o, s_partner_id, defaults_.partner_id.has_value()),
              who +
                  ": partner_id is this manifest's own business_center_id; it must name the "
                  "partner Business Center the account is shared with");
    }
  }

  void check_duplicate_ids() {
    if (accounts_.size() < 2) {
      return;
    }
    // Sorting positions costs 4 bytes an account, where a hash set of the
    // IDs would cost ~60.
    std::vector<std::uint32_t> order(accounts_.size());
    std::iota(order.begin(), order.end(), 0U);
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) {
      return accounts_[x].id < accounts_[y].id;
    });
    std::vector<std::pair<std::uint32_t, std::uint32_t>> repeats;  // (later, first)
    for (std::size_t i = 1; i < order.size(); ++i) {
      std::size_t first = i - 1;
      while (i < order.size() && accounts_[order[i]].id == accounts_[order[first]].id) {
        repeats.emplace_back(order[i], order[first]);
        ++i;
      }
    }
    std::sort(repeats.begin(), repeats.end());
    for (const auto& [later, first] : repeats) {
      read_.diags().error(origins_[later].id, index_path("accounts", indices_[later]) +
                                                  ".id: account " + accounts_[later].id +
                                                  " is already listed at line " +
                                                  std::to_string(origins_[first].id.line + 1) +
                                                  "; list each account once");
    }
  }

  value_reader read_;
  const manifest_options& options_;
  year_month_day today_;
  manifest result_;
  settings defaults_;
  std::uint16_t defaults_set_ = 0;  // bit i: defaults: set setting i
  std::size_t accounts_seen_ = 0;
  std::vector<account> accounts_;
  std::vector<account_origin> origins_;
  std::vector<std::size_t> indices_;
};

}  // namespace

manifest_result parse_manifest(std::string_view bytes, std::string file_name,
                               const manifest_options& options, std::chrono::year_month_day today) {
  manifest_result out{std::nullopt, diagnostics(std::move(file_name))};
  manifest_decoder decoder(out.problems, options, today);
  const yaml_item_stream accounts{"accounts", [&](yaml_node&& item, std::size_t index) {
                                    return decoder.on_account(std::move(item), index);
                                  }};
  yaml_limits yaml;
  yaml.max_bytes = options.max_bytes;
  yaml.size_advice = "the limit is max_manifest_bytes; split the accounts over several manifests";
  auto root = read_yaml(bytes, yaml, out.problems, &accounts);
  auto value = decoder.finish(std::move(root));
  if (out.problems.empty()) {
    out.value = std::move(value);
  }
  return out;
}

}  // namespace unlinkd::config
