#include "store/count_table.hpp"

#include <utility>

namespace unlinkd::store {

void count_table::reset(count_map counts) {
  const std::lock_guard lock(mutex_);
  counts_ = std::move(counts);
}

void count_table::apply(const std::vector<count_delta>& deltas) {
  const std::lock_guard lock(mutex_);
  for (const auto& d : deltas) {
    auto it = counts_.try_emplace(d.key, 0).first;
    it->second += d.delta;
    if (it->second == 0) {
      counts_.erase(it);
    }
  }
}

count_map count_table::snapshot() const {
  const std::lock_guard lock(mutex_);
  return counts_;
}

count_map count_table::snapshot(std::int64_t batch_id) const {
  const std::lock_guard lock(mutex_);
  count_map out;
  const count_key first{batch_id, account_state::pending, pipeline_step::preflight};
  for (auto it = counts_.lower_bound(first); it != counts_.end() && it->first.batch_id == batch_id;
       ++it) {
    out.emplace(it->first, it->second);
  }
  return out;
}

}  // namespace unlinkd::store
