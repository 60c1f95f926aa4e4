#pragma once
// Ingest: a validated manifest becomes its batch and all its accounts in one
// transaction, or nothing. Refusals are outcomes, not errors.

#include <cstdint>
#include <string>
#include <variant>

#include "config/manifest.hpp"

namespace unlinkd::store {

struct ingest_request {
  config::manifest manifest;  // validated by config::parse_manifest
  std::string sha256;         // config::sha256_hex of the file's bytes
  std::string source_file;    // the file name as submitted
  std::uint32_t submitter_uid = 0;
};

struct ingest_accepted {
  std::int64_t batch_id = 0;
  // The manifest's batch name; for a dry run "<batch>-dry-run[-N]".
  std::string batch_name;
};
// The same bytes were accepted before, as `batch_name`.
struct ingest_duplicate {
  std::int64_t batch_id = 0;
  std::string batch_name;
};
// The name was used by another manifest; names are never reused.
struct ingest_name_used {
  std::string batch_name;
};
// An account is still in a batch that has not finished.
struct ingest_account_busy {
  std::string account_id;
  std::string batch_name;
};

using ingest_outcome =
    std::variant<ingest_accepted, ingest_duplicate, ingest_name_used, ingest_account_busy>;

// A sentence for the operator (the rejected/NAME.error.txt file, the 409 body).
std::string describe(const ingest_outcome& outcome);

}  // namespace unlinkd::store
