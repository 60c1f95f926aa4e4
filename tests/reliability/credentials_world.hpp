#pragma once
// The world of the Credentials scenario: one Business Center administered by
// two apps' tokens (two credential profiles), and one manifest per profile.
// The sandbox's generated world has one admin token only (the second is
// STANDARD and cannot unlink), so this world is written as a --fixture
// (docs/SANDBOX.md, "Fixtures"): every unlink mode in rotation, a campaign
// on each ad account (every other one active, so the pause step runs), an
// ad group and an ad under each campaign.

#include <string>
#include <vector>

namespace unlinkd::reliability {

// One credential profile and the batch that uses it.
struct credential_batch {
  std::string batch;    // the manifest's batch name
  std::string profile;  // the manifest's `credentials`
  std::string token;    // the sandbox token behind the profile
  std::string app_id;
  std::string manifest;  // the manifest's YAML
};

struct credentials_world {
  std::string fixture;  // the sandbox fixture's YAML
  std::vector<credential_batch> batches;
};

// `accounts_per_batch` accounts for each of the two profiles; the manifests
// back up reports from `reports_since` (YYYY-MM-DD) on and let a batch have
// `concurrency` accounts in flight, so that neither batch takes every slot.
credentials_world make_credentials_world(int accounts_per_batch, const std::string& reports_since,
                                         int concurrency);

}  // namespace unlinkd::reliability
