#pragma once
// Many connections to the control socket opened at once, each sending the
// same request (or nothing: idle clients that hold a place), then watched
// together until every one is answered or closed, or a deadline. What each
// connection saw and when is counted, so a scenario can check the
// documented cap ("256 connections, more are closed at once") and the read
// deadline that frees the places held by idle clients.

#include <chrono>
#include <cstddef>
#include <string>

namespace unlinkd::reliability {

struct flood_result {
  std::size_t wanted = 0;
  std::size_t connected = 0;
  std::size_t connect_failed = 0;  // connect() refused (a full listen backlog)
  std::string first_connect_error;
  std::size_t answered = 0;                 // a whole reply
  std::size_t answered_200 = 0;             // of which 200
  std::size_t closed_at_once = 0;           // closed without an answer within `at_once`
  std::size_t closed_later = 0;             // closed without an answer after that
  std::size_t still_open = 0;               // neither by the deadline
  std::chrono::milliseconds last_close{0};  // when the last one closed, from the start
  std::chrono::milliseconds took{0};
  [[nodiscard]] std::string describe() const;
};

// Opens `count` connections to `socket_path` as fast as it can, sends
// `request` on each (nothing when empty), then watches them all until each
// is answered or closed, or `deadline` from the start.
flood_result flood_connections(const std::string& socket_path, std::size_t count,
                               const std::string& request, std::chrono::milliseconds deadline,
                               std::chrono::milliseconds at_once = std::chrono::seconds(1));

// Raises this process's soft RLIMIT_NOFILE to its hard limit; the limit in
// force afterwards.
std::size_t raise_open_files_limit();

}  // namespace unlinkd::reliability
