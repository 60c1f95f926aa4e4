#pragma once
// Watches inbox_dir with inotify (PRODUCT.md §7) and hands each arriving
// file to the manifest intake, which runs on a thread of its own:
// - a file renamed in (IN_MOVED_TO) is taken at once: the contract is
//   "write elsewhere, then rename into the inbox"; unless it is still open
//   for writing (renamed too early), then it waits as if written in place;
// - a file written in place is taken once it has been closed and left
//   alone for the quiet period (IN_CLOSE_WRITE, any IN_MODIFY restarting
//   the wait), so a slow writer is not read half-way;
// - at start, and after an inotify queue overflow, the whole inbox is
//   scanned (files modified within the quiet period wait for it).
// Files left in processing/ by a crash are the intake's recover(), which
// the service runs before this starts.
// The results come back on the io_context (to poke the scheduler, say).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/system/result.hpp>

#include "daemon/manifest_intake.hpp"

namespace unlinkd::daemon {

// Whether any process has a regular file open for writing, asked with a
// read lease: `unknown` when the lease cannot be asked (not the file's
// owner and no CAP_LEASE, not a regular file).
enum class write_state : std::uint8_t { closed, open, unknown };
write_state open_for_writing(const std::filesystem::path& path);

class inbox_watcher {
 public:
  inbox_watcher(boost::asio::any_io_executor executor, std::filesystem::path inbox_dir,
                manifest_intake& intake, std::chrono::milliseconds quiet_period,
                std::function<void(const intake_result&)> on_result, spdlog::logger& log);
  inbox_watcher(const inbox_watcher&) = delete;
  inbox_watcher& operator=(const inbox_watcher&) = delete;
  // Waits for the file being taken, if any.
  ~inbox_watcher();

  // Starts watching; the error is a sentence.
  boost::system::result<void, std::string> start();
  // Scans the inbox, then reads events until stop().
  boost::asio::awaitable<void> run();
  void stop();
  // Scans the inbox as after an overflow (also at start).
  void scan();

 private:
  void on_events(const char* data, std::size_t n);
  void on_event(std::uint32_t mask, const std::string& name);
  void wait_quiet(const std::string& name);
  void hand_over(const std::string& name);
  // Hands it over unless a writer still has it open (its close re-triggers).
  void take_unless_written(const std::string& name);

  boost::asio::any_io_executor executor_;
  std::filesystem::path inbox_dir_;
  manifest_intake& intake_;
  std::chrono::milliseconds quiet_;
  std::function<void(const intake_result&)> on_result_;
  spdlog::logger& log_;
  boost::asio::posix::stream_descriptor inotify_;
  boost::asio::thread_pool intake_thread_{1};
  std::map<std::string, std::unique_ptr<boost::asio::steady_timer>> quiet_timers_;
  bool stopping_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace unlinkd::daemon
