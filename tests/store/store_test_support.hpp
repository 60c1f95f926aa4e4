#pragma once
// Shared by the store's tests: a temporary directory per test, a captured
// logger, manifests built in memory, a bounded way to run a coroutine, and
// full counts straight from the file to compare the in-memory counts with.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include "config/manifest.hpp"
#include "store/count_table.hpp"
#include "store/ingest.hpp"
#include "store/store.hpp"

namespace unlinkd::store::test {

// A fresh directory under the system temp dir, removed with its contents.
class temp_dir {
 public:
  temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A logger whose lines a test can read.
struct captured_log {
  captured_log();
  [[nodiscard]] std::string text() const { return stream->str(); }
  std::shared_ptr<std::ostringstream> stream;
  std::shared_ptr<spdlog::logger> logger;
};

// A clock the test moves by hand.
struct manual_clock {
  std::shared_ptr<std::atomic<std::int64_t>> ms =
      std::make_shared<std::atomic<std::int64_t>>(1'780'000'000'000);  // 2026-05-28
  [[nodiscard]] clock_fn fn() const {
    return [ms = ms] {
      return std::chrono::system_clock::time_point{std::chrono::milliseconds{ms->load()}};
    };
  }
  [[nodiscard]] std::chrono::system_clock::time_point now() const { return fn()(); }
  void advance(std::chrono::milliseconds d) const { *ms += d.count(); }
};

// A valid manifest named `batch` with `n` advertisers (partner_share) whose
// IDs are `first_id`, `first_id + 1`, ...
config::manifest make_manifest(const std::string& batch, std::size_t n,
                               std::uint64_t first_id = 7100000000000000000ULL);

ingest_request make_request(config::manifest m, const std::string& sha256 = "");

// Runs `a` on `io` for at most `limit`; fails the test if it did not finish.
template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> a,
      std::chrono::seconds limit = std::chrono::seconds{30}) {
  std::optional<T> out;
  std::exception_ptr error;
  boost::asio::co_spawn(io, std::move(a), [&](const std::exception_ptr& e, T v) {
    error = e;
    out.emplace(std::move(v));
  });
  io.restart();
  io.run_for(limit);
  if (error) {
    std::rethrow_exception(error);
  }
  if (!out) {
    throw std::runtime_error("the coroutine did not finish within the time limit");
  }
  return std::move(*out);
}

// Counts by batch, state and step, by a full scan of the file on a
// connection of its own (what the in-memory counts must always equal).
count_map full_count(const std::string& db_path);

// Opens or fails the test.
std::unique_ptr<store> open_store(const std::string& path, spdlog::logger& log,
                                  store_options options = {});

}  // namespace unlinkd::store::test
