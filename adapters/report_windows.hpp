#pragma once
// The backup's daily reports are fetched in windows of at most 30 days
// (the API refuses a longer span with stat_time_day, tiktok-api.md §2.3).
// Pure: the windows of an inclusive range, oldest first.
#include <chrono>
#include <vector>

namespace unlinkd::adapters {

struct report_window {
  std::chrono::year_month_day first;  // inclusive
  std::chrono::year_month_day last;   // inclusive
  friend bool operator==(const report_window&, const report_window&) = default;
};

inline constexpr int max_report_window_days = 30;

// Empty when `until` is before `since`.
std::vector<report_window> report_windows(std::chrono::year_month_day since,
                                          std::chrono::year_month_day until,
                                          int days_per_window = max_report_window_days);

}  // namespace unlinkd::adapters
