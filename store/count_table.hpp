#pragma once
// Account counts by batch x state x step, kept in memory so status never
// scans a table. Loaded once at open, then changed only by the writer thread
// right after each commit, under a mutex: a snapshot taken from any thread
// (the control socket's) equals what a full count of the committed database
// gives.

#include <cstdint>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "store/account_state.hpp"

namespace unlinkd::store {

struct count_key {
  std::int64_t batch_id = 0;
  account_state state = account_state::pending;
  pipeline_step step = pipeline_step::preflight;

  friend bool operator==(const count_key& a, const count_key& b) {
    return std::tie(a.batch_id, a.state, a.step) == std::tie(b.batch_id, b.state, b.step);
  }
  friend bool operator<(const count_key& a, const count_key& b) {
    return std::tie(a.batch_id, a.state, a.step) < std::tie(b.batch_id, b.state, b.step);
  }
};

using count_map = std::map<count_key, std::int64_t>;

struct count_delta {
  count_key key;
  std::int64_t delta = 0;
};

class count_table {
 public:
  void reset(count_map counts);
  void apply(const std::vector<count_delta>& deltas);

  // Zero counts are left out.
  [[nodiscard]] count_map snapshot() const;
  [[nodiscard]] count_map snapshot(std::int64_t batch_id) const;

 private:
  mutable std::mutex mutex_;
  count_map counts_;
};

}  // namespace unlinkd::store
