#include "tests/reliability/credentials_control.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <boost/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace unlinkd::reliability {

namespace json = boost::json;

namespace {

using steady = std::chrono::steady_clock;

int remaining_ms(steady::time_point end) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - steady::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

// Closes the socket however the exchange ends.
struct socket_fd {
  int fd = -1;
  socket_fd() : fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) {}
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;
  ~socket_fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

}  // namespace

std::optional<unix_reply> unix_post(const std::string& socket_path, const std::string& target,
                                    std::chrono::milliseconds deadline) {
  const auto end = steady::now() + deadline;
  const socket_fd s;
  if (s.fd < 0) {
    return std::nullopt;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
  if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return std::nullopt;
  }
  const std::string request = "POST " + target +
                              " HTTP/1.1\r\nHost: unlinkd\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    pollfd p{s.fd, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(end)) != 1) {
      return std::nullopt;
    }
    const auto n = ::send(s.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return std::nullopt;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  for (;;) {
    pollfd p{s.fd, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(end)) != 1) {
      return std::nullopt;
    }
    char buffer[16384];
    const auto n = ::recv(s.fd, buffer, sizeof buffer, 0);
    if (n < 0) {
      return std::nullopt;
    }
    if (n == 0) {
      break;
    }
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  // The control API answers a change with a small JSON body and a
  // Content-Length; anything else is malformed here.
  const auto head_end = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.1 ") || head_end == std::string::npos || raw.size() < 12) {
    return std::nullopt;
  }
  unix_reply reply;
  reply.status = static_cast<unsigned>(std::atoi(raw.substr(9, 3).c_str()));
  reply.body = raw.substr(head_end + 4);
  return reply;
}

std::optional<std::vector<json::object>> read_events(const std::string& socket_path) {
  constexpr std::size_t page = 1000;
  std::vector<json::object> events;
  std::int64_t since = 0;
  for (;;) {
    const auto reply = unix_get(
        socket_path,
        "/v1/events?since=" + std::to_string(since) + "&follow=false&limit=" + std::to_string(page),
        std::chrono::seconds(10));
    if (!reply || reply->status != 200) {
      return std::nullopt;
    }
    std::istringstream lines(reply->body);
    std::size_t read = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) {
        continue;
      }
      std::error_code ec;
      auto v = json::parse(line, ec);
      if (ec || !v.is_object() || !v.as_object().contains("seq")) {
        return std::nullopt;
      }
      since = v.as_object().at("seq").to_number<std::int64_t>();
      events.push_back(std::move(v.as_object()));
      ++read;
    }
    if (read < page) {
      return events;
    }
  }
}

std::vector<json::object> events_of_kind(const std::vector<json::object>& events,
                                         const std::string& kind) {
  std::vector<json::object> out;
  for (const auto& e : events) {
    if (const auto* k = e.if_contains("kind");
        k != nullptr && k->is_string() && k->as_string() == kind) {
      out.push_back(e);
    }
  }
  return out;
}

}  // namespace unlinkd::reliability
