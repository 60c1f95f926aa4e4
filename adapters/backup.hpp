#pragma once
// The backup step (PRODUCT.md §3): everything the account's relationship
// carries, streamed page by page into backups/<batch>/<account>/ through a
// backup_writer, then published atomically and read back. For an ad
// account: its info, campaigns, ad groups and ads (deleted ones too) and
// daily reports per ad in 30-day windows; for a TikTok account: its
// BC-side records (the asset and its bindings). A published backup that
// verifies is reused, so the step is repeatable at no API cost.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "adapters/api_client.hpp"
#include "adapters/platform.hpp"

namespace unlinkd::adapters {

struct backup_settings {
  std::filesystem::path root;  // <state_dir>/backups
  std::uint64_t min_free_bytes = 64ULL * 1024 * 1024;
  boost::asio::any_io_executor file_executor;  // empty: file work inline
  std::chrono::system_clock::time_point created_at;
};

// The files of an ad account's backup, in the order they are written.
inline constexpr const char* advertiser_backup_files[] = {"advertiser.json", "campaigns.jsonl",
                                                          "adgroups.jsonl",  "ads.jsonl",
                                                          "reports.jsonl",   "backup.json"};
inline constexpr const char* tiktok_backup_files[] = {"asset.jsonl", "bindings.jsonl",
                                                      "backup.json"};

boost::asio::awaitable<api_result<backup_outcome>> run_backup(
    api_client& client, const call_context& ctx, const account_job& job,
    const std::vector<std::string>& campaigns, const backup_settings& settings);

}  // namespace unlinkd::adapters
