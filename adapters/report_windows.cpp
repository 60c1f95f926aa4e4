#include "adapters/report_windows.hpp"

namespace unlinkd::adapters {

std::vector<report_window> report_windows(std::chrono::year_month_day since,
                                          std::chrono::year_month_day until, int days_per_window) {
  std::vector<report_window> windows;
  if (!since.ok() || !until.ok() || days_per_window < 1) {
    return windows;
  }
  const std::chrono::sys_days end{until};
  for (std::chrono::sys_days first{since}; first <= end;
       first += std::chrono::days{days_per_window}) {
    const auto last = std::min(first + std::chrono::days{days_per_window - 1}, end);
    windows.push_back({std::chrono::year_month_day{first}, std::chrono::year_month_day{last}});
  }
  return windows;
}

}  // namespace unlinkd::adapters
