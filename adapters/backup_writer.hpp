#pragma once
// The file side of a backup (PRODUCT.md §3): a temporary folder beside the
// target (mode 0700, files 0600), each file fsynced before SHA256SUMS (in
// sha256sum's format) names it, then rename into place, parent fsync, and a
// read-back that checks every sum. Until publish() succeeds nothing is
// at the target; a writer dropped before that removes its temporary folder,
// and a stale one (named `.ACCOUNT.partial`) is removed when the next
// attempt starts. Blocking POSIX I/O: run it off the io_context thread.
//
// Errors are api_errors with code 0: `retryable` for a full disk (space may
// be freed), `permanent` for everything else (bad path component, I/O
// error, a published folder whose sums do not match).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/api_client.hpp"

namespace unlinkd::adapters {

struct published_backup {
  std::filesystem::path folder;
  std::string digest;  // SHA-256 of the SHA256SUMS file, hex
  std::uint64_t bytes = 0;
  std::uint32_t files = 0;
};

// The folder a backup of this account goes to, after checking the path
// components: the batch by the manifest rule, the account digits only.
api_result<std::filesystem::path> backup_folder(const std::filesystem::path& root,
                                                std::string_view batch,
                                                std::string_view account_id);

// A published backup of the account whose SHA256SUMS verifies, if any. An
// existing folder that does not verify is an error (never overwritten).
api_result<std::optional<published_backup>> find_published_backup(const std::filesystem::path& root,
                                                                  std::string_view batch,
                                                                  std::string_view account_id);

// Lowercase hex SHA-256 of bytes (for tests and the digest).
std::string sha256_hex(std::string_view bytes);

class backup_writer {
 public:
  // Checks the path, the free space under `root` (at least min_free_bytes
  // available), removes a stale temporary folder and creates a new one.
  static api_result<backup_writer> start(const std::filesystem::path& root, std::string_view batch,
                                         std::string_view account_id, std::uint64_t min_free_bytes);

  backup_writer(backup_writer&& other) noexcept;
  backup_writer& operator=(backup_writer&&) = delete;
  backup_writer(const backup_writer&) = delete;
  backup_writer& operator=(const backup_writer&) = delete;
  ~backup_writer();

  // One file at a time: open, append any number of times, close (its
  // writeback starts; publish() fsyncs it).
  api_result<void> open_file(std::string_view name);
  api_result<void> append(std::string_view bytes);
  api_result<void> close_file();

  // fsyncs every file, writes SHA256SUMS and fsyncs it and the folder,
  // renames into place, fsyncs the parent and reads everything back.
  api_result<published_backup> publish();

  [[nodiscard]] const std::filesystem::path& temp_folder() const { return temp_; }

 private:
  backup_writer(std::filesystem::path temp, std::filesystem::path target);
  api_result<void> create(std::string_view name);  // open_file without the name check
  void discard() noexcept;

  struct written_file {
    std::string name;
    std::string sha256;
    std::uint64_t bytes = 0;
  };
  struct hash_state;

  std::filesystem::path temp_;
  std::filesystem::path target_;
  int fd_ = -1;
  std::string current_;
  std::uint64_t current_bytes_ = 0;
  std::unique_ptr<hash_state> hash_;
  std::vector<written_file> files_;
  bool published_ = false;
};

}  // namespace unlinkd::adapters
