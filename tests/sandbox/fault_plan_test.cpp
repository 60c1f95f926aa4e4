// Unit tests of the fault profile reader and the decision function: no
// process, no sockets.
#include "sandbox/fault_plan.hpp"

#include <gtest/gtest.h>

namespace unlinkd::sandbox {
namespace {

using std::chrono::milliseconds;

fault_profile only(fault_slot s, double p) {
  fault_profile profile;
  profile[s] = p;
  return profile;
}

TEST(fault_plan, probability_zero_never_faults) {
  const fault_profile profile;  // every probability 0
  fault_random random(7);
  for (int i = 0; i < 10'000; ++i) {
    const auto d = decide_fault(profile, "/bc/partner/asset/delete/", true, random);
    EXPECT_EQ(d.kind, fault_kind::none);
    EXPECT_EQ(d.delay, milliseconds(0));
  }
}

TEST(fault_plan, probability_one_always_faults) {
  fault_random random(7);
  const auto codes = only(fault_slot::api_50002, 1.0);
  const auto http = only(fault_slot::http_503, 1.0);
  const auto reset = only(fault_slot::reset_before, 1.0);
  auto custom = only(fault_slot::api_51xxx, 1.0);
  custom.code_51xxx = 51021;
  for (int i = 0; i < 1'000; ++i) {
    const auto a = decide_fault(codes, "/user/info/", false, random);
    EXPECT_EQ(a.kind, fault_kind::api_code);
    EXPECT_EQ(a.code, 50002);
    const auto h = decide_fault(http, "/user/info/", false, random);
    EXPECT_EQ(h.kind, fault_kind::http_status);
    EXPECT_EQ(h.status, 503U);
    EXPECT_EQ(decide_fault(reset, "/user/info/", false, random).kind, fault_kind::reset_before);
    EXPECT_EQ(decide_fault(custom, "/user/info/", false, random).code, 51021);
  }
}

TEST(fault_plan, the_rates_are_about_the_probabilities) {
  fault_profile profile;
  profile[fault_slot::api_40100] = 0.2;
  profile[fault_slot::http_500] = 0.3;
  fault_random random(11);
  int codes = 0;
  int statuses = 0;
  constexpr int n = 20'000;
  for (int i = 0; i < n; ++i) {
    const auto d = decide_fault(profile, "/user/info/", false, random);
    codes += d.kind == fault_kind::api_code ? 1 : 0;
    statuses += d.kind == fault_kind::http_status ? 1 : 0;
  }
  EXPECT_NEAR(codes, 0.2 * n, 0.02 * n);
  EXPECT_NEAR(statuses, 0.3 * n, 0.02 * n);
}

TEST(fault_plan, a_seed_gives_the_same_decisions) {
  fault_profile profile;
  profile[fault_slot::api_50000] = 0.1;
  profile[fault_slot::http_502] = 0.1;
  profile[fault_slot::reset_after_apply] = 0.1;
  profile.latency = {milliseconds(5), milliseconds(20), 0.1, milliseconds(500)};
  const auto run = [&](std::uint64_t seed) {
    fault_random random(seed);
    std::vector<std::tuple<fault_kind, int, unsigned, long>> out;
    for (int i = 0; i < 500; ++i) {
      const auto d = decide_fault(profile, "/bc/asset/unassign/", i % 2 == 0, random);
      out.emplace_back(d.kind, d.code, d.status, static_cast<long>(d.delay.count()));
    }
    return out;
  };
  EXPECT_EQ(run(3), run(3));
  EXPECT_NE(run(3), run(4));
}

TEST(fault_plan, latency_is_fixed_plus_jitter_plus_tail) {
  fault_profile profile;
  profile.latency = {milliseconds(10), milliseconds(5), 0.0, milliseconds(1000)};
  fault_random random(1);
  for (int i = 0; i < 1'000; ++i) {
    const auto d = decide_fault(profile, "/user/info/", false, random);
    EXPECT_EQ(d.kind, fault_kind::none);
    EXPECT_GE(d.delay, milliseconds(10));
    EXPECT_LE(d.delay, milliseconds(15));
  }
  profile.latency.tail_probability = 1.0;
  const auto d = decide_fault(profile, "/user/info/", false, random);
  EXPECT_GE(d.delay, milliseconds(1010));
  EXPECT_LE(d.delay, milliseconds(1015));
}

TEST(fault_plan, path_prefixes_limit_the_faults) {
  auto profile = only(fault_slot::api_60001, 1.0);
  profile.latency.fixed = milliseconds(3);
  profile.paths = {"/bc/partner/", "/campaign/status/update/"};
  fault_random random(5);
  EXPECT_EQ(decide_fault(profile, "/bc/partner/asset/delete/", true, random).code, 60001);
  EXPECT_EQ(decide_fault(profile, "/campaign/status/update/", true, random).code, 60001);
  const auto other = decide_fault(profile, "/user/info/", false, random);
  EXPECT_EQ(other.kind, fault_kind::none);
  EXPECT_EQ(other.delay, milliseconds(0));  // nor any latency
}

TEST(fault_plan, mutating_only_spares_reads) {
  auto profile = only(fault_slot::http_500, 1.0);
  profile.mutating_only = true;
  fault_random random(5);
  EXPECT_EQ(decide_fault(profile, "/user/info/", false, random).kind, fault_kind::none);
  EXPECT_EQ(decide_fault(profile, "/bc/asset/unassign/", true, random).kind,
            fault_kind::http_status);
}

TEST(fault_plan, reset_after_apply_hits_only_mutating_calls) {
  const auto profile = only(fault_slot::reset_after_apply, 1.0);
  fault_random random(9);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(decide_fault(profile, "/user/info/", false, random).kind, fault_kind::none);
    EXPECT_EQ(decide_fault(profile, "/bc/asset/unassign/", true, random).kind,
              fault_kind::reset_after_apply);
  }
}

TEST(fault_plan, a_profile_is_read_from_yaml) {
  const auto loaded = load_fault_profile(R"(faults:
  api_50002: 0.25
  http_503: 0.5
  reset_after_apply: 0.125
code_51xxx: 51004
latency:
  fixed: 5ms
  jitter: 20ms
  tail_probability: 0.01
  tail: 2s
paths: [/bc/, /campaign/]
mutating_only: true
)",
                                         "f.yaml");
  ASSERT_TRUE(loaded.problems.empty()) << loaded.problems.to_text();
  const auto& p = loaded.profile;
  EXPECT_EQ(p[fault_slot::api_50002], 0.25);
  EXPECT_EQ(p[fault_slot::http_503], 0.5);
  EXPECT_EQ(p[fault_slot::reset_after_apply], 0.125);
  EXPECT_EQ(p[fault_slot::api_40100], 0.0);
  EXPECT_EQ(p.code_51xxx, 51004);
  EXPECT_EQ(p.latency.fixed, milliseconds(5));
  EXPECT_EQ(p.latency.jitter, milliseconds(20));
  EXPECT_EQ(p.latency.tail_probability, 0.01);
  EXPECT_EQ(p.latency.tail, milliseconds(2000));
  EXPECT_EQ(p.paths, (std::vector<std::string>{"/bc/", "/campaign/"}));
  EXPECT_TRUE(p.mutating_only);
}

TEST(fault_plan, json_is_read_too) {
  const auto loaded =
      load_fault_profile(R"({"faults": {"http_500": 1}, "mutating_only": false})", "body");
  ASSERT_TRUE(loaded.problems.empty()) << loaded.problems.to_text();
  EXPECT_EQ(loaded.profile[fault_slot::http_500], 1.0);
}

TEST(fault_plan, an_empty_profile_injects_nothing) {
  const auto loaded = load_fault_profile("", "body");
  EXPECT_TRUE(loaded.problems.empty());
  EXPECT_TRUE(loaded.profile.inert());
}

TEST(fault_plan, problems_carry_their_position) {
  const auto loaded = load_fault_profile(R"(faults:
  api_50002: 1.5
  http_504: 0.1
latency:
  fixed: soon
pathz: []
)",
                                         "f.yaml");
  const auto text = loaded.problems.to_text();
  EXPECT_NE(text.find("f.yaml:2:14:"), std::string::npos) << text;
  EXPECT_NE(text.find("not a probability"), std::string::npos) << text;
  EXPECT_NE(text.find("f.yaml:3:"), std::string::npos) << text;
  EXPECT_NE(text.find("f.yaml:5:"), std::string::npos) << text;
  EXPECT_NE(text.find("f.yaml:6:"), std::string::npos) << text;
  EXPECT_EQ(loaded.problems.items().size(), 4U) << text;
}

TEST(fault_plan, probabilities_adding_past_one_are_refused) {
  const auto loaded = load_fault_profile("faults:\n  http_500: 0.6\n  http_502: 0.6\n", "f.yaml");
  EXPECT_NE(loaded.problems.to_text().find("add up to more than 1"), std::string::npos)
      << loaded.problems.to_text();
}

TEST(fault_plan, a_path_must_start_with_a_slash) {
  const auto loaded = load_fault_profile("paths: [bc/]\n", "f.yaml");
  EXPECT_NE(loaded.problems.to_text().find("must start with '/'"), std::string::npos)
      << loaded.problems.to_text();
}

}  // namespace
}  // namespace unlinkd::sandbox
