#include "sandbox/state_generator.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>
#include <unordered_map>

namespace unlinkd::sandbox {

namespace {

// splitmix64: a tiny generator whose output is fixed by its definition, so a
// seed gives the same world on every machine and library version (the
// <random> distributions promise no such thing).
class random_source {
 public:
  explicit random_source(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31U);
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
  bool chance(unsigned percent) { return below(100) < percent; }

 private:
  std::uint64_t state_;
};

// 19-digit IDs: a two-digit kind prefix, then a number unique per kind.
std::string make_id(unsigned prefix, std::uint64_t seed, std::uint64_t n) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%02u%05llu%012llu", prefix,
                static_cast<unsigned long long>(seed % 100000), static_cast<unsigned long long>(n));
  return buffer;
}

std::string timestamp(std::uint64_t day_offset) {
  const unsigned day = 1 + static_cast<unsigned>(day_offset % 28);
  const unsigned month = 1 + static_cast<unsigned>((day_offset / 28) % 12);
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "2025-%02u-%02u 10:%02u:00", month, day,
                static_cast<unsigned>(day_offset % 60));
  return buffer;
}

constexpr std::array<const char*, 6> company_names{"Acme",     "Globex", "Initech",
                                                   "Umbrella", "Hooli",  "Stark"};

}  // namespace

sandbox_state generate_state(const generator_options& options) {
  sandbox_state s;
  random_source rnd(options.seed);
  const auto seed = options.seed;

  // Apps and users: the admin app's token acts as a BC admin, the standard
  // app's as a member without the admin role.
  s.apps.push_back({make_id(70, seed, 1), "sandbox-secret-admin"});
  s.apps.push_back({make_id(70, seed, 2), "sandbox-secret-standard"});
  s.users.push_back({make_id(69, seed, 1), "Agency Admin", "a***n@agency.example"});
  s.users.push_back({make_id(69, seed, 2), "Agency Analyst", "a***t@agency.example"});
  for (std::uint64_t i = 3; i < 8; ++i) {
    s.users.push_back({make_id(69, seed, i), "Member " + std::to_string(i),
                       "m***" + std::to_string(i) + "@agency.example"});
  }
  s.tokens.push_back({"sbx-admin-" + std::to_string(seed), s.apps[0].app_id, s.users[0].user_id});
  s.tokens.push_back(
      {"sbx-standard-" + std::to_string(seed), s.apps[1].app_id, s.users[1].user_id});

  // Our BC, where the accounts are, and three partner BCs.
  business_center ours;
  ours.bc_id = make_id(70, seed, 100);
  ours.name = "Agency Business Center";
  ours.company = "Agency Ltd";
  ours.roles[s.users[0].user_id] = user_role::admin;
  ours.roles[s.users[1].user_id] = user_role::standard;
  for (std::size_t i = 2; i < s.users.size(); ++i) {
    ours.roles[s.users[i].user_id] = user_role::standard;
  }
  s.business_centers.push_back(ours);
  for (std::uint64_t p = 0; p < 3; ++p) {
    business_center partner;
    partner.bc_id = make_id(70, seed, 200 + p);
    partner.name = std::string(company_names[p]) + " Business Center";
    partner.company = std::string(company_names[p]) + " Inc";
    s.business_centers.push_back(partner);
  }
  const std::string& our_bc = s.business_centers[0].bc_id;

  std::uint64_t next_campaign = 1;
  std::uint64_t next_adgroup = 1;
  std::uint64_t next_ad = 1;
  const auto add_campaigns = [&](const advertiser& a) {
    const std::size_t count = rnd.below(4);
    for (std::size_t c = 0; c < count; ++c) {
      campaign k;
      k.campaign_id = make_id(17, seed, next_campaign++);
      k.advertiser_id = a.advertiser_id;
      k.name = a.name + " campaign " + std::to_string(c + 1);
      k.status = rnd.chance(35) ? operation_status::enable : operation_status::disable;
      k.budget = 20.0 + static_cast<double>(rnd.below(50) * 10);
      k.create_time = timestamp(rnd.below(300));
      k.modify_time = k.create_time;
      s.campaigns.push_back(k);
      const std::size_t groups = 1 + rnd.below(2);
      for (std::size_t g = 0; g < groups; ++g) {
        adgroup ag;
        ag.adgroup_id = make_id(18, seed, next_adgroup++);
        ag.campaign_id = k.campaign_id;
        ag.advertiser_id = a.advertiser_id;
        ag.name = k.name + " group " + std::to_string(g + 1);
        ag.status = k.status;
        s.adgroups.push_back(ag);
        const std::size_t ads = 1 + rnd.below(2);
        for (std::size_t d = 0; d < ads; ++d) {
          ad x;
          x.ad_id = make_id(19, seed, next_ad++);
          x.adgroup_id = ag.adgroup_id;
          x.campaign_id = k.campaign_id;
          x.advertiser_id = a.advertiser_id;
          x.name = ag.name + " ad " + std::to_string(d + 1);
          x.status = rnd.chance(10) ? operation_status::del : ag.status;
          s.ads.push_back(x);
        }
      }
    }
  };
  const auto add_advertiser = [&](std::uint64_t n, const std::string& owner) -> advertiser& {
    advertiser a;
    a.advertiser_id = make_id(71, seed, n);
    const char* company = company_names[rnd.below(company_names.size())];
    a.name = std::string(company) + " " + std::to_string(n);
    a.company = std::string(company) + " Inc";
    a.create_time = 1'700'000'000 + static_cast<std::int64_t>(rnd.below(30'000'000));
    a.owner_bc_id = owner;
    s.advertisers.push_back(a);
    add_campaigns(s.advertisers.back());
    return s.advertisers.back();
  };

  // The accounts, in a fixed rotation over what unlinkd meets in a real BC.
  for (std::uint64_t i = 1; i <= options.accounts; ++i) {
    switch (i % 10) {
      case 0:
      case 1:
      case 2:
      case 3: {  // an ad account we own and share with a partner: partner_share
        const auto& a = add_advertiser(i, our_bc);
        s.assets.push_back(
            {our_bc, a.advertiser_id, asset_type::advertiser, relation_type::owner_bc});
        s.partner_shares.push_back({our_bc, s.business_centers[1 + rnd.below(3)].bc_id,
                                    a.advertiser_id, asset_type::advertiser});
        break;
      }
      case 4:
      case 5: {  // an ad account members work on: member_access
        const auto& a = add_advertiser(i, our_bc);
        s.assets.push_back(
            {our_bc, a.advertiser_id, asset_type::advertiser, relation_type::owner_bc});
        const std::size_t members = 1 + rnd.below(3);
        for (std::size_t m = 0; m < members; ++m) {
          s.member_accesses.push_back({our_bc, s.users[2 + m].user_id, a.advertiser_id,
                                       asset_type::advertiser, m == 0 ? "ADMIN" : "OPERATOR"});
        }
        break;
      }
      case 6:
      case 7: {  // a TikTok account in our BC: bc_asset
        const std::string id = make_id(72, seed, i);
        s.tiktok_accounts.push_back({id, "@brand_" + std::to_string(i)});
        s.assets.push_back({our_bc, id, asset_type::tt_account, relation_type::owner_bc});
        break;
      }
      case 8: {  // a TikTok account bound to one of our ad accounts: tiktok_binding
        const std::string id = make_id(72, seed, i);
        s.tiktok_accounts.push_back({id, "@creator_" + std::to_string(i)});
        s.assets.push_back({our_bc, id, asset_type::tt_account, relation_type::owner_bc});
        const auto& a = add_advertiser(1'000'000'000 + i, our_bc);
        s.assets.push_back(
            {our_bc, a.advertiser_id, asset_type::advertiser, relation_type::owner_bc});
        s.bindings.push_back({our_bc, id, a.advertiser_id});
        break;
      }
      default: {  // an ad account a partner shared to us: unlinkd must refuse it
        const auto& a = add_advertiser(i, s.business_centers[1].bc_id);
        s.assets.push_back(
            {our_bc, a.advertiser_id, asset_type::advertiser, relation_type::owner_partner});
        break;
      }
    }
  }
  return s;
}

std::string credentials_yaml(const sandbox_state& state, const std::string& base_url,
                             std::span<const std::string> profiles) {
  std::string out =
      "# Written by unlinkd-sandbox --credentials-out: tokens of the sandbox, not real ones.\n"
      "profiles:\n";
  const std::array<std::string, 2> generated{"sandbox-admin", "sandbox-standard"};
  const auto names = profiles.empty() ? std::span<const std::string>(generated) : profiles;
  for (std::size_t i = 0; i < state.tokens.size() && i < names.size(); ++i) {
    const auto& token = state.tokens[i];
    const auto app = std::find_if(state.apps.begin(), state.apps.end(),
                                  [&](const auto& a) { return a.app_id == token.app_id; });
    out += std::string("  ") + names[i] + ":\n";
    out += "    app_id: \"" + token.app_id + "\"\n";
    out += "    secret: \"" + (app == state.apps.end() ? std::string() : app->secret) + "\"\n";
    out += "    access_token: \"" + token.token + "\"\n";
    out += "    tier: basic\n";
    out += "    base_url: " + base_url + "\n";
  }
  return out;
}

std::string manifest_yaml(const sandbox_state& state, const std::string& batch) {
  const std::string& our_bc = state.business_centers.at(0).bc_id;
  std::string out = "# Written by unlinkd-sandbox --manifest-out.\nversion: 1\nbatch: " + batch +
                    "\ncredentials: sandbox-admin\nbusiness_center_id: \"" + our_bc +
                    "\"\ndefaults:\n  active_campaigns: pause\n  verify_deadline: 2m\naccounts:\n";
  const auto quoted = [](const std::string& id) { return "\"" + id + "\""; };
  // Indexes, so that the manifest of a large world is written in linear time.
  std::unordered_map<std::string_view, const tiktok_binding*> binding_of;
  for (const auto& b : state.bindings) {
    binding_of.emplace(b.tt_account_id, &b);
  }
  std::unordered_map<std::string_view, const partner_share*> share_of;
  for (const auto& p : state.partner_shares) {
    share_of.emplace(p.asset_id, &p);
  }
  std::unordered_map<std::string_view, std::string> members_of;
  for (const auto& m : state.member_accesses) {
    auto& list = members_of[m.asset_id];
    list += (list.empty() ? "" : ", ") + quoted(m.user_id);
  }
  for (const auto& asset : state.assets) {
    if (asset.bc_id != our_bc || asset.relation != relation_type::owner_bc) {
      continue;
    }
    const auto& id = asset.asset_id;
    if (asset.type == asset_type::tt_account) {
      const auto binding = binding_of.find(id);
      out += "  - id: " + quoted(id) + "\n    type: tiktok_account\n";
      if (binding != binding_of.end()) {
        out += "    unlink: tiktok_binding\n    advertiser_id: " +
               quoted(binding->second->advertiser_id) + "\n";
      } else {
        out += "    unlink: bc_asset\n";
      }
      continue;
    }
    if (const auto share = share_of.find(id); share != share_of.end()) {
      out += "  - id: " + quoted(id) + "\n    type: advertiser\n    unlink: partner_share\n" +
             "    partner_id: " + quoted(share->second->partner_id) + "\n";
    } else if (const auto members = members_of.find(id); members != members_of.end()) {
      out += "  - id: " + quoted(id) + "\n    type: advertiser\n    unlink: member_access\n" +
             "    members: [" + members->second + "]\n";
    }
  }
  return out;
}

}  // namespace unlinkd::sandbox
