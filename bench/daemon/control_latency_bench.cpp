// Latency of one control-socket request, as unlinkctl makes it (a fresh
// connection per request), repeated for a while: issue 9's benchmark of
// `GET /v1/batches/{batch}` while the engine runs flat out. Prints the count
// and the p50 / p90 / p99 / max in milliseconds, and the batch's state at
// the end (the figure only counts when it was still running).
//
//   bench-control-latency SOCKET TARGET SECONDS
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ctl/socket_client.hpp"

namespace {

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  const auto at = static_cast<std::size_t>(std::lround(p * static_cast<double>(sorted.size() - 1)));
  return sorted[std::min(at, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench-control-latency SOCKET TARGET SECONDS\n");
    return 1;
  }
  const unlinkd::ctl::socket_client client(argv[1]);
  const std::string target = argv[2];
  const auto length = std::chrono::seconds(std::atoi(argv[3]));
  using steady = std::chrono::steady_clock;
  std::vector<double> ms;
  std::size_t failures = 0;
  const auto end = steady::now() + length;
  while (steady::now() < end) {
    const auto start = steady::now();
    const auto answer = client.get(target);
    const auto took = std::chrono::duration<double, std::milli>(steady::now() - start).count();
    if (!answer || answer->status != 200) {
      ++failures;
      continue;
    }
    ms.push_back(took);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("requests %zu failures %zu p50_ms %.3f p90_ms %.3f p99_ms %.3f max_ms %.3f\n",
              ms.size(), failures, percentile(ms, 0.50), percentile(ms, 0.90), percentile(ms, 0.99),
              ms.empty() ? 0.0 : ms.back());
  return failures == 0 && !ms.empty() ? 0 : 1;
}
