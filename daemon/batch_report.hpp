#pragma once
// A batch's report (PRODUCT.md §6 reports/<batch>.json and .csv): per account
// its ID, label, type, mode, final state, the step and reason it failed at,
// the last API code and request_id, its backup folder and digest, the
// campaigns paused, the API calls it made and when it started and ended; and
// a summary with counts, the duration and API calls per account. A dry run's
// report is its plan: per account what would happen and the estimated API
// calls and time at the credential's budget, summed in the summary. Pure: built from stored
// records, written by the service when a batch ends and served by GET /v1/batches/{batch}/report.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "store/account_record.hpp"
#include "store/batch_record.hpp"
#include "store/store.hpp"

namespace unlinkd::daemon {

std::string report_json(const store::batch_record& batch,
                        const std::vector<store::account_record>& accounts);
std::string report_csv(const store::batch_record& batch,
                       const std::vector<store::account_record>& accounts);

struct batch_contents {
  store::batch_record batch;
  std::vector<store::account_record> accounts;  // by account ID
};

// The batch named `name` (or with `id`) and all its accounts, read page by
// page from the store's reader; nothing when there is no such batch.
boost::asio::awaitable<store::store_result<std::optional<batch_contents>>> load_batch(
    store::store& store, std::optional<std::string> name, std::optional<std::int64_t> id);

// reports/<batch>.json and .csv, each written whole then renamed into place.
// The error is a sentence.
std::optional<std::string> write_report_files(const std::filesystem::path& reports_dir,
                                              const batch_contents& contents);

}  // namespace unlinkd::daemon
