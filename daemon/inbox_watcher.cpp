#include "daemon/inbox_watcher.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

namespace unlinkd::daemon {

namespace asio = boost::asio;
namespace fs = std::filesystem;

write_state open_for_writing(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return write_state::unknown;  // gone, or not a regular file: the intake says which
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    return write_state::unknown;
  }
  // A read lease is refused with EAGAIN exactly while some descriptor has
  // the file open for writing; granted, it is dropped at once.
  write_state state = write_state::unknown;
  if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    ::fcntl(fd, F_SETLEASE, F_UNLCK);
    state = write_state::closed;
  } else if (errno == EAGAIN) {
    state = write_state::open;
  }
  ::close(fd);
  return state;
}

inbox_watcher::inbox_watcher(asio::any_io_executor executor, fs::path inbox_dir,
                             manifest_intake& intake, std::chrono::milliseconds quiet_period,
                             std::function<void(const intake_result&)> on_result,
                             spdlog::logger& log)
    : executor_(std::move(executor)),
      inbox_dir_(std::move(inbox_dir)),
      intake_(intake),
      quiet_(quiet_period),
      on_result_(std::move(on_result)),
      log_(log),
      inotify_(executor_) {}

inbox_watcher::~inbox_watcher() {
  *alive_ = false;
  intake_thread_.join();
}

boost::system::result<void, std::string> inbox_watcher::start() {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    return "cannot watch the inbox (inotify_init1): " + std::string(std::strerror(errno));
  }
  inotify_.assign(fd);
  const std::uint32_t mask = IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY | IN_ONLYDIR;
  if (::inotify_add_watch(fd, inbox_dir_.c_str(), mask) < 0) {
    return "cannot watch the inbox " + inbox_dir_.string() + ": " + std::strerror(errno);
  }
  return {};
}

void inbox_watcher::stop() {
  stopping_ = true;
  boost::system::error_code ignored;
  inotify_.cancel(ignored);
  for (auto& [name, t] : quiet_timers_) {
    t->cancel();
  }
}

void inbox_watcher::hand_over(const std::string& name) {
  if (stopping_) {
    return;
  }
  asio::post(intake_thread_, [this, name, alive = alive_] {
    if (!*alive) {
      return;
    }
    intake_result result = intake_.take(name);
    asio::post(executor_, [this, result = std::move(result), alive] {
      if (*alive && on_result_) {
        on_result_(result);
      }
    });
  });
}

void inbox_watcher::wait_quiet(const std::string& name) {
  auto& t = quiet_timers_[name];
  if (!t) {
    t = std::make_unique<asio::steady_timer>(executor_);
  }
  t->expires_after(quiet_);  // also cancels an earlier wait for this name
  t->async_wait([this, name, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) {
      return;  // restarted by a later change, or stopping
    }
    quiet_timers_.erase(name);
    take_unless_written(name);
  });
}

void inbox_watcher::take_unless_written(const std::string& name) {
  // Renamed in before its writer closed it (the contract says write, close,
  // then rename): taking it now would store a prefix of the manifest. Its
  // IN_CLOSE_WRITE starts the quiet wait, as for a file written in place.
  if (open_for_writing(inbox_dir_ / name) == write_state::open) {
    log_.warn("inbox: {} is still open for writing; it is taken once closed and quiet for {} ms",
              name, quiet_.count());
    return;
  }
  hand_over(name);
}

void inbox_watcher::on_event(std::uint32_t mask, const std::string& name) {
  if ((mask & IN_Q_OVERFLOW) != 0U) {
    log_.warn("inbox: the event queue overflowed; scanning the whole inbox");
    scan();
    return;
  }
  if (name.empty() || ignored_name(name)) {
    return;
  }
  if ((mask & IN_MOVED_TO) != 0U) {
    quiet_timers_.erase(name);
    take_unless_written(name);
  } else if ((mask & (IN_CLOSE_WRITE | IN_MODIFY)) != 0U) {
    // Closed after writing: take it once it has been quiet; a change meanwhile
    // (the writer opened it again) restarts the wait.
    if ((mask & IN_CLOSE_WRITE) != 0U || quiet_timers_.contains(name)) {
      wait_quiet(name);
    }
  }
}

// Not in the coroutine: a struct with a flexible array member cannot live in
// a coroutine frame.
void inbox_watcher::on_events(const char* data, std::size_t n) {
  for (std::size_t at = 0; at + sizeof(inotify_event) <= n;) {
    inotify_event header{};
    std::memcpy(&header, data + at, sizeof header);
    const char* name = data + at + sizeof(inotify_event);
    const std::size_t room = std::min<std::size_t>(header.len, n - at - sizeof(inotify_event));
    on_event(header.mask, room > 0 ? std::string(name, ::strnlen(name, room)) : std::string());
    at += sizeof(inotify_event) + header.len;
  }
}

void inbox_watcher::scan() {
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (const auto& entry : fs::directory_iterator(inbox_dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (ignored_name(name)) {
      continue;
    }
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      std::error_code mtime_error;
      const auto modified = fs::last_write_time(entry.path(), mtime_error);
      if (!mtime_error && now - modified < quiet_) {
        wait_quiet(name);  // perhaps still being written
        continue;
      }
    }
    take_unless_written(name);
  }
}

asio::awaitable<void> inbox_watcher::run() {
  scan();
  std::array<char, std::size_t{64} * 1024> buffer{};
  while (!stopping_) {
    const auto [ec, n] = co_await inotify_.async_read_some(asio::buffer(buffer),
                                                           asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec != asio::error::operation_aborted) {
        log_.error("inbox: reading inotify events failed: {}", ec.message());
      }
      break;
    }
    on_events(buffer.data(), n);
  }
}

}  // namespace unlinkd::daemon
