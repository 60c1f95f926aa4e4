#include "tests/reliability/unix_http.hpp"

#include <cstdio>
#include <cstdlib>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace unlinkd::reliability {

namespace {

using steady = std::chrono::steady_clock;

int remaining_ms(steady::time_point end) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - steady::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

// The body of a chunked message; nullopt when it is cut short.
std::optional<std::string> dechunk(const std::string& raw) {
  std::string out;
  std::size_t at = 0;
  while (true) {
    const auto eol = raw.find("\r\n", at);
    if (eol == std::string::npos) {
      return std::nullopt;
    }
    const auto size = std::strtoul(raw.substr(at, eol - at).c_str(), nullptr, 16);
    if (size == 0) {
      return out;
    }
    if (eol + 2 + size > raw.size()) {
      return std::nullopt;
    }
    out.append(raw, eol + 2, size);
    at = eol + 2 + size + 2;
  }
}

// One exchange: `method` with an empty body.
std::optional<unix_reply> exchange(const std::string& socket_path, const std::string& method,
                                   const std::string& target, std::chrono::milliseconds deadline) {
  const auto end = steady::now() + deadline;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return std::nullopt;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
  std::optional<unix_reply> reply;
  std::string raw;
  const std::string request = method + " " + target + " HTTP/1.1\r\nHost: unlinkd\r\n" +
                              (method == "GET" ? "" : "Content-Length: 0\r\n") +
                              "Connection: close\r\n\r\n";
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  std::size_t sent = 0;
  while (sent < request.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(end)) != 1) {
      ::close(fd);
      return std::nullopt;
    }
    const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return std::nullopt;
    }
    sent += static_cast<std::size_t>(n);
  }
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(end)) != 1) {
      ::close(fd);
      return std::nullopt;
    }
    char buffer[65536];
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) {
      break;
    }
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto head_end = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.1 ") || head_end == std::string::npos || raw.size() < 12) {
    return std::nullopt;
  }
  reply.emplace();
  reply->status = static_cast<unsigned>(std::atoi(raw.substr(9, 3).c_str()));
  const std::string head = raw.substr(0, head_end);
  std::string body = raw.substr(head_end + 4);
  std::string lower;
  for (const char c : head) {
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lower.find("transfer-encoding: chunked") != std::string::npos) {
    auto plain = dechunk(body);
    if (!plain) {
      return std::nullopt;
    }
    body = std::move(*plain);
  }
  reply->body = std::move(body);
  return reply;
}

}  // namespace

std::optional<unix_reply> unix_get(const std::string& socket_path, const std::string& target,
                                   std::chrono::milliseconds deadline) {
  return exchange(socket_path, "GET", target, deadline);
}

std::optional<unix_reply> unix_post(const std::string& socket_path, const std::string& target,
                                    std::chrono::milliseconds deadline) {
  return exchange(socket_path, "POST", target, deadline);
}

}  // namespace unlinkd::reliability
