// Contract tests of the Business Center reads (docs/SANDBOX_API.md §4.5–
// §4.12) against the real process: parameters, paging limits, fields and
// enums, who may call what, and that every relationship the generated world
// holds is visible through the read unlinkd's preflight and verify use for
// it (PRODUCT.md §4), and is gone from it once unlinked. The expected world
// is generated in the test from the same options as the process's.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "sandbox/state_generator.hpp"
#include "tests/sandbox/sandbox_process.hpp"

namespace unlinkd::test {
namespace {

namespace json = boost::json;
using sandbox::asset_type;
using sandbox::relation_type;

const std::string api = "/open_api/v1.3";
const std::string admin_token = "sbx-admin-11";
const std::string standard_token = "sbx-standard-11";
constexpr std::size_t world_accounts = 60;
constexpr std::uint64_t world_seed = 11;

using params = std::vector<std::pair<std::string, std::string>>;

std::string encoded(const std::string& value) {
  std::string out;
  for (const unsigned char c : value) {
    if ((std::isalnum(c) != 0) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char escape[4];
      std::snprintf(escape, sizeof escape, "%%%02X", c);
      out += escape;
    }
  }
  return out;
}

std::string target(const std::string& path, const params& query) {
  std::string t = api + path;
  char separator = '?';
  for (const auto& [name, value] : query) {
    t += separator + name + "=" + encoded(value);
    separator = '&';
  }
  return t;
}

params with(params query, const std::string& name, const std::string& value) {
  std::erase_if(query, [&](const auto& p) { return p.first == name; });
  query.emplace_back(name, value);
  return query;
}

params without(params query, const std::string& name) {
  std::erase_if(query, [&](const auto& p) { return p.first == name; });
  return query;
}

std::int64_t code_of(const json::value& reply) { return reply.at("code").as_int64(); }

std::string text(const json::value& v) { return std::string(v.as_string()); }

// One read, with the parameters of a call that succeeds for the admin.
struct read_case {
  std::string path;
  params query;
  std::uint64_t max_page_size = 50;
  bool admin_only = true;
  bool takes_filtering = true;
};

class bc_reads : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bcs = get("/bc/get/", {});
    ASSERT_EQ(code_of(bcs), 0) << bcs;
    bc_ = text(bcs.at("data").at("list").at(0).at("bc_info").at("bc_id"));
    ASSERT_EQ(bc_, world_.business_centers.at(0).bc_id);
  }

  json::value get(const std::string& path, const params& query,
                  const std::string& token = admin_token) {
    const auto reply = client_.get(target(path, query), token);
    EXPECT_EQ(reply.status, 200U) << path;
    return reply.json();
  }

  // Every item of a paged read, page by page, checking that the totals hold.
  std::vector<json::object> all(const std::string& path, const params& query,
                                std::uint64_t page_size, const std::string& token = admin_token) {
    std::vector<json::object> items;
    std::int64_t total = -1;
    for (std::uint64_t page = 1;; ++page) {
      const auto reply = get(
          path,
          with(with(query, "page", std::to_string(page)), "page_size", std::to_string(page_size)),
          token);
      EXPECT_EQ(code_of(reply), 0) << path << " " << reply;
      if (code_of(reply) != 0) {
        return items;
      }
      const auto& info = reply.at("data").at("page_info").as_object();
      EXPECT_EQ(info.at("page").as_int64(), static_cast<std::int64_t>(page));
      EXPECT_EQ(info.at("page_size").as_int64(), static_cast<std::int64_t>(page_size));
      if (total < 0) {
        total = info.at("total_number").as_int64();
      }
      EXPECT_EQ(info.at("total_number").as_int64(), total);
      const auto pages = static_cast<std::uint64_t>(info.at("total_page").as_int64());
      EXPECT_EQ(pages, (static_cast<std::uint64_t>(total) + page_size - 1) / page_size);
      for (const auto& item : reply.at("data").at("list").as_array()) {
        items.push_back(item.as_object());
      }
      if (page >= pages) {
        break;
      }
    }
    EXPECT_EQ(static_cast<std::int64_t>(items.size()), total) << path;
    return items;
  }

  static std::vector<std::string> ids(const std::vector<json::object>& items, const char* field) {
    std::vector<std::string> out;
    for (const auto& item : items) {
      EXPECT_TRUE(item.at(field).is_string()) << item;
      out.push_back(text(item.at(field)));
    }
    return out;
  }

  static std::set<std::string> id_set(const std::vector<json::object>& items, const char* field) {
    const auto list = ids(items, field);
    return {list.begin(), list.end()};
  }

  // Facts of the generated world.
  std::set<std::string> assets_of(asset_type type) const {
    std::set<std::string> out;
    for (const auto& a : world_.assets) {
      if (a.bc_id == bc_ && a.type == type) {
        out.insert(a.asset_id);
      }
    }
    return out;
  }

  std::string partner_bc() const { return world_.partner_shares.at(0).partner_id; }

  const sandbox::member_access& a_member_access() const { return world_.member_accesses.at(0); }

  const sandbox::tiktok_binding& a_binding() const { return world_.bindings.at(0); }

  std::string an_unbound_tt_account() const {
    for (const auto& a : world_.assets) {
      if (a.bc_id == bc_ && a.type == asset_type::tt_account &&
          std::none_of(world_.bindings.begin(), world_.bindings.end(),
                       [&](const auto& b) { return b.tt_account_id == a.asset_id; })) {
        return a.asset_id;
      }
    }
    return {};
  }

  // An ad account of our BC that no member is assigned to and no partner shares.
  std::string a_lone_advertiser() const {
    for (const auto& a : world_.assets) {
      if (a.bc_id == bc_ && a.type == asset_type::advertiser &&
          a.relation == relation_type::owner_bc &&
          std::none_of(world_.member_accesses.begin(), world_.member_accesses.end(),
                       [&](const auto& m) { return m.asset_id == a.asset_id; }) &&
          std::none_of(world_.partner_shares.begin(), world_.partner_shares.end(),
                       [&](const auto& s) { return s.asset_id == a.asset_id; })) {
        return a.asset_id;
      }
    }
    return {};
  }

  std::set<std::string> assigned_to(const std::string& user_id) const {
    std::set<std::string> out;
    for (const auto& m : world_.member_accesses) {
      if (m.bc_id == bc_ && m.user_id == user_id && m.type == asset_type::advertiser) {
        out.insert(m.asset_id);
      }
    }
    return out;
  }

  std::vector<read_case> reads() const {
    const auto& share = world_.partner_shares.at(0);
    return {
        {"/bc/asset/get/", {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}}, 50, false},
        {"/bc/asset/admin/get/", {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}}, 50},
        {"/bc/asset/member/get/",
         {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}, {"asset_id", a_member_access().asset_id}},
         20},
        {"/bc/member/get/", {{"bc_id", bc_}}, 20},
        {"/bc/partner/get/", {{"bc_id", bc_}}, 50},
        {"/bc/partner/asset/get/",
         {{"bc_id", bc_},
          {"partner_id", share.partner_id},
          {"asset_type", "ADVERTISER"},
          {"share_type", "SHARING"}},
         50},
        {"/bc/asset/partner/get/",
         {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}, {"asset_id", share.asset_id}},
         50},
        {"/bc/asset/advertiser/assigned/",
         {{"bc_id", bc_}, {"asset_id", a_binding().tt_account_id}, {"asset_type", "TT_ACCOUNT"}},
         50,
         false,
         false},
    };
  }

  sandbox_process sandbox_{{"--accounts", std::to_string(world_accounts), "--seed",
                            std::to_string(world_seed),
                            "--no-limits"}};  // many calls at once; the budget is budget_test.cpp's
  http_client client_{sandbox_.port()};
  sandbox::sandbox_state world_ = sandbox::generate_state({world_accounts, world_seed});
  std::string bc_;
};

TEST_F(bc_reads, every_read_pages_up_to_its_maximum_and_refuses_more) {
  for (const auto& r : reads()) {
    const auto max = std::to_string(r.max_page_size);
    const auto at_max = get(r.path, with(r.query, "page_size", max));
    ASSERT_EQ(code_of(at_max), 0) << r.path << " " << at_max;
    const auto& info = at_max.at("data").at("page_info").as_object();
    EXPECT_EQ(info.at("page").as_int64(), 1) << r.path;
    EXPECT_EQ(info.at("page_size").as_int64(), static_cast<std::int64_t>(r.max_page_size));
    EXPECT_TRUE(at_max.at("data").at("list").is_array());

    const auto over = get(r.path, with(r.query, "page_size", std::to_string(r.max_page_size + 1)));
    EXPECT_EQ(code_of(over), 40002) << r.path << " " << over;
    EXPECT_NE(text(over.at("message")).find("page_size"), std::string::npos);
    EXPECT_TRUE(over.at("data").as_object().empty());
    EXPECT_EQ(code_of(get(r.path, with(r.query, "page_size", "0"))), 40002) << r.path;
    EXPECT_EQ(code_of(get(r.path, with(r.query, "page", "0"))), 40002) << r.path;
    EXPECT_EQ(code_of(get(r.path, with(r.query, "page_size", "ten"))), 40002) << r.path;
    // Without paging parameters: page 1 of 10.
    const auto plain = get(r.path, r.query);
    ASSERT_EQ(code_of(plain), 0) << r.path << " " << plain;
    EXPECT_EQ(plain.at("data").at("page_info").at("page_size").as_int64(), 10) << r.path;
  }
}

TEST_F(bc_reads, a_page_past_the_end_is_empty_with_the_same_totals) {
  const params query{{"bc_id", bc_}, {"asset_type", "ADVERTISER"}};
  const auto first = get("/bc/asset/admin/get/", query);
  const auto far = get("/bc/asset/admin/get/", with(query, "page", "999"));
  ASSERT_EQ(code_of(far), 0) << far;
  EXPECT_TRUE(far.at("data").at("list").as_array().empty());
  EXPECT_EQ(far.at("data").at("page_info").at("page").as_int64(), 999);
  EXPECT_EQ(far.at("data").at("page_info").at("total_number"),
            first.at("data").at("page_info").at("total_number"));
}

TEST_F(bc_reads, every_read_needs_a_bc_id) {
  for (const auto& r : reads()) {
    const auto missing = get(r.path, without(r.query, "bc_id"));
    EXPECT_EQ(code_of(missing), 40002) << r.path << " " << missing;
    EXPECT_EQ(text(missing.at("message")), "bc_id: Missing data for required field.");
    EXPECT_EQ(code_of(get(r.path, with(r.query, "bc_id", ""))), 40002) << r.path;
    EXPECT_EQ(code_of(get(r.path, with(r.query, "bc_id", "12ab"))), 40002) << r.path;
    EXPECT_EQ(code_of(get(r.path, with(r.query, "bc_id", "99999999999999999999"))), 40002)
        << r.path;
  }
}

TEST_F(bc_reads, a_bc_the_caller_is_not_a_member_of_is_40001) {
  const auto partners = all("/bc/partner/get/", {{"bc_id", bc_}}, 50);
  ASSERT_FALSE(partners.empty());
  const auto other = text(partners.front().at("bc_id"));
  for (const auto& token : {admin_token, standard_token}) {
    for (const auto& r : reads()) {
      const auto reply = get(r.path, with(r.query, "bc_id", other), token);
      EXPECT_EQ(code_of(reply), 40001) << r.path << " " << reply;
      EXPECT_NE(text(reply.at("message")).find("not a member"), std::string::npos) << reply;
      EXPECT_NE(text(reply.at("message")).find(other), std::string::npos) << reply;
    }
  }
  // An unknown BC looks the same.
  EXPECT_EQ(code_of(get("/bc/member/get/", {{"bc_id", "7999999999999999999"}})), 40001);
}

TEST_F(bc_reads, admin_only_reads_refuse_the_standard_token) {
  for (const auto& r : reads()) {
    const auto reply = get(r.path, r.query, standard_token);
    if (r.admin_only) {
      EXPECT_EQ(code_of(reply), 40001) << r.path << " " << reply;
      EXPECT_NE(text(reply.at("message")).find("requires the ADMIN role"), std::string::npos)
          << reply;
    } else {
      EXPECT_EQ(code_of(reply), 0) << r.path << " " << reply;
    }
  }
}

TEST_F(bc_reads, parameters_are_checked_before_membership) {
  const auto reply =
      get("/bc/asset/admin/get/", {{"bc_id", "7999999999999999999"}, {"asset_type", "CATALOG"}});
  EXPECT_EQ(code_of(reply), 40002) << reply;
}

TEST_F(bc_reads, asset_type_must_be_one_the_endpoint_takes_and_the_sandbox_has) {
  for (const auto& r : reads()) {
    if (std::none_of(r.query.begin(), r.query.end(),
                     [](const auto& p) { return p.first == "asset_type"; })) {
      continue;
    }
    const auto missing = get(r.path, without(r.query, "asset_type"));
    EXPECT_EQ(code_of(missing), 40002) << r.path;
    EXPECT_EQ(text(missing.at("message")), "asset_type: Missing data for required field.");
    for (const char* bad : {"CATALOG", "PIXEL", "DOMAIN", "advertiser", "SOMETHING"}) {
      const auto reply = get(r.path, with(r.query, "asset_type", bad));
      EXPECT_EQ(code_of(reply), 40002) << r.path << " " << bad;
      EXPECT_NE(text(reply.at("message")).find("asset_type: Must be one of: "), std::string::npos)
          << reply;
    }
  }
  const auto& m = a_member_access();
  // TT_ACCOUNT is not valid for /bc/asset/member/get/ nor /bc/partner/asset/get/ (yml).
  EXPECT_EQ(code_of(get("/bc/asset/member/get/",
                        {{"bc_id", bc_}, {"asset_type", "TT_ACCOUNT"}, {"asset_id", m.asset_id}})),
            40002);
  EXPECT_EQ(code_of(get("/bc/partner/asset/get/", {{"bc_id", bc_},
                                                   {"partner_id", partner_bc()},
                                                   {"asset_type", "TT_ACCOUNT"},
                                                   {"share_type", "SHARING"}})),
            40002);
  // /bc/asset/advertiser/assigned/ is about TikTok accounts only.
  EXPECT_EQ(code_of(get("/bc/asset/advertiser/assigned/",
                        {{"bc_id", bc_}, {"asset_id", m.asset_id}, {"asset_type", "ADVERTISER"}})),
            40002);
  EXPECT_EQ(code_of(get("/bc/asset/admin/get/", {{"bc_id", bc_}, {"asset_type", "TT_ACCOUNT"}})),
            0);
}

TEST_F(bc_reads, filtering_is_a_json_object_and_malformed_json_is_40002) {
  for (const auto& r : reads()) {
    if (!r.takes_filtering) {
      continue;
    }
    const auto malformed = get(r.path, with(r.query, "filtering", R"({"keyword":)"));
    EXPECT_EQ(code_of(malformed), 40002) << r.path << " " << malformed;
    EXPECT_NE(text(malformed.at("message")).find("filtering"), std::string::npos);
    EXPECT_EQ(code_of(get(r.path, with(r.query, "filtering", "[]"))), 40002) << r.path;
    EXPECT_EQ(code_of(get(r.path, with(r.query, "filtering", "{}"))), 0) << r.path;
  }
  const params admin{{"bc_id", bc_}, {"asset_type", "ADVERTISER"}};
  for (const char* bad : {R"({"relation_type":"OWNER"})", R"({"relation_status":"REJECT"})",
                          R"({"advertiser_show_status":"APPROVED"})", R"({"keyword":7})"}) {
    EXPECT_EQ(code_of(get("/bc/asset/admin/get/", with(admin, "filtering", bad))), 40002) << bad;
  }
  EXPECT_EQ(
      code_of(get("/bc/member/get/", {{"bc_id", bc_}, {"filtering", R"({"user_role":"OWNER"})"}})),
      40002);
  EXPECT_EQ(code_of(get("/bc/asset/get/", with(admin, "filtering", R"({"user_id":12})"))),
            40002);  // IDs in JSON are strings
}

TEST_F(bc_reads, a_child_bc_is_refused_since_the_sandbox_has_none) {
  EXPECT_EQ(code_of(get("/bc/asset/admin/get/", {{"bc_id", bc_},
                                                 {"asset_type", "ADVERTISER"},
                                                 {"child_bc_id", "7000000000000000001"}})),
            40002);
  EXPECT_EQ(code_of(get("/bc/member/get/", {{"bc_id", bc_}, {"child_bc_id", "1"}})), 40002);
}

TEST_F(bc_reads, asset_admin_get_lists_every_ad_account_with_its_relation_and_status) {
  const auto items = all("/bc/asset/admin/get/", {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}}, 7);
  const auto listed = ids(items, "asset_id");
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end())) << "ascending asset_id";
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), assets_of(asset_type::advertiser));
  EXPECT_EQ(listed.size(), assets_of(asset_type::advertiser).size()) << "no duplicates";

  std::map<std::string, std::string> relation;
  std::set<std::string> owner_partner;
  for (const auto& a : world_.assets) {
    if (a.bc_id == bc_) {
      relation[a.asset_id] = sandbox::to_api(a.relation);
      if (a.relation == relation_type::owner_partner) {
        owner_partner.insert(a.asset_id);
      }
    }
  }
  EXPECT_FALSE(owner_partner.empty()) << "the generated world has ad accounts shared to us";
  const std::set<std::string> relations{"OWNER_BC", "OWNER_PARTNER", "OWNER_INDIVIDUAL"};
  for (const auto& item : items) {
    const auto id = text(item.at("asset_id"));
    const auto& account = *world_.find_advertiser(id);
    EXPECT_EQ(id.size(), 19U);
    EXPECT_EQ(text(item.at("asset_name")), account.name);
    EXPECT_EQ(text(item.at("asset_type")), "ADVERTISER");
    EXPECT_TRUE(relations.contains(text(item.at("relation_type")))) << item;
    EXPECT_EQ(text(item.at("relation_type")), relation[id]) << item;
    EXPECT_EQ(text(item.at("relation_status")), "BOUND");
    EXPECT_EQ(text(item.at("advertiser_status")), account.status);
    EXPECT_TRUE(text(item.at("advertiser_status")).starts_with("STATUS_"));
    EXPECT_EQ(text(item.at("advertiser_account_type")), "AUCTION");
    const auto* owner = world_.find_bc(account.owner_bc_id);
    if (owner == nullptr) {
      EXPECT_TRUE(item.at("owner_bc_name").is_null()) << item;
    } else {
      EXPECT_EQ(text(item.at("owner_bc_name")), owner->name) << item;
    }
    // The admin has no access rows of its own, so no advertiser_role.
    EXPECT_TRUE(item.at("advertiser_role").is_null()) << item;
    EXPECT_TRUE(item.at("tt_account_roles").is_null()) << item;
    EXPECT_TRUE(item.at("pixel_code").is_null()) << item;
  }

  const auto filtered = all("/bc/asset/admin/get/",
                            {{"bc_id", bc_},
                             {"asset_type", "ADVERTISER"},
                             {"filtering", R"({"relation_type":"OWNER_PARTNER"})"}},
                            50);
  EXPECT_EQ(id_set(filtered, "asset_id"), owner_partner);
}

TEST_F(bc_reads, asset_admin_get_lists_every_tiktok_account) {
  const auto items =
      all("/bc/asset/admin/get/", {{"bc_id", bc_}, {"asset_type", "TT_ACCOUNT"}}, 50);
  EXPECT_EQ(id_set(items, "asset_id"), assets_of(asset_type::tt_account));
  std::map<std::string, std::string> names;
  for (const auto& t : world_.tiktok_accounts) {
    names[t.tt_account_id] = t.name;
  }
  for (const auto& item : items) {
    const auto id = text(item.at("asset_id"));
    EXPECT_EQ(text(item.at("asset_type")), "TT_ACCOUNT");
    EXPECT_EQ(text(item.at("asset_name")), names[id]);
    for (const auto& a : world_.assets) {
      if (a.bc_id == bc_ && a.asset_id == id) {
        EXPECT_EQ(text(item.at("relation_type")), sandbox::to_api(a.relation));
      }
    }
    EXPECT_TRUE(item.at("tt_account_roles").is_null()) << item;
    for (const char* null_field : {"relation_status", "advertiser_status", "advertiser_role",
                                   "advertiser_account_type", "owner_bc_name"}) {
      EXPECT_TRUE(item.at(null_field).is_null()) << null_field << " " << item;
    }
  }
}

TEST_F(bc_reads, asset_admin_get_filters_by_keyword_status_and_show_status) {
  const params query{{"bc_id", bc_}, {"asset_type", "ADVERTISER"}};
  const auto& some = world_.advertisers.at(0);
  const auto by_id =
      all("/bc/asset/admin/get/",
          with(query, "filtering", R"({"keyword":")" + some.advertiser_id + "\"}"), 50);
  ASSERT_EQ(by_id.size(), 1U);
  EXPECT_EQ(text(by_id[0].at("asset_id")), some.advertiser_id);

  // A part of a name, in another case, matches every ad account with it.
  const auto upper = [](std::string s) {
    for (auto& c : s) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
  };
  const std::string part = upper(some.name.substr(0, 4));
  const auto in_bc = assets_of(asset_type::advertiser);
  std::set<std::string> expected;
  for (const auto& a : world_.advertisers) {
    if (upper(a.name).find(part) != std::string::npos && in_bc.contains(a.advertiser_id)) {
      expected.insert(a.advertiser_id);
    }
  }
  const auto by_name =
      all("/bc/asset/admin/get/", with(query, "filtering", R"({"keyword":")" + part + "\"}"), 50);
  EXPECT_EQ(id_set(by_name, "asset_id"), expected);

  EXPECT_TRUE(
      all("/bc/asset/admin/get/", with(query, "filtering", R"({"relation_status":"UNBOUND"})"), 50)
          .empty());
  EXPECT_EQ(
      all("/bc/asset/admin/get/", with(query, "filtering", R"({"relation_status":"BOUND"})"), 50)
          .size(),
      assets_of(asset_type::advertiser).size());
  std::set<std::string> approved;
  for (const auto& id : in_bc) {
    if (world_.find_advertiser(id)->status == "STATUS_ENABLE") {
      approved.insert(id);
    }
  }
  EXPECT_FALSE(approved.empty());
  EXPECT_EQ(id_set(all("/bc/asset/admin/get/",
                       with(query, "filtering",
                            R"({"advertiser_show_status":"SHOW_ACCOUNT_STATUS_APPROVED"})"),
                       50),
                   "asset_id"),
            approved);
  const auto punished = all(
      "/bc/asset/admin/get/",
      with(query, "filtering", R"({"advertiser_show_status":"SHOW_ACCOUNT_STATUS_PUNISHED"})"), 50);
  for (const auto& item : punished) {
    const auto status = text(item.at("advertiser_status"));
    EXPECT_TRUE(status == "STATUS_DISABLE" || status == "STATUS_LIMIT") << item;
  }
  EXPECT_EQ(
      code_of(get("/bc/asset/admin/get/",
                  {{"bc_id", bc_},
                   {"asset_type", "TT_ACCOUNT"},
                   {"filtering", R"({"advertiser_show_status":"SHOW_ACCOUNT_STATUS_APPROVED"})"}})),
      40002);
}

TEST_F(bc_reads, asset_member_get_lists_every_member_access) {
  std::map<std::string, std::map<std::string, std::string>> expected;  // asset -> user -> role
  for (const auto& m : world_.member_accesses) {
    expected[m.asset_id][m.user_id] = m.advertiser_role;
  }
  ASSERT_FALSE(expected.empty());
  for (const auto& [asset_id, members] : expected) {
    const auto items =
        all("/bc/asset/member/get/",
            {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}, {"asset_id", asset_id}}, 1);
    std::map<std::string, std::string> listed;
    for (const auto& item : items) {
      listed[text(item.at("user_id"))] = text(item.at("advertiser_role"));
      EXPECT_TRUE(item.at("user_name").is_string()) << item;
      EXPECT_TRUE(item.at("user_email").is_string()) << item;
      EXPECT_TRUE(item.at("catalog_role").is_null()) << item;
      const std::string role(item.at("advertiser_role").as_string());
      EXPECT_TRUE(role == "ADMIN" || role == "OPERATOR" || role == "ANALYST") << role;
    }
    EXPECT_EQ(listed, members) << asset_id;
  }
  // An ad account nobody is assigned to lists nobody.
  const auto lone = a_lone_advertiser();
  ASSERT_FALSE(lone.empty());
  const auto none = get("/bc/asset/member/get/",
                        {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}, {"asset_id", lone}});
  ASSERT_EQ(code_of(none), 0) << none;
  EXPECT_TRUE(none.at("data").at("list").as_array().empty());
  // An asset not in the BC is an error, not an empty list.
  const auto stranger =
      get("/bc/asset/member/get/",
          {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}, {"asset_id", "7100000000000000999"}});
  EXPECT_EQ(code_of(stranger), 40002) << stranger;
  EXPECT_NE(text(stranger.at("message")).find("does not belong"), std::string::npos);
  EXPECT_EQ(code_of(get("/bc/asset/member/get/", {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}})),
            40002);  // no asset_id
}

TEST_F(bc_reads, asset_partner_get_lists_every_partner_share) {
  std::map<std::string, std::set<std::string>> expected;  // asset -> partners
  for (const auto& s : world_.partner_shares) {
    expected[s.asset_id].insert(s.partner_id);
  }
  ASSERT_FALSE(expected.empty());
  for (const auto& [asset_id, partners] : expected) {
    const auto items =
        all("/bc/asset/partner/get/",
            {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}, {"asset_id", asset_id}}, 50);
    EXPECT_EQ(id_set(items, "bc_id"), partners) << asset_id;
    for (const auto& item : items) {
      const auto* bc = world_.find_bc(text(item.at("bc_id")));
      ASSERT_NE(bc, nullptr);
      EXPECT_EQ(text(item.at("bc_name")), bc->name);
    }
  }
  // Not shared: an ad account nobody shares, a TikTok account.
  const auto& m = a_member_access();
  EXPECT_TRUE(all("/bc/asset/partner/get/",
                  {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}, {"asset_id", a_lone_advertiser()}},
                  50)
                  .empty());
  EXPECT_TRUE(
      all("/bc/asset/partner/get/",
          {{"bc_id", bc_}, {"asset_type", "TT_ACCOUNT"}, {"asset_id", an_unbound_tt_account()}}, 50)
          .empty());
  // The asset must be in the BC, with that type.
  EXPECT_EQ(code_of(get("/bc/asset/partner/get/",
                        {{"bc_id", bc_}, {"asset_type", "TT_ACCOUNT"}, {"asset_id", m.asset_id}})),
            40002);
}

TEST_F(bc_reads, asset_advertiser_assigned_lists_every_binding_to_any_member) {
  ASSERT_FALSE(world_.bindings.empty());
  for (const auto& b : world_.bindings) {
    for (const auto& token : {admin_token, standard_token}) {
      const auto items = all("/bc/asset/advertiser/assigned/",
                             {{"bc_id", bc_},
                              {"asset_id", b.tt_account_id},
                              {"asset_type", "TT_ACCOUNT"},
                              {"advertiser_id", ""}},
                             50, token);
      ASSERT_EQ(items.size(), 1U) << b.tt_account_id;
      EXPECT_EQ(text(items[0].at("advertiser_id")), b.advertiser_id);
      EXPECT_EQ(text(items[0].at("advertiser_name")),
                world_.find_advertiser(b.advertiser_id)->name);
    }
  }
  EXPECT_TRUE(
      all("/bc/asset/advertiser/assigned/",
          {{"bc_id", bc_}, {"asset_id", an_unbound_tt_account()}, {"asset_type", "TT_ACCOUNT"}}, 50)
          .empty());
  EXPECT_EQ(code_of(get("/bc/asset/advertiser/assigned/", {{"bc_id", bc_},
                                                           {"asset_id", "7200000000000000999"},
                                                           {"asset_type", "TT_ACCOUNT"}})),
            40002);
}

TEST_F(bc_reads, partner_get_lists_every_partner) {
  // The BCs we share with or that share with us, and the owners of what is shared to us.
  std::set<std::string> expected;
  for (const auto& s : world_.partner_shares) {
    if (s.bc_id == bc_) {
      expected.insert(s.partner_id);
    } else if (s.partner_id == bc_) {
      expected.insert(s.bc_id);
    }
  }
  for (const auto& a : world_.assets) {
    if (a.bc_id == bc_ && a.relation == relation_type::owner_partner) {
      expected.insert(world_.find_advertiser(a.asset_id)->owner_bc_id);
    }
  }
  ASSERT_FALSE(expected.empty());

  const auto items = all("/bc/partner/get/", {{"bc_id", bc_}}, 1);
  EXPECT_EQ(id_set(items, "bc_id"), expected);
  for (const auto& item : items) {
    EXPECT_EQ(text(item.at("bc_name")), world_.find_bc(text(item.at("bc_id")))->name);
    EXPECT_NE(text(item.at("bc_id")), bc_);
  }
  const auto& first = *world_.find_bc(*expected.begin());
  const auto named = all("/bc/partner/get/",
                         {{"bc_id", bc_}, {"filtering", R"({"name":")" + first.name + "\"}"}}, 50);
  ASSERT_EQ(named.size(), 1U);
  EXPECT_EQ(text(named[0].at("bc_id")), first.bc_id);
}

TEST_F(bc_reads, partner_asset_get_lists_what_we_share_and_what_is_shared_to_us) {
  std::map<std::string, std::set<std::string>> sharing;  // partner -> assets
  for (const auto& s : world_.partner_shares) {
    sharing[s.partner_id].insert(s.asset_id);
  }
  std::map<std::string, std::set<std::string>> shared;  // owner -> assets
  for (const auto& a : world_.assets) {
    if (a.bc_id == bc_ && a.relation == relation_type::owner_partner) {
      shared[world_.find_advertiser(a.asset_id)->owner_bc_id].insert(a.asset_id);
    }
  }
  for (const auto& s : world_.partner_shares) {
    if (s.partner_id == bc_) {
      shared[s.bc_id].insert(s.asset_id);
    }
  }
  ASSERT_FALSE(shared.empty());
  for (std::size_t i = 1; i < world_.business_centers.size(); ++i) {
    const auto& partner = world_.business_centers[i];
    const params query{{"bc_id", bc_}, {"partner_id", partner.bc_id}, {"asset_type", "ADVERTISER"}};
    const auto ours = all("/bc/partner/asset/get/", with(query, "share_type", "SHARING"), 50);
    EXPECT_EQ(id_set(ours, "asset_id"), sharing[partner.bc_id]) << partner.bc_id;
    for (const auto& item : ours) {
      EXPECT_EQ(text(item.at("asset_type")), "ADVERTISER");
      EXPECT_EQ(text(item.at("advertiser_role")), "ADMIN");
      EXPECT_EQ(text(item.at("owner_bc_name")), world_.business_centers[0].name);
      EXPECT_EQ(text(item.at("asset_name")),
                world_.find_advertiser(text(item.at("asset_id")))->name);
    }
    const auto theirs = all("/bc/partner/asset/get/", with(query, "share_type", "SHARED"), 50);
    EXPECT_EQ(id_set(theirs, "asset_id"), shared[partner.bc_id]) << partner.bc_id;
    for (const auto& item : theirs) {
      EXPECT_EQ(text(item.at("owner_bc_name")), partner.name);
    }
  }
  const params query{{"bc_id", bc_}, {"partner_id", partner_bc()}, {"asset_type", "ADVERTISER"}};
  EXPECT_EQ(code_of(get("/bc/partner/asset/get/", query)), 40002);  // no share_type
  EXPECT_EQ(code_of(get("/bc/partner/asset/get/", with(query, "share_type", "BOTH"))), 40002);
  EXPECT_EQ(code_of(get("/bc/partner/asset/get/",
                        with(with(query, "share_type", "SHARING"), "partner_id", bc_))),
            40002);
  EXPECT_EQ(code_of(get("/bc/partner/asset/get/", with(with(query, "share_type", "SHARING"),
                                                       "partner_id", "7999999999999999999"))),
            40002);
  EXPECT_EQ(code_of(get("/bc/partner/asset/get/",
                        without(with(query, "share_type", "SHARING"), "partner_id"))),
            40002);
}

TEST_F(bc_reads, member_get_lists_every_member) {
  const auto& roles = world_.business_centers[0].roles;
  const auto items = all("/bc/member/get/", {{"bc_id", bc_}}, 3);
  ASSERT_EQ(items.size(), roles.size());
  for (const auto& item : items) {
    const auto id = text(item.at("user_id"));
    ASSERT_TRUE(roles.contains(id)) << item;
    EXPECT_EQ(text(item.at("user_role")), sandbox::to_api(roles.at(id)));
    EXPECT_EQ(text(item.at("relation_status")), "BOUND");
    EXPECT_EQ(text(item.at("user_name")), world_.find_user(id)->user_name);
    EXPECT_TRUE(item.at("user_email").is_string());
    EXPECT_TRUE(item.at("ext_user_role").at("finance_role").is_string());
  }
  const auto admins =
      all("/bc/member/get/", {{"bc_id", bc_}, {"filtering", R"({"user_role":"ADMIN"})"}}, 20);
  std::set<std::string> expected_admins;
  for (const auto& [id, role] : roles) {
    if (role == sandbox::user_role::admin) {
      expected_admins.insert(id);
    }
  }
  EXPECT_EQ(id_set(admins, "user_id"), expected_admins);
  EXPECT_TRUE(expected_admins.contains(world_.tokens[0].user_id));
  EXPECT_TRUE(all("/bc/member/get/",
                  {{"bc_id", bc_}, {"filtering", R"({"relation_status":"PENDING"})"}}, 20)
                  .empty());
}

TEST_F(bc_reads, asset_get_lists_the_assets_a_member_is_assigned) {
  const auto& m = a_member_access();
  std::set<std::string> expected;
  std::map<std::string, std::string> role;
  for (const auto& a : world_.member_accesses) {
    if (a.user_id == m.user_id) {
      expected.insert(a.asset_id);
      role[a.asset_id] = a.advertiser_role;
    }
  }
  const params theirs{{"bc_id", bc_},
                      {"asset_type", "ADVERTISER"},
                      {"filtering", R"({"user_id":")" + m.user_id + "\"}"}};
  const auto items = all("/bc/asset/get/", theirs, 50);
  EXPECT_EQ(id_set(items, "asset_id"), expected);
  for (const auto& item : items) {
    EXPECT_EQ(text(item.at("advertiser_role")), role[text(item.at("asset_id"))]);
    EXPECT_EQ(text(item.at("asset_type")), "ADVERTISER");
    EXPECT_EQ(text(item.at("advertiser_account_type")), "AUCTION");
    EXPECT_FALSE(item.contains("relation_type")) << "only the admin view has it (SANDBOX_API §4.5)";
  }
  // The caller's own assets: only its own rows; a BC admin has no implicit ones.
  EXPECT_EQ(
      id_set(all("/bc/asset/get/", {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}}, 50), "asset_id"),
      assigned_to(world_.tokens[0].user_id));
  EXPECT_EQ(id_set(all("/bc/asset/get/", {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}}, 50,
                       standard_token),
                   "asset_id"),
            assigned_to(world_.tokens[1].user_id));
  // Someone else's assets are for admins only.
  EXPECT_EQ(code_of(get("/bc/asset/get/", theirs, standard_token)), 40001);
  EXPECT_EQ(code_of(get("/bc/asset/get/",
                        with(theirs, "filtering", R"({"user_id":"6900000000000000999"})"))),
            40002);  // not a member
  EXPECT_EQ(code_of(get("/bc/asset/get/",
                        with(theirs, "filtering",
                             R"({"user_id":")" + m.user_id + R"(","user_email":"a@b.example"})"))),
            40002);
}

// The reads follow the four unlink calls at once: what verify relies on.
TEST_F(bc_reads, each_relationship_is_gone_from_its_read_once_unlinked) {
  const auto post = [&](const std::string& path, const json::object& body) {
    return client_.post(api + path, json::serialize(body), admin_token).json();
  };
  const auto& share = world_.partner_shares.at(0);
  ASSERT_EQ(code_of(post("/bc/partner/asset/delete/",
                         {{"bc_id", bc_},
                          {"partner_id", share.partner_id},
                          {"asset_type", "ADVERTISER"},
                          {"asset_ids", json::array{json::value(share.asset_id)}}})),
            0);
  EXPECT_TRUE(all("/bc/asset/partner/get/",
                  {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}, {"asset_id", share.asset_id}}, 50)
                  .empty());
  const auto sharing = all("/bc/partner/asset/get/",
                           {{"bc_id", bc_},
                            {"partner_id", share.partner_id},
                            {"asset_type", "ADVERTISER"},
                            {"share_type", "SHARING"}},
                           50);
  EXPECT_FALSE(id_set(sharing, "asset_id").contains(share.asset_id));

  const auto& m = a_member_access();
  for (const auto& a : world_.member_accesses) {
    if (a.asset_id == m.asset_id) {
      ASSERT_EQ(code_of(post("/bc/asset/unassign/", {{"bc_id", bc_},
                                                     {"user_id", a.user_id},
                                                     {"asset_type", "ADVERTISER"},
                                                     {"asset_id", a.asset_id}})),
                0);
    }
  }
  EXPECT_TRUE(all("/bc/asset/member/get/",
                  {{"bc_id", bc_}, {"asset_type", "ADVERTISER"}, {"asset_id", m.asset_id}}, 20)
                  .empty());

  const auto& b = a_binding();
  ASSERT_EQ(code_of(post("/bc/asset/advertiser/unassign/", {{"bc_id", bc_},
                                                            {"asset_id", b.tt_account_id},
                                                            {"asset_type", "TT_ACCOUNT"},
                                                            {"advertiser_id", b.advertiser_id}})),
            0);
  EXPECT_TRUE(all("/bc/asset/advertiser/assigned/",
                  {{"bc_id", bc_}, {"asset_id", b.tt_account_id}, {"asset_type", "TT_ACCOUNT"}}, 50)
                  .empty());

  const auto tt = an_unbound_tt_account();
  ASSERT_EQ(code_of(post("/bc/asset/admin/delete/", {{"bc_id", bc_},
                                                     {"asset_type", "TT_ACCOUNT"},
                                                     {"asset_ids", json::array{json::value(tt)}}})),
            0);
  const auto left = all("/bc/asset/admin/get/", {{"bc_id", bc_}, {"asset_type", "TT_ACCOUNT"}}, 50);
  EXPECT_FALSE(id_set(left, "asset_id").contains(tt));
  EXPECT_EQ(left.size(), assets_of(asset_type::tt_account).size() - 1);
}

}  // namespace
}  // namespace unlinkd::test
