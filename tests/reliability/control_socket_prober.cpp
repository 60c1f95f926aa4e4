#include "tests/reliability/control_socket_prober.hpp"

#include <algorithm>
#include <fstream>

#include <boost/json.hpp>

#include "tests/reliability/unix_http.hpp"

namespace unlinkd::reliability {

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// About ten requests a second: often enough to see a stall of a second,
// rare enough not to be a load of its own.
constexpr milliseconds probe_pace{100};

milliseconds since(steady::time_point from, steady::time_point to) {
  return std::chrono::duration_cast<milliseconds>(to - from);
}

// Whether a 200 body is the answer the route documents (docs/CONTROL_API.md).
bool expected_shape(const std::string& target, const std::string& body, const std::string& batch) {
  std::error_code ec;
  const auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) {
    return false;
  }
  if (target == "/v1/health") {
    const auto* status = v.as_object().if_contains("status");
    return status != nullptr && status->is_string() && status->as_string() == "ok";
  }
  const auto* batches = v.as_object().if_contains("batches");
  if (batches == nullptr || !batches->is_array()) {
    return false;
  }
  if (batch.empty()) {
    return true;
  }
  return std::any_of(batches->as_array().begin(), batches->as_array().end(), [&](const auto& b) {
    const auto* name = b.is_object() ? b.as_object().if_contains("name") : nullptr;
    return name != nullptr && name->is_string() && name->as_string() == batch;
  });
}

}  // namespace

std::string probe_summary::describe() const {
  return std::to_string(answered) + " of " + std::to_string(sent) +
         " requests answered; slowest answer " + std::to_string(slowest_answer.count()) +
         " ms, slowest request " + std::to_string(slowest_request.count()) +
         " ms, longest time without an answer " + std::to_string(longest_silence.count()) + " ms";
}

control_socket_prober::control_socket_prober(std::string socket_path, std::string batch,
                                             milliseconds deadline)
    : socket_path_(std::move(socket_path)),
      batch_(std::move(batch)),
      deadline_(deadline),
      thread_([this] { run(); }) {}

control_socket_prober::~control_socket_prober() { stop(); }

void control_socket_prober::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

probe_sample control_socket_prober::probe(const std::string& target) const {
  probe_sample s;
  s.at = steady::now();
  s.target = target;
  const auto reply = unix_get(socket_path_, target, deadline_);
  s.took = since(s.at, steady::now());
  s.answered = reply && reply->status == 200 && expected_shape(target, reply->body, batch_);
  return s;
}

void control_socket_prober::run() {
  for (std::size_t n = 0;; ++n) {
    auto s = probe(n % 2 == 0 ? "/v1/health" : "/v1/batches");
    std::unique_lock lock(mutex_);
    samples_.push_back(std::move(s));
    // The pace between requests; stop() wakes it at once.
    if (wake_.wait_for(lock, probe_pace, [this] { return stopping_; })) {
      return;
    }
  }
}

probe_summary control_socket_prober::summary(steady::time_point from, steady::time_point to) const {
  const std::lock_guard lock(mutex_);
  probe_summary out;
  auto last_answer = from;
  for (const auto& s : samples_) {
    if (s.at < from || s.at >= to) {
      continue;
    }
    ++out.sent;
    out.slowest_request = std::max(out.slowest_request, s.took);
    if (s.answered) {
      ++out.answered;
      out.slowest_answer = std::max(out.slowest_answer, s.took);
      const auto answered_at = s.at + s.took;
      out.longest_silence = std::max(out.longest_silence, since(last_answer, answered_at));
      last_answer = std::max(last_answer, answered_at);
    }
  }
  out.longest_silence = std::max(out.longest_silence, since(last_answer, to));
  return out;
}

boost::system::result<process_memory, std::string> memory_of(pid_t pid) {
  const std::string file = "/proc/" + std::to_string(pid) + "/status";
  std::ifstream in(file);
  if (!in) {
    return {boost::system::in_place_error, "cannot read " + file};
  }
  process_memory m;
  bool rss = false;
  bool hwm = false;
  for (std::string line; std::getline(in, line);) {
    // "VmRSS:\t   12345 kB"
    if (line.starts_with("VmRSS:")) {
      m.rss_kib = std::stoll(line.substr(6));
      rss = true;
    } else if (line.starts_with("VmHWM:")) {
      m.hwm_kib = std::stoll(line.substr(6));
      hwm = true;
    }
  }
  if (!rss || !hwm) {
    return {boost::system::in_place_error, file + " has no VmRSS or VmHWM line"};
  }
  return m;
}

std::int64_t memory_growth_bound_kib() {
#if defined(__SANITIZE_ADDRESS__)
  return std::int64_t{1024} * 1024;
#else
  return std::int64_t{64} * 1024;
#endif
}

std::string memory_growth_problem(const process_memory& before, const process_memory& after) {
  const auto bound = memory_growth_bound_kib();
  if (after.rss_kib - before.rss_kib <= bound && after.hwm_kib - before.hwm_kib <= bound) {
    return {};
  }
  return "the daemon's memory grew by more than " + std::to_string(bound / 1024) + " MiB: VmRSS " +
         std::to_string(before.rss_kib) + " -> " + std::to_string(after.rss_kib) + " KiB, VmHWM " +
         std::to_string(before.hwm_kib) + " -> " + std::to_string(after.hwm_kib) + " KiB";
}

}  // namespace unlinkd::reliability
