#include "tests/reliability/raw_socket.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

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

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The value of header `name` (lowercase) in a head already lowercased.
std::string header_value(const std::string& lower_head, const std::string& name) {
  const auto at = lower_head.find("\r\n" + name + ":");
  if (at == std::string::npos) {
    return {};
  }
  auto from = at + 2 + name.size() + 1;
  while (from < lower_head.size() && lower_head[from] == ' ') {
    ++from;
  }
  const auto eol = lower_head.find("\r\n", from);
  return lower_head.substr(from, eol == std::string::npos ? std::string::npos : eol - from);
}

// The body of a chunked message; nullopt while it is incomplete.
std::optional<std::string> dechunk(std::string_view raw) {
  std::string out;
  std::size_t at = 0;
  while (true) {
    const auto eol = raw.find("\r\n", at);
    if (eol == std::string_view::npos) {
      return std::nullopt;
    }
    const auto size = std::strtoul(std::string(raw.substr(at, eol - at)).c_str(), nullptr, 16);
    if (size == 0) {
      return out;
    }
    if (eol + 2 + size + 2 > raw.size()) {
      return std::nullopt;
    }
    out.append(raw.substr(eol + 2, size));
    at = eol + 2 + size + 2;
  }
}

}  // namespace

std::string describe(const raw_result& result) {
  const std::string took = " after " + std::to_string(result.took.count()) + " ms";
  switch (result.outcome) {
    case raw_outcome::answered:
      return "answered " + std::to_string(result.reply.status) + " " + result.reply.content_type +
             " " + result.reply.body.substr(0, 300) + took;
    case raw_outcome::closed:
      return "closed without an answer" + took;
    case raw_outcome::timed_out:
      break;
  }
  return "neither answered nor closed" + took;
}

std::optional<raw_reply> parse_reply(std::string_view bytes) {
  const auto head_end = bytes.find("\r\n\r\n");
  if (!bytes.starts_with("HTTP/1.1 ") || head_end == std::string_view::npos || bytes.size() < 12) {
    return std::nullopt;
  }
  raw_reply reply;
  reply.status = static_cast<unsigned>(std::atoi(std::string(bytes.substr(9, 3)).c_str()));
  const std::string head = lowercase(bytes.substr(0, head_end));
  reply.content_type = header_value(head, "content-type");
  const std::string_view rest = bytes.substr(head_end + 4);
  if (header_value(head, "transfer-encoding") == "chunked") {
    auto body = dechunk(rest);
    if (!body) {
      return std::nullopt;
    }
    reply.body = std::move(*body);
    return reply;
  }
  const std::string length = header_value(head, "content-length");
  const std::size_t wanted = length.empty() ? 0 : std::strtoull(length.c_str(), nullptr, 10);
  if (rest.size() < wanted) {
    return std::nullopt;
  }
  reply.body = std::string(rest.substr(0, wanted));
  return reply;
}

boost::system::result<raw_socket, std::string> raw_socket::connect(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return {boost::system::in_place_error, std::string("socket() failed: ") + std::strerror(errno)};
  }
  raw_socket s(fd);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return {boost::system::in_place_error,
            "cannot connect to " + path + ": " + std::string(std::strerror(errno))};
  }
  return s;
}

raw_socket::raw_socket(raw_socket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), received_(std::move(other.received_)) {}

raw_socket& raw_socket::operator=(raw_socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
    received_ = std::move(other.received_);
  }
  return *this;
}

raw_socket::~raw_socket() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool raw_socket::drain() {
  char buffer[65536];
  while (true) {
    const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      received_.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    return false;  // EOF or reset
  }
}

raw_result raw_socket::send_and_read(std::string_view bytes, std::chrono::milliseconds deadline) {
  const auto start = steady::now();
  const auto end = start + deadline;
  raw_result out;
  bool open = true;
  bool sending = !bytes.empty();
  while (open) {
    if (auto reply = parse_reply(received_)) {
      out.outcome = raw_outcome::answered;
      out.reply = std::move(*reply);
      break;
    }
    pollfd p{fd_, static_cast<short>(POLLIN | (sending ? POLLOUT : 0)), 0};
    const int ready = ::poll(&p, 1, remaining_ms(end));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      out.outcome = raw_outcome::timed_out;
      break;
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      open = drain();
      sending = false;  // the peer answered or closed: the rest would not be read
      if (!open) {
        out.outcome = raw_outcome::closed;
      }
      continue;
    }
    if ((p.revents & POLLOUT) != 0) {
      const std::size_t piece = std::min<std::size_t>(bytes.size() - out.bytes_sent, 65536);
      const auto n = ::send(fd_, bytes.data() + out.bytes_sent, piece, MSG_NOSIGNAL);
      if (n > 0) {
        out.bytes_sent += static_cast<std::size_t>(n);
        sending = out.bytes_sent < bytes.size();
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        sending = false;  // EPIPE or reset: what it said, if anything, is still to be read
      }
    }
  }
  // A reply may have come whole just before the close.
  if (out.outcome == raw_outcome::closed) {
    if (auto reply = parse_reply(received_)) {
      out.outcome = raw_outcome::answered;
      out.reply = std::move(*reply);
    }
  }
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
  return out;
}

bool raw_socket::send_byte_and_watch(char byte, std::chrono::milliseconds pace) {
  const auto n = ::send(fd_, &byte, 1, MSG_NOSIGNAL);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    return true;
  }
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, static_cast<int>(pace.count())) == 1) {
    return !drain() || !received_.empty();
  }
  return false;
}

bool raw_socket::peer_closed() { return !drain(); }

boost::system::result<pid_t, std::string> listener_pid(const std::string& path) {
  auto s = raw_socket::connect(path);
  if (!s) {
    return {boost::system::in_place_error, s.error()};
  }
  ucred cred{};
  socklen_t size = sizeof cred;
  if (::getsockopt(s->fd(), SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0 || cred.pid <= 0) {
    return {boost::system::in_place_error,
            "SO_PEERCRED on " + path + " failed: " + std::string(std::strerror(errno))};
  }
  return cred.pid;
}

}  // namespace unlinkd::reliability
