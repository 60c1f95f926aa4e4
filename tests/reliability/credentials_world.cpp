#include "tests/reliability/credentials_world.hpp"

#include <array>
#include <cstdio>

namespace unlinkd::reliability {

namespace {

constexpr const char* our_bc = "7000000000000000100";
constexpr const char* partner_bc = "7000000000000000200";
// The two members whose access member_access removes (STANDARD in our BC).
constexpr std::array<const char*, 2> members{"6900000000000000003", "6900000000000000004"};

// A 19-digit ID: a two-digit kind, as the sandbox's generated IDs, then a
// counter.
std::string id_of(const char* kind, int n) {
  char text[24];
  std::snprintf(text, sizeof text, "%s%017d", kind, n);
  return text;
}

std::string quoted(const std::string& id) { return "\"" + id + "\""; }

enum class mode { partner_share, member_access, bc_asset, tiktok_binding };

constexpr std::array<const char*, 4> mode_names{"partner_share", "member_access", "bc_asset",
                                                "tiktok_binding"};

// The fixture's sections, appended to account by account.
struct fixture_sections {
  std::string advertisers, tiktok_accounts, assets, partner_shares, member_accesses, bindings,
      campaigns, adgroups, ads;

  void add_asset(const std::string& id, bool tiktok) {
    assets += "  - bc_id: " + quoted(our_bc) + "\n    asset_id: " + quoted(id) + "\n";
    if (tiktok) {
      assets += "    asset_type: TT_ACCOUNT\n";
    }
  }

  // An ad account of our BC with one campaign (active when `active`), one ad
  // group and one ad: the backup has something of each kind to write.
  void add_advertiser(const std::string& id, int n, bool active) {
    advertisers += "  - advertiser_id: " + quoted(id) + "\n";
    add_asset(id, false);
    campaigns += "  - campaign_id: " + quoted(id_of("17", n)) +
                 "\n    advertiser_id: " + quoted(id) +
                 "\n    operation_status: " + (active ? "ENABLE" : "DISABLE") + "\n";
    adgroups += "  - adgroup_id: " + quoted(id_of("18", n)) +
                "\n    campaign_id: " + quoted(id_of("17", n)) + "\n";
    ads += "  - ad_id: " + quoted(id_of("19", n)) + "\n    adgroup_id: " + quoted(id_of("18", n)) +
           "\n";
  }
};

// verify_deadline 10 s, not the generated manifests' 2 minutes: this world
// has no visibility delay, so verify reads a removal at once, and an account
// sent to verify for nothing (see credentials_test.cpp) costs 10 s, not 2 min.
std::string manifest_head(const credential_batch& b, const std::string& reports_since,
                          int concurrency) {
  return "version: 1\nbatch: " + b.batch + "\ncredentials: " + b.profile +
         "\nbusiness_center_id: " + quoted(our_bc) +
         "\nlimits:\n  concurrency: " + std::to_string(concurrency) +
         "\ndefaults:\n  active_campaigns: pause\n  verify_deadline: 10s\n  backup:\n"
         "    reports_since: " +
         reports_since + "\naccounts:\n";
}

}  // namespace

credentials_world make_credentials_world(int accounts_per_batch, const std::string& reports_since,
                                         int concurrency) {
  credentials_world world;
  world.batches = {
      {"cred-a", "agency-a", "sbx-cred-a", "7000000000000000001", {}},
      {"cred-b", "agency-b", "sbx-cred-b", "7000000000000000002", {}},
  };
  for (auto& b : world.batches) {
    b.manifest = manifest_head(b, reports_since, concurrency);
  }
  fixture_sections s;
  for (int k = 0; k < 2 * accounts_per_batch; ++k) {
    const int n = k + 1;
    const auto m = static_cast<mode>(k % 4);
    const bool tiktok = m == mode::bc_asset || m == mode::tiktok_binding;
    const std::string id = id_of(tiktok ? "72" : "71", n);
    std::string entry = "  - id: " + quoted(id) +
                        "\n    type: " + (tiktok ? "tiktok_account" : "advertiser") +
                        "\n    unlink: " + mode_names.at(static_cast<std::size_t>(m)) + "\n";
    switch (m) {
      case mode::partner_share:
        s.add_advertiser(id, n, (k / 4) % 2 == 0);
        s.partner_shares += "  - bc_id: " + quoted(our_bc) +
                            "\n    partner_id: " + quoted(partner_bc) +
                            "\n    asset_id: " + quoted(id) + "\n";
        entry += "    partner_id: " + quoted(partner_bc) + "\n";
        break;
      case mode::member_access:
        s.add_advertiser(id, n, (k / 4) % 2 == 1);
        entry += "    members: [";
        for (const auto* user : members) {
          s.member_accesses += "  - bc_id: " + quoted(our_bc) + "\n    user_id: " + quoted(user) +
                               "\n    asset_id: " + quoted(id) +
                               "\n    advertiser_role: OPERATOR\n";
          entry += std::string(user == members.front() ? "" : ", ") + quoted(user);
        }
        entry += "]\n";
        break;
      case mode::bc_asset:
        s.tiktok_accounts += "  - tt_account_id: " + quoted(id) + "\n";
        s.add_asset(id, true);
        break;
      case mode::tiktok_binding: {
        // The bound ad account is an extra asset of ours, not in a manifest.
        const std::string bound = id_of("71", 500000 + n);
        s.tiktok_accounts += "  - tt_account_id: " + quoted(id) + "\n";
        s.add_asset(id, true);
        s.advertisers += "  - advertiser_id: " + quoted(bound) + "\n";
        s.add_asset(bound, false);
        s.bindings += "  - bc_id: " + quoted(our_bc) + "\n    tt_account_id: " + quoted(id) +
                      "\n    advertiser_id: " + quoted(bound) + "\n";
        entry += "    advertiser_id: " + quoted(bound) + "\n";
        break;
      }
    }
    world.batches.at(k < accounts_per_batch ? 0 : 1).manifest += entry;
  }
  std::string& f = world.fixture;
  f = "# The Credentials scenario's world (tests/reliability/credentials_world.cpp).\napps:\n";
  for (const auto& b : world.batches) {
    f += "  - app_id: " + quoted(b.app_id) + "\n";
  }
  f += "users:\n";
  for (int u = 1; u <= 4; ++u) {
    f += "  - user_id: " + quoted(id_of("69", u)) + "\n";
  }
  f += "tokens:\n";
  for (std::size_t i = 0; i < world.batches.size(); ++i) {
    const auto& b = world.batches[i];
    f += "  - token: " + b.token + "\n    app_id: " + quoted(b.app_id) +
         "\n    user_id: " + quoted(id_of("69", static_cast<int>(i) + 1)) +
         "\n    profile: " + b.profile + "\n";
  }
  // Both tokens' users are ADMINs of our BC: either may unlink any account.
  f += "business_centers:\n  - bc_id: " + quoted(our_bc) + "\n    roles:\n      " +
       quoted(id_of("69", 1)) + ": ADMIN\n      " + quoted(id_of("69", 2)) + ": ADMIN\n";
  for (const auto* user : members) {
    f += "      " + quoted(user) + ": STANDARD\n";
  }
  f += "  - bc_id: " + quoted(partner_bc) + "\n";
  for (const auto& [key, text] : std::array<std::pair<const char*, const std::string*>, 9>{{
           {"advertisers", &s.advertisers},
           {"tiktok_accounts", &s.tiktok_accounts},
           {"assets", &s.assets},
           {"partner_shares", &s.partner_shares},
           {"member_accesses", &s.member_accesses},
           {"bindings", &s.bindings},
           {"campaigns", &s.campaigns},
           {"adgroups", &s.adgroups},
           {"ads", &s.ads},
       }}) {
    if (!text->empty()) {
      f += std::string(key) + ":\n" + *text;
    }
  }
  return world;
}

}  // namespace unlinkd::reliability
