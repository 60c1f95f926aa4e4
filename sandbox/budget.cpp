#include "sandbox/budget.hpp"

#include <algorithm>

namespace unlinkd::sandbox {

namespace {

using namespace std::chrono_literals;

// Drops the calls that are no longer in the window (t - width, t].
void expire(std::deque<app_budget::mono_time>& window, app_budget::mono_time now,
            std::chrono::steady_clock::duration width) {
  while (!window.empty() && now - window.front() >= width) {
    window.pop_front();
  }
}

std::int64_t utc_day(app_budget::wall_time t) {
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  // floor division: days before 1970 are negative
  return seconds >= 0 ? seconds / 86'400 : -((-seconds + 86'399) / 86'400);
}

}  // namespace

budget_verdict app_budget::admit(const std::string& app_id, bool report_create, mono_time now,
                                 wall_time utc_now) {
  const budget_limits& limits = limits_for(app_id);
  app_state& app = apps_[app_id];
  expire(app.last_second, now, 1s);
  expire(app.last_minute, now, 60s);
  expire(app.report_create_last_second, now, 1s);
  expire(app.report_create_last_minute, now, 60s);
  const std::int64_t day = utc_day(utc_now);
  if (day != app.day) {
    app.day = day;
    app.day_count = 0;
    app.report_create_day_count = 0;
  }
  budget_verdict verdict = budget_verdict::admitted;
  if (app.day_count >= limits.qpd ||
      (report_create && app.report_create_day_count >= limits.report_create_qpd)) {
    verdict = budget_verdict::over_day;
  } else if (app.last_second.size() >= limits.qps || app.last_minute.size() >= limits.qpm ||
             (report_create &&
              (app.report_create_last_second.size() >= limits.report_create_qps ||
               app.report_create_last_minute.size() >= limits.report_create_qpm))) {
    verdict = budget_verdict::over_window;
  }
  if (verdict != budget_verdict::admitted) {
    ++app.stats.refused;
    return verdict;
  }
  app.last_second.push_back(now);
  app.last_minute.push_back(now);
  if (report_create) {
    app.report_create_last_second.push_back(now);
    app.report_create_last_minute.push_back(now);
    ++app.report_create_day_count;
  }
  ++app.day_count;
  ++app.stats.accepted;
  // A window's count only grows when a call is admitted, so the highest
  // count of any window is seen right after an admission.
  app.stats.max_1s = std::max<std::uint64_t>(app.stats.max_1s, app.last_second.size());
  app.stats.max_60s = std::max<std::uint64_t>(app.stats.max_60s, app.last_minute.size());
  return verdict;
}

const budget_limits& app_budget::limits_for(const std::string& app_id) const {
  const auto it = overrides_.find(app_id);
  return it == overrides_.end() ? limits_ : it->second;
}

std::map<std::string, app_budget_stats> app_budget::stats() const {
  std::map<std::string, app_budget_stats> out;
  for (const auto& [id, app] : apps_) {
    out.emplace(id, app.stats);
  }
  return out;
}

}  // namespace unlinkd::sandbox
