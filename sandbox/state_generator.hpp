#pragma once
// Builds a sandbox world deterministically from an account count and a seed,
// and writes the files a demo or test needs to use it: a credentials file and
// a manifest covering the generated accounts with every unlink mode.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "sandbox/sandbox_state.hpp"

namespace unlinkd::sandbox {

struct generator_options {
  std::size_t accounts = 100;  // ad accounts and TikTok accounts in "our" BC, together
  std::uint64_t seed = 1;
};

// The same options always give the same world.
sandbox_state generate_state(const generator_options& options);

// The credentials file (PRODUCT.md §6) for the generated apps: profile
// "sandbox-admin" (a token with the ADMIN role in our BC) and
// "sandbox-standard" (a token whose user is only STANDARD there). With
// `profiles` (one name per token, as a fixture gives them), every token is
// written, under its name.
std::string credentials_yaml(const sandbox_state& state, const std::string& base_url,
                             std::span<const std::string> profiles = {});

// A valid manifest for every account of our BC that the API can unlink,
// each with its mode and parameter; assets shared to us by a partner and
// owned ones no mode applies to are left out.
std::string manifest_yaml(const sandbox_state& state, const std::string& batch);

}  // namespace unlinkd::sandbox
