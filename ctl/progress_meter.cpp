#include "ctl/progress_meter.hpp"

#include <cmath>
#include <cstdio>

#include <boost/json.hpp>

namespace unlinkd::ctl {

namespace json = boost::json;

namespace {

std::int64_t number_at(const json::object* o, std::string_view key) {
  const auto* v = o == nullptr ? nullptr : o->if_contains(key);
  if (v == nullptr) {
    return 0;
  }
  if (const auto* i = v->if_int64()) {
    return *i;
  }
  if (const auto* u = v->if_uint64()) {
    return static_cast<std::int64_t>(*u);
  }
  return 0;
}

std::string duration_text(std::chrono::seconds s) {
  const auto total = s.count();
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", static_cast<long long>(total / 3600),
                  static_cast<long long>(total % 3600 / 60));
  } else if (total >= 60) {
    std::snprintf(text, sizeof text, "%lldm%02llds", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  } else {
    std::snprintf(text, sizeof text, "%llds", static_cast<long long>(total));
  }
  return text;
}

}  // namespace

progress_counts progress_of(const json::value& batch) {
  progress_counts c;
  const auto* b = batch.if_object();
  const auto* accounts_value = b == nullptr ? nullptr : b->if_contains("accounts");
  const auto* accounts = accounts_value == nullptr ? nullptr : accounts_value->if_object();
  const auto* by_state_value = accounts == nullptr ? nullptr : accounts->if_contains("by_state");
  const auto* by_state = by_state_value == nullptr ? nullptr : by_state_value->if_object();
  c.total = number_at(accounts, "total");
  c.done = number_at(by_state, "done");
  c.failed = number_at(by_state, "failed");
  c.cancelled = number_at(by_state, "cancelled");
  c.waiting = number_at(by_state, "pending");
  c.attention = number_at(by_state, "needs_attention");
  for (const auto* step : {"preflight", "backup", "pause", "unlink", "verify"}) {
    c.in_flight += number_at(by_state, step);
  }
  return c;
}

bool batch_finished(const std::string& state) {
  return state == "completed" || state == "cancelled";
}

progress_meter::progress_meter(std::chrono::seconds window) : window_(window) {}

void progress_meter::add(clock::time_point at, const progress_counts& counts) {
  samples_.push_back({at, counts.finished(), counts.total - counts.finished()});
  // Keep at least two samples so a slow poll still gives a rate.
  while (samples_.size() > 2 && at - samples_.front().at > window_) {
    samples_.pop_front();
  }
}

std::optional<double> progress_meter::rate_per_minute() const {
  if (samples_.size() < 2) {
    return std::nullopt;
  }
  const auto& first = samples_.front();
  const auto& last = samples_.back();
  const std::chrono::duration<double> span = last.at - first.at;
  if (span.count() <= 0) {
    return std::nullopt;
  }
  const auto finished =
      static_cast<double>(std::max<std::int64_t>(last.finished - first.finished, 0));
  return finished * 60.0 / span.count();
}

std::optional<std::chrono::seconds> progress_meter::eta() const {
  const auto rate = rate_per_minute();
  if (!rate || *rate <= 0 || samples_.empty()) {
    return std::nullopt;
  }
  const double minutes = static_cast<double>(samples_.back().remaining) / *rate;
  return std::chrono::seconds(static_cast<std::int64_t>(std::ceil(minutes * 60.0)));
}

std::string progress_line(const progress_counts& c, std::optional<double> rate_per_minute,
                          std::optional<std::chrono::seconds> eta, const std::string& state) {
  constexpr int width = 20;
  const int filled =
      c.total <= 0 ? 0
                   : static_cast<int>(c.finished() * width / std::max<std::int64_t>(c.total, 1));
  std::string bar = "[" + std::string(static_cast<std::size_t>(filled), '#') +
                    std::string(static_cast<std::size_t>(width - filled), '.') + "]";
  std::string line = bar + " " + std::to_string(c.done) + "/" + std::to_string(c.total) +
                     " done, " + std::to_string(c.failed) + " failed, " +
                     std::to_string(c.in_flight) + " in flight, " + std::to_string(c.waiting) +
                     " waiting";
  if (c.attention > 0) {
    line += ", " + std::to_string(c.attention) + " need attention";
  }
  if (c.cancelled > 0) {
    line += ", " + std::to_string(c.cancelled) + " cancelled";
  }
  char rate[32] = "-";
  if (rate_per_minute) {
    std::snprintf(rate, sizeof rate, "%.1f", *rate_per_minute);
  }
  line += std::string(", ") + rate + "/min, ETA " +
          (c.total - c.finished() == 0 ? std::string("0s")
           : eta                       ? duration_text(*eta)
                                       : "-");
  return line + " (" + state + ")";
}

}  // namespace unlinkd::ctl
