#pragma once
// A client end of the daemon's control socket that a scenario drives byte by
// byte: garbage, oversized heads and bodies, one byte per while, or nothing
// at all. Unlike unix_get it sends exactly the bytes it is given and tells
// apart "answered", "closed without an answer" and "still open at the
// deadline", which is what the abuse checks are about.
//
// Failures are values: connect() returns the sentence of a failed connect;
// a reply that never came is an outcome, not an exception.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>
#include <sys/types.h>

namespace unlinkd::reliability {

// One HTTP/1.1 answer, as read off the wire.
struct raw_reply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

enum class raw_outcome : std::uint8_t {
  answered,   // a whole HTTP/1.1 reply came back
  closed,     // the peer closed (EOF or reset) without a whole reply
  timed_out,  // neither by the deadline
};

struct raw_result {
  raw_outcome outcome = raw_outcome::timed_out;
  raw_reply reply;             // when answered
  std::size_t bytes_sent = 0;  // of what send_and_read was given
  std::chrono::milliseconds took{0};
};

// "answered 413 application/json {...}", "closed", "timed out": for messages.
std::string describe(const raw_result& result);

// A whole reply at the front of `bytes` (head, then Content-Length bytes or
// a chunked body to its last chunk); nullopt while it is incomplete or not
// HTTP/1.1.
std::optional<raw_reply> parse_reply(std::string_view bytes);

class raw_socket {
 public:
  // A non-blocking connection to the Unix socket at `path`; the error is a
  // sentence (EAGAIN when the listen backlog is full, say).
  static boost::system::result<raw_socket, std::string> connect(const std::string& path);

  raw_socket(raw_socket&& other) noexcept;
  raw_socket& operator=(raw_socket&& other) noexcept;
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;
  ~raw_socket();

  [[nodiscard]] int fd() const { return fd_; }

  // Sends `bytes` while reading what comes back: sending stops when the peer
  // answers or closes (a server refusing a large body answers before it has
  // read it all). Then reads until the reply is whole, the peer closes, or
  // the deadline.
  raw_result send_and_read(std::string_view bytes, std::chrono::milliseconds deadline);

  // Sends one byte if it can, then waits up to `pace` for the peer to close
  // or answer. True when the peer closed or answered (the byte may be lost).
  bool send_byte_and_watch(char byte, std::chrono::milliseconds pace);

  // Reads what is there without waiting; true when the peer has closed.
  bool peer_closed();

 private:
  explicit raw_socket(int fd) : fd_(fd) {}
  // Reads what is there; false when the peer closed or failed.
  bool drain();

  int fd_ = -1;
  std::string received_;
};

// The pid of the process that listens on the Unix socket at `path`, from
// SO_PEERCRED on a connection to it; the error is a sentence.
boost::system::result<pid_t, std::string> listener_pid(const std::string& path);

}  // namespace unlinkd::reliability
