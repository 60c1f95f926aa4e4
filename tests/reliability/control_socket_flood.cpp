#include "tests/reliability/control_socket_flood.hpp"

#include <vector>

#include <poll.h>
#include <sys/resource.h>

#include "tests/reliability/raw_socket.hpp"

namespace unlinkd::reliability {

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds since(steady::time_point from) {
  return std::chrono::duration_cast<milliseconds>(steady::now() - from);
}

struct watched {
  raw_socket socket;
  std::size_t sent = 0;
  bool done = false;
};

}  // namespace

std::string flood_result::describe() const {
  return std::to_string(wanted) + " wanted, " + std::to_string(connected) + " connected (" +
         std::to_string(connect_failed) + " refused by connect" +
         (first_connect_error.empty() ? "" : ": " + first_connect_error) + "); " +
         std::to_string(answered) + " answered (" + std::to_string(answered_200) + " with 200), " +
         std::to_string(closed_at_once) + " closed at once, " + std::to_string(closed_later) +
         " closed later (the last after " + std::to_string(last_close.count()) + " ms), " +
         std::to_string(still_open) + " still open after " + std::to_string(took.count()) + " ms";
}

flood_result flood_connections(const std::string& socket_path, std::size_t count,
                               const std::string& request, milliseconds deadline,
                               milliseconds at_once) {
  const auto start = steady::now();
  flood_result out;
  out.wanted = count;
  std::vector<watched> open;
  open.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto s = raw_socket::connect(socket_path);
    if (!s) {
      ++out.connect_failed;
      if (out.first_connect_error.empty()) {
        out.first_connect_error = s.error();
      }
      continue;
    }
    open.push_back(watched{std::move(*s), 0, false});
  }
  out.connected = open.size();
  // Every request is small: one send each fits the socket buffer; a partial
  // one is finished by the loop below.
  std::vector<pollfd> polls(open.size());
  std::size_t left = open.size();
  while (left > 0 && since(start) < deadline) {
    for (std::size_t i = 0; i < open.size(); ++i) {
      const auto& w = open[i];
      const bool sending = w.sent < request.size();
      polls[i] = pollfd{w.done ? -1 : w.socket.fd(),
                        static_cast<short>(POLLIN | (sending ? POLLOUT : 0)), 0};
    }
    const auto wait = deadline - since(start);
    if (::poll(polls.data(), polls.size(),
               static_cast<int>(std::max<milliseconds::rep>(wait.count(), 0))) <= 0) {
      break;
    }
    for (std::size_t i = 0; i < open.size(); ++i) {
      auto& w = open[i];
      if (w.done || polls[i].revents == 0) {
        continue;
      }
      if ((polls[i].revents & POLLOUT) != 0 && w.sent < request.size()) {
        auto r = w.socket.send_and_read(request.substr(w.sent), milliseconds(0));
        w.sent += r.bytes_sent;
        if (r.outcome == raw_outcome::timed_out) {
          continue;
        }
        polls[i].revents = POLLIN;  // answered or closed while sending: count it below
      }
      if ((polls[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      const auto r = w.socket.send_and_read({}, milliseconds(0));
      if (r.outcome == raw_outcome::timed_out) {
        continue;  // part of a reply: more to come
      }
      w.done = true;
      --left;
      if (r.outcome == raw_outcome::answered) {
        ++out.answered;
        out.answered_200 += r.reply.status == 200 ? 1 : 0;
      } else if (since(start) <= at_once) {
        ++out.closed_at_once;
        out.last_close = since(start);
      } else {
        ++out.closed_later;
        out.last_close = since(start);
      }
    }
  }
  out.still_open = left;
  out.took = since(start);
  return out;
}

std::size_t raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return 0;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<std::size_t>(limit.rlim_cur);
}

}  // namespace unlinkd::reliability
