#include "adapters/backup_writer.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "adapters/page_walker.hpp"
#include "config/scalars.hpp"

namespace unlinkd::adapters {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view sums_name = "SHA256SUMS";
constexpr std::size_t read_chunk = std::size_t{64} * 1024;
constexpr std::uint64_t mib = std::uint64_t{1024} * 1024;

// SHA-256, fetched from OpenSSL's provider once: EVP_sha256() makes every
// EVP_DigestInit_ex look it up again, and a backup hashes each file twice.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md != nullptr ? md : EVP_sha256();
}

api_error io_error(const std::string& what, const fs::path& path, int err) {
  // A full disk may be freed by a person; other I/O errors will not pass by themselves.
  const bool space = err == ENOSPC || err == EDQUOT;
  return own_error(space ? error_class::retryable : error_class::permanent,
                   what + " " + path.string() + ": " + std::strerror(err));
}

std::string hex(const unsigned char* bytes, unsigned n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::size_t{n} * 2);
  for (unsigned i = 0; i < n; ++i) {
    out.push_back(digits[bytes[i] >> 4U]);
    out.push_back(digits[bytes[i] & 0x0FU]);
  }
  return out;
}

// A file name unlinkd writes: no separators, no leading dot.
bool is_plain_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// fsyncs a folder, or a file already written (O_RDONLY is enough for fsync).
api_result<void> fsync_path(const fs::path& path, bool folder) {
  const int fd =
      ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (folder ? O_DIRECTORY : 0));
  if (fd < 0) {
    return io_error(folder ? "Cannot open folder" : "Cannot open", path, errno);
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    return io_error(folder ? "Cannot fsync folder" : "Cannot fsync", path, err);
  }
  return {};
}

api_result<void> write_all(int fd, std::string_view bytes, const fs::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return io_error("Cannot write", path, errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

api_result<void> make_private_dir(const fs::path& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return io_error("Cannot create folder", path, errno);
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return io_error("Cannot inspect folder", path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return own_error(error_class::permanent, path.string() + " exists and is not a folder.");
  }
  return {};
}

struct file_digest {
  std::string sha256;
  std::uint64_t bytes = 0;
};

api_result<file_digest> digest_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return io_error("Cannot read", path, errno);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, sha256_md(), nullptr);
  std::array<char, read_chunk> buffer{};
  file_digest out;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int err = errno;
      EVP_MD_CTX_free(ctx);
      ::close(fd);
      return io_error("Cannot read", path, err);
    }
    if (n == 0) {
      break;
    }
    EVP_DigestUpdate(ctx, buffer.data(), static_cast<std::size_t>(n));
    out.bytes += static_cast<std::uint64_t>(n);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, md.data(), &len);
  EVP_MD_CTX_free(ctx);
  ::close(fd);
  out.sha256 = hex(md.data(), len);
  return out;
}

api_result<std::string> read_small_file(const fs::path& path, std::size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return io_error("Cannot read", path, errno);
  }
  std::string text;
  std::array<char, read_chunk> buffer{};
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return io_error("Cannot read", path, err);
    }
    if (n == 0) {
      break;
    }
    text.append(buffer.data(), static_cast<std::size_t>(n));
    if (text.size() > limit) {
      ::close(fd);
      return own_error(error_class::permanent, path.string() + " is larger than expected.");
    }
  }
  ::close(fd);
  return text;
}

// Checks every line of a folder's SHA256SUMS against its file.
api_result<published_backup> verify_folder(const fs::path& folder) {
  auto sums = read_small_file(folder / sums_name, mib);
  if (!sums) {
    return sums.error();
  }
  published_backup out;
  out.folder = folder;
  out.digest = sha256_hex(*sums);
  std::istringstream lines(*sums);
  std::string line;
  while (std::getline(lines, line)) {
    // sha256sum's text format: 64 hex digits, two spaces, the name.
    if (line.size() < 67 || line.compare(64, 2, "  ") != 0 || !is_plain_name(line.substr(66))) {
      return own_error(error_class::permanent,
                       (folder / sums_name).string() + " has a malformed line: " + line);
    }
    const std::string name = line.substr(66);
    auto digest = digest_file(folder / name);
    if (!digest) {
      return digest.error();
    }
    if (digest->sha256 != line.substr(0, 64)) {
      return own_error(error_class::permanent,
                       "Checksum mismatch for " + (folder / name).string() + ".");
    }
    out.bytes += digest->bytes;
    ++out.files;
  }
  if (out.files == 0) {
    return own_error(error_class::permanent, (folder / sums_name).string() + " lists no file.");
  }
  return out;
}

}  // namespace

struct backup_writer::hash_state {
  hash_state() : ctx(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx, sha256_md(), nullptr); }
  hash_state(const hash_state&) = delete;
  hash_state& operator=(const hash_state&) = delete;
  ~hash_state() { EVP_MD_CTX_free(ctx); }
  EVP_MD_CTX* ctx;
};

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, sha256_md(), nullptr);
  return hex(md.data(), len);
}

api_result<fs::path> backup_folder(const fs::path& root, std::string_view batch,
                                   std::string_view account_id) {
  if (!config::is_valid_batch_name(batch)) {
    return own_error(error_class::permanent,
                     "The batch name \"" + std::string(batch) +
                         "\" cannot be a folder name ([a-z0-9][a-z0-9._-]{0,63}).");
  }
  if (!config::is_valid_id(account_id)) {
    return own_error(error_class::permanent, "The account ID \"" + std::string(account_id) +
                                                 "\" cannot be a folder name (digits only).");
  }
  return root / std::string(batch) / std::string(account_id);
}

api_result<std::optional<published_backup>> find_published_backup(const fs::path& root,
                                                                  std::string_view batch,
                                                                  std::string_view account_id) {
  auto folder = backup_folder(root, batch, account_id);
  if (!folder) {
    return folder.error();
  }
  struct stat st {};
  if (::lstat(folder->c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return std::optional<published_backup>{};
    }
    return io_error("Cannot inspect", *folder, errno);
  }
  auto verified = verify_folder(*folder);
  if (!verified) {
    api_error e = verified.error();
    e.kind = error_class::permanent;
    e.message = "A published backup exists at " + folder->string() + " but does not verify (" +
                e.message + "); move it away to let unlinkd back the account up again.";
    return e;
  }
  return std::optional<published_backup>{std::move(*verified)};
}

api_result<backup_writer> backup_writer::start(const fs::path& root, std::string_view batch,
                                               std::string_view account_id,
                                               std::uint64_t min_free_bytes) {
  auto target = backup_folder(root, batch, account_id);
  if (!target) {
    return target.error();
  }
  // The root and any missing folder above it are created private too.
  std::vector<fs::path> missing;
  for (fs::path p = root; !p.empty() && !fs::exists(p); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) {
      break;
    }
  }
  std::reverse(missing.begin(), missing.end());  // outermost first
  for (const auto& folder : missing) {
    if (auto made = make_private_dir(folder); !made) {
      return made.error();
    }
  }
  const fs::path batch_dir = target->parent_path();
  if (auto made = make_private_dir(batch_dir); !made) {
    return made.error();
  }
  struct statvfs vfs {};
  if (::statvfs(batch_dir.c_str(), &vfs) != 0) {
    return io_error("Cannot read the free space of", batch_dir, errno);
  }
  const std::uint64_t free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (free_bytes < min_free_bytes) {
    return own_error(error_class::retryable, "Only " + std::to_string(free_bytes / mib) +
                                                 " MiB free under " + batch_dir.string() +
                                                 "; a backup needs at least " +
                                                 std::to_string(min_free_bytes / mib) +
                                                 " MiB. Free some space; the step is retried.");
  }
  fs::path temp = batch_dir / ("." + std::string(account_id) + ".partial");
  std::error_code ec;
  fs::remove_all(temp, ec);  // a stale attempt of ours, by its name
  if (ec) {
    return io_error("Cannot remove the stale", temp, ec.value());
  }
  if (::mkdir(temp.c_str(), 0700) != 0) {
    return io_error("Cannot create folder", temp, errno);
  }
  return backup_writer(std::move(temp), std::move(*target));
}

backup_writer::backup_writer(fs::path temp, fs::path target)
    : temp_(std::move(temp)), target_(std::move(target)) {}

backup_writer::backup_writer(backup_writer&& other) noexcept
    : temp_(std::move(other.temp_)),
      target_(std::move(other.target_)),
      fd_(std::exchange(other.fd_, -1)),
      current_(std::move(other.current_)),
      current_bytes_(other.current_bytes_),
      hash_(std::move(other.hash_)),
      files_(std::move(other.files_)),
      published_(std::exchange(other.published_, true)) {}

backup_writer::~backup_writer() { discard(); }

void backup_writer::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!published_ && !temp_.empty()) {
    std::error_code ec;
    fs::remove_all(temp_, ec);
  }
}

api_result<void> backup_writer::open_file(std::string_view name) {
  if (fd_ >= 0 || !is_plain_name(name) || name == sums_name) {
    return own_error(error_class::permanent, "Backup file name refused: " + std::string(name));
  }
  return create(name);
}

api_result<void> backup_writer::create(std::string_view name) {
  const fs::path path = temp_ / std::string(name);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) {
    return io_error("Cannot create", path, errno);
  }
  current_ = name;
  current_bytes_ = 0;
  hash_ = std::make_unique<hash_state>();
  return {};
}

api_result<void> backup_writer::append(std::string_view bytes) {
  if (fd_ < 0) {
    return own_error(error_class::permanent, "Backup write with no file open.");
  }
  if (auto w = write_all(fd_, bytes, temp_ / current_); !w) {
    return w;
  }
  EVP_DigestUpdate(hash_->ctx, bytes.data(), bytes.size());
  current_bytes_ += bytes.size();
  return {};
}

api_result<void> backup_writer::close_file() {
  if (fd_ < 0) {
    return own_error(error_class::permanent, "Backup close with no file open.");
  }
  // Writeback starts now; publish() fsyncs the file before SHA256SUMS names
  // it. By then the blocks of every file are allocated in one journal
  // transaction, so the first fsync commits them all and the others find
  // little left to do (one fsync per file as it closed cost a commit each).
  const fs::path path = temp_ / current_;
  const int rc = ::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
  const int err = errno;
  ::close(fd_);
  fd_ = -1;
  if (rc != 0) {
    return io_error("Cannot write back", path, err);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned len = 0;
  EVP_DigestFinal_ex(hash_->ctx, md.data(), &len);
  hash_.reset();
  files_.push_back({current_, hex(md.data(), len), current_bytes_});
  return {};
}

api_result<published_backup> backup_writer::publish() {
  if (fd_ >= 0 || files_.empty()) {
    return own_error(error_class::permanent, "Backup published with a file open or no file.");
  }
  for (const auto& f : files_) {
    if (auto s = fsync_path(temp_ / f.name, false); !s) {
      return s.error();
    }
  }
  std::string sums;
  for (const auto& f : files_) {
    sums += f.sha256 + "  " + f.name + "\n";
  }
  // Written under its own name: the temporary folder is not the backup
  // until it is renamed into place, so SHA256SUMS needs no rename of its own.
  if (auto o = create(sums_name); !o) {
    return o.error();
  }
  if (auto w = append(sums); !w) {
    return w.error();
  }
  if (auto c = close_file(); !c) {
    return c.error();
  }
  files_.pop_back();
  if (auto s = fsync_path(temp_ / sums_name, false); !s) {
    return s.error();
  }
  if (auto s = fsync_path(temp_, true); !s) {
    return s.error();
  }
  // RENAME_NOREPLACE semantics: an existing target is never replaced.
  if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, target_.c_str(), RENAME_NOREPLACE) != 0) {
    return io_error("Cannot publish the backup as", target_, errno);
  }
  published_ = true;
  if (auto s = fsync_path(target_.parent_path(), true); !s) {
    return s.error();
  }
  auto verified = verify_folder(target_);
  if (!verified) {
    api_error e = verified.error();
    e.message = "The backup read back wrong: " + e.message;
    return e;
  }
  if (verified->files != files_.size()) {
    return own_error(error_class::permanent,
                     "The backup read back with a different number of files.");
  }
  return std::move(*verified);
}

}  // namespace unlinkd::adapters
