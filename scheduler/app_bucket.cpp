#include "scheduler/app_bucket.hpp"

#include <algorithm>

namespace unlinkd::scheduler {

namespace {

using namespace std::chrono_literals;

constexpr std::string_view report_create = "/report/task/create/";

std::int64_t utc_day(app_bucket::utc_time t) {
  return std::chrono::floor<std::chrono::days>(t).time_since_epoch().count();
}

// How long from `utc` to the next 00:00 UTC.
clock::duration until_midnight(app_bucket::utc_time utc) {
  const auto next = std::chrono::floor<std::chrono::days>(utc) + std::chrono::days(1);
  return std::chrono::duration_cast<clock::duration>(next - utc);
}

}  // namespace

app_bucket::app_bucket(config::rate_limits limits, bucket_tuning tuning)
    : limits_(limits), tuning_(tuning) {}

clock::time_point app_bucket::window_slot(windows& w, const window_limits& l, clock::time_point now,
                                          utc_time utc) const {
  const auto second = 1s + tuning_.margin;
  const auto minute = 60s + tuning_.margin;
  // A call at t is in the window of `now` while now - t < width.
  while (!w.second.empty() && now - w.second.front() >= second) {
    w.second.pop_front();
  }
  while (!w.minute.empty() && now - w.minute.front() >= minute) {
    w.minute.pop_front();
  }
  if (utc_day(utc) != w.day) {
    w.day = utc_day(utc);
    w.day_count = 0;
  }
  clock::time_point slot = now;
  if (w.day_count >= l.qpd) {
    slot = std::max(slot, now + until_midnight(utc));
  }
  // With n calls in a window and a limit of q, the (n - q)-th oldest must
  // leave before another may go (n may exceed q after limits were lowered).
  if (l.qps > 0 && w.second.size() >= l.qps) {
    slot = std::max(slot, w.second[w.second.size() - l.qps] + second);
  }
  if (l.qpm > 0 && w.minute.size() >= l.qpm) {
    slot = std::max(slot, w.minute[w.minute.size() - l.qpm] + minute);
  }
  return slot;
}

clock::time_point app_bucket::next_slot(std::string_view endpoint, clock::time_point now,
                                        utc_time utc) {
  if (probe_in_flight_) {
    return clock::time_point::max();
  }
  clock::time_point slot = std::max(now, frozen_until_);
  slot = std::max(slot, window_slot(app_, {limits_.qps, limits_.qpm, limits_.qpd}, now, utc));
  if (endpoint == report_create) {
    slot = std::max(slot, window_slot(report_create_, {2, 60, 4'500}, now, utc));
  }
  return slot;
}

void app_bucket::record(windows& w, clock::time_point now, utc_time utc) {
  if (utc_day(utc) != w.day) {
    w.day = utc_day(utc);
    w.day_count = 0;
  }
  w.second.push_back(now);
  w.minute.push_back(now);
  ++w.day_count;
}

void app_bucket::take(std::string_view endpoint, clock::time_point now, utc_time utc) {
  record(app_, now, utc);
  if (endpoint == report_create) {
    record(report_create_, now, utc);
  }
  ++stats_.taken;
  if (probe_due_) {
    probe_due_ = false;
    probe_in_flight_ = true;
    ++stats_.probes;
  }
}

void app_bucket::on_answer(adapters::gate_answer answer, clock::time_point now, utc_time utc) {
  using adapters::gate_answer;
  switch (answer) {
    case gate_answer::ok:
      probe_in_flight_ = false;  // the probe went through: full rate again
      return;
    case gate_answer::not_sent:
      if (probe_in_flight_) {  // the probe proved nothing: probe again
        probe_in_flight_ = false;
        probe_due_ = true;
      }
      return;
    case gate_answer::rate_limited:
    case gate_answer::daily_quota:
      break;
  }
  // Calls sent before the freeze answer during it; they say nothing new and
  // must not lengthen it.
  if (now < frozen_until_ && !probe_in_flight_) {
    return;
  }
  ++stats_.rate_limited;
  ++stats_.cooldowns;
  clock::duration cooldown = tuning_.first_cooldown;
  if (answer == gate_answer::daily_quota) {
    cooldown = until_midnight(utc);
  } else if (rate_limited_before_ && now - last_rate_limited_ < tuning_.repeat_window) {
    cooldown = tuning_.repeated_cooldown;
  }
  rate_limited_before_ = true;
  last_rate_limited_ = now;
  frozen_until_ = now + cooldown;
  probe_in_flight_ = false;
  probe_due_ = true;
}

}  // namespace unlinkd::scheduler
