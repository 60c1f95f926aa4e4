#include "tests/adapters/ops_world.hpp"

#include <cstdio>

#include <gtest/gtest.h>

#include "sandbox/fixture_loader.hpp"

namespace unlinkd::test::ops {
namespace {

std::string numbered(const char* prefix, int n, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%0*d", prefix, width, n);
  return buf;
}

std::string campaign_id(int n) { return numbered("17000000000", n, 8); }

}  // namespace

std::string tt_id(int n) { return numbered("7200000000000000", n, 3); }
std::string crowded_member(int n) { return numbered("6900000000000001", n, 3); }

std::string world_yaml() {
  std::string y = R"(apps:
  - {app_id: "7000000000000000001", secret: ops-secret-admin}
  - {app_id: "7000000000000000002", secret: ops-secret-standard}
users:
  - {user_id: "6900000000000000001", user_name: Agency Admin}
  - {user_id: "6900000000000000002", user_name: Agency Analyst}
  - {user_id: "6900000000000000003", user_name: Media Buyer}
  - {user_id: "6900000000000000004", user_name: Designer}
)";
  for (int i = 1; i <= crowded_members; ++i) {
    y += "  - {user_id: \"" + crowded_member(i) + "\"}\n";
  }
  y += R"(tokens:
  - {token: ops-admin-token, app_id: "7000000000000000001", user_id: "6900000000000000001", profile: sandbox-admin}
  - {token: ops-standard-token, app_id: "7000000000000000002", user_id: "6900000000000000002", profile: sandbox-standard}
business_centers:
  - bc_id: "7000000000000000100"
    name: Agency Business Center
    roles:
      "6900000000000000001": ADMIN
      "6900000000000000002": STANDARD
      "6900000000000000003": STANDARD
      "6900000000000000004": STANDARD
)";
  for (int i = 1; i <= crowded_members; ++i) {
    y += "      \"" + crowded_member(i) + "\": STANDARD\n";
  }
  y += R"(  - {bc_id: "7000000000000000200", name: Globex Business Center}
advertisers:
  - {advertiser_id: "7100000000000000001", name: Acme Shoes}
  - {advertiser_id: "7100000000000000002", name: Acme Boots}
  - {advertiser_id: "7100000000000000003", name: Acme Creators}
  - {advertiser_id: "7100000000000000004", name: Globex Retail}
  - {advertiser_id: "7100000000000000005", name: Acme Socks}
  - {advertiser_id: "7100000000000000006", name: Acme Busy}
  - {advertiser_id: "7100000000000000007", name: Acme Crowded}
tiktok_accounts:
)";
  for (int i = 1; i <= tt_accounts; ++i) {
    y += "  - {tt_account_id: \"" + tt_id(i) + "\"}\n";
  }
  y += R"(assets:
  - {bc_id: "7000000000000000100", asset_id: "7100000000000000001"}
  - {bc_id: "7000000000000000100", asset_id: "7100000000000000002"}
  - {bc_id: "7000000000000000100", asset_id: "7100000000000000003"}
  - {bc_id: "7000000000000000100", asset_id: "7100000000000000004", relation_type: OWNER_PARTNER}
  - {bc_id: "7000000000000000100", asset_id: "7100000000000000005"}
  - {bc_id: "7000000000000000100", asset_id: "7100000000000000006"}
  - {bc_id: "7000000000000000100", asset_id: "7100000000000000007"}
  - {bc_id: "7000000000000000200", asset_id: "7100000000000000004"}
)";
  for (int i = 1; i <= tt_accounts; ++i) {
    y += R"(  - {bc_id: "7000000000000000100", asset_id: ")" + tt_id(i) +
         "\", relation_type: " + (i == tt_accounts ? "OWNER_INDIVIDUAL" : "OWNER_BC") + "}\n";
  }
  y += R"(partner_shares:
  - {bc_id: "7000000000000000100", partner_id: "7000000000000000200", asset_id: "7100000000000000001"}
member_accesses:
  - {bc_id: "7000000000000000100", user_id: "6900000000000000003", asset_id: "7100000000000000002"}
  - {bc_id: "7000000000000000100", user_id: "6900000000000000004", asset_id: "7100000000000000002"}
  - {bc_id: "7000000000000000100", user_id: "6900000000000000004", asset_id: "7100000000000000004"}
)";
  for (int i = 1; i <= crowded_members; ++i) {
    y += R"(  - {bc_id: "7000000000000000100", user_id: ")" + crowded_member(i) +
         "\", asset_id: \"7100000000000000007\"}\n";
  }
  y += R"(bindings:
  - {bc_id: "7000000000000000100", tt_account_id: "7200000000000000002", advertiser_id: "7100000000000000003"}
campaigns:
  - {campaign_id: "1700000000000000001", advertiser_id: "7100000000000000001", name: Spring sale}
  - {campaign_id: "1700000000000000002", advertiser_id: "7100000000000000001", operation_status: DISABLE}
  - {campaign_id: "1700000000000000009", advertiser_id: "7100000000000000001", operation_status: DELETE}
  - {campaign_id: "1700000000000000003", advertiser_id: "7100000000000000002"}
  - {campaign_id: "1700000000000000004", advertiser_id: "7100000000000000004"}
)";
  for (int i = 1; i <= busy_campaigns; ++i) {
    y += "  - {campaign_id: \"" + campaign_id(100000 + i) +
         "\", advertiser_id: \"7100000000000000006\"}\n";
  }
  y += R"(adgroups:
  - {adgroup_id: "1800000000000000001", campaign_id: "1700000000000000001"}
  - {adgroup_id: "1800000000000000002", campaign_id: "1700000000000000002"}
ads:
  - {ad_id: "1900000000000000001", adgroup_id: "1800000000000000001"}
  - {ad_id: "1900000000000000002", adgroup_id: "1800000000000000001", operation_status: DELETE}
  - {ad_id: "1900000000000000003", adgroup_id: "1800000000000000002"}
)";
  return y;
}

sandbox::sandbox_state world() {
  auto loaded = sandbox::load_fixture(world_yaml(), "ops_world.yaml");
  if (!loaded.problems.empty()) {
    ADD_FAILURE() << loaded.problems.to_text();
  }
  return loaded.state;
}

config::credential_profile admin_profile() {
  config::credential_profile p;
  p.name = "sandbox-admin";
  p.app_id = "7000000000000000001";
  p.app_secret = config::secret("ops-secret-admin");
  p.access_token = config::secret(admin_token);
  return p;
}

config::credential_profile standard_profile() {
  config::credential_profile p;
  p.name = "sandbox-standard";
  p.app_id = "7000000000000000002";
  p.app_secret = config::secret("ops-secret-standard");
  p.access_token = config::secret(standard_token);
  return p;
}

adapters::account_job job_for(const std::string& id, std::optional<config::unlink_mode> mode) {
  using config::unlink_mode;
  adapters::account_job job;
  job.batch = "ops-test-batch";
  job.business_center_id = our_bc;
  auto& a = job.account;
  a.id = id;
  a.mode = mode;
  a.type = mode ? config::account_type_of(*mode) : config::account_type::advertiser;
  a.active_campaigns = config::campaign_policy::pause;
  a.backup.reports_since = std::chrono::year_month_day{std::chrono::year{2025},
                                                       std::chrono::January, std::chrono::day{1}};
  a.backup.reports_until = std::chrono::year_month_day{std::chrono::year{2025}, std::chrono::March,
                                                       std::chrono::day{31}};
  if (mode == unlink_mode::partner_share) {
    a.partner_id = partner_bc;
  } else if (mode == unlink_mode::member_access) {
    if (id == crowded_ad) {
      for (int i = 1; i <= crowded_members; ++i) {
        a.members.push_back(crowded_member(i));
      }
    } else {
      a.members = {"6900000000000000003", "6900000000000000004"};
    }
  } else if (mode == unlink_mode::tiktok_binding) {
    a.advertiser_id = bound_ad;
  }
  return job;
}

}  // namespace unlinkd::test::ops
