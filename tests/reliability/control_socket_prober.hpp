#pragma once
// The well-behaved client of the abuse scenarios: a thread that asks the
// daemon GET /v1/health and GET /v1/batches in turn, about ten times a
// second, each with its own deadline, and keeps every answer's time and
// latency so a scenario can say "during this phase every request was
// answered within N ms" or "the longest stretch without an answer was N s".
// Also the daemon's memory, read from /proc/<pid>/status.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/system/result.hpp>
#include <sys/types.h>

namespace unlinkd::reliability {

struct probe_sample {
  std::chrono::steady_clock::time_point at;  // when the request was sent
  std::string target;
  bool answered = false;  // a 200 with a JSON body of the expected shape
  std::chrono::milliseconds took{0};
};

// What one window of samples looked like.
struct probe_summary {
  std::size_t sent = 0;
  std::size_t answered = 0;
  std::chrono::milliseconds slowest_answer{0};
  // The slowest request of all, answered or not: a refused one returns at
  // once, a hung one only at the probe's deadline.
  std::chrono::milliseconds slowest_request{0};
  // The longest time between two answers (or the window's edges).
  std::chrono::milliseconds longest_silence{0};
  [[nodiscard]] std::string describe() const;
};

class control_socket_prober {
 public:
  // Starts probing `socket_path`; `batch` (may be empty) must be listed by
  // GET /v1/batches for that answer to count.
  control_socket_prober(std::string socket_path, std::string batch,
                        std::chrono::milliseconds deadline = std::chrono::seconds(5));
  control_socket_prober(const control_socket_prober&) = delete;
  control_socket_prober& operator=(const control_socket_prober&) = delete;
  ~control_socket_prober();

  // The samples sent within [from, to).
  probe_summary summary(std::chrono::steady_clock::time_point from,
                        std::chrono::steady_clock::time_point to) const;
  // Stops the thread (also done by the destructor).
  void stop();

 private:
  void run();
  [[nodiscard]] probe_sample probe(const std::string& target) const;

  std::string socket_path_;
  std::string batch_;
  std::chrono::milliseconds deadline_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<probe_sample> samples_;
  std::thread thread_;
};

// VmRSS and VmHWM (the peak resident size) of a process, in KiB.
struct process_memory {
  std::int64_t rss_kib = 0;
  std::int64_t hwm_kib = 0;
};

// From /proc/<pid>/status; the error is a sentence.
boost::system::result<process_memory, std::string> memory_of(pid_t pid);

// The scenarios' bound on the daemon's growth of VmRSS and of VmHWM: 64 MiB;
// 1 GiB under AddressSanitizer, whose quarantine keeps freed blocks
// resident (the bound then only catches a runaway).
std::int64_t memory_growth_bound_kib();

// A sentence when either figure grew past the bound, else empty.
std::string memory_growth_problem(const process_memory& before, const process_memory& after);

}  // namespace unlinkd::reliability
