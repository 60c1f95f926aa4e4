#include "daemon/metrics.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <string_view>

#include "adapters/http_api_client.hpp"
#include "daemon/manifest_intake.hpp"
#include "scheduler/budget_gate.hpp"
#include "scheduler/engine.hpp"
#include "store/account_state.hpp"
#include "store/store.hpp"

namespace unlinkd::daemon {

namespace {

using label = std::pair<std::string_view, std::string_view>;

std::string number(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  std::array<char, 32> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v);
  return ec == std::errc{} ? std::string(buffer.data(), end) : std::string("NaN");
}

std::string number(std::uint64_t v) { return std::to_string(v); }
std::string number(std::int64_t v) { return std::to_string(v); }

// Label values: backslash, double quote and line feed are escaped.
void append_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

// Writes one family at a time: its HELP and TYPE lines, then its samples.
class exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    // HELP text escapes backslash and line feed (our texts have neither,
    // but the format is the format).
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (const char c : help) {
      out_ += c == '\\' ? std::string_view("\\\\") : c == '\n' ? "\\n" : std::string_view(&c, 1);
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void sample(std::string_view name, std::initializer_list<label> labels, const std::string& v) {
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [key, value] : labels) {
        if (!first) {
          out_ += ',';
        }
        first = false;
        out_ += key;
        out_ += "=\"";
        append_label_value(out_, value);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += v;
    out_ += '\n';
  }

  void histogram(std::string_view name, std::string_view label_name, std::string_view label_value,
                 const histogram_values& h) {
    const std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.bounds.size(); ++i) {
      cumulative += i < h.buckets.size() ? h.buckets[i] : 0;
      sample(bucket, {{label_name, label_value}, {"le", number(h.bounds[i])}}, number(cumulative));
    }
    // +Inf is the count itself, whatever the buckets say.
    sample(bucket, {{label_name, label_value}, {"le", "+Inf"}}, number(h.count));
    sample(std::string(name) + "_sum", {{label_name, label_value}}, number(h.sum));
    sample(std::string(name) + "_count", {{label_name, label_value}}, number(h.count));
  }

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

void render_engine(exposition& x, const metrics_snapshot& s) {
  x.family("unlinkd_in_flight", "gauge", "Accounts whose step is running or about to run.");
  x.sample("unlinkd_in_flight", {}, number(s.in_flight));
  x.family("unlinkd_steps_total", "counter", "Pipeline steps run, all steps together.");
  x.sample("unlinkd_steps_total", {}, number(s.steps_run));
  x.family("unlinkd_retries_total", "counter",
           "Steps that failed retryably and were scheduled again, by step.");
  for (const auto& [step, n] : s.retries) {
    x.sample("unlinkd_retries_total", {{"step", step}}, number(n));
  }
  x.family("unlinkd_step_duration_seconds", "histogram",
           "How long one pipeline step took, API calls and rate-gate waits included.");
  for (const auto& [step, h] : s.step_durations) {
    x.histogram("unlinkd_step_duration_seconds", "step", step, h);
  }
}

void render_client(exposition& x, const client_values& c) {
  x.family("unlinkd_api_calls_total", "counter",
           "Requests that went for the TikTok API, by endpoint and answer: the API code (0 is "
           "success), else the HTTP status, else transport.");
  for (const auto& [key, n] : c.calls) {
    x.sample("unlinkd_api_calls_total", {{"endpoint", key.first}, {"code", key.second}}, number(n));
  }
  x.family("unlinkd_api_retries_total", "counter",
           "Retryable failures the API client sent again within one call.");
  x.sample("unlinkd_api_retries_total", {}, number(c.retries));
  x.family("unlinkd_api_rate_limited_total", "counter",
           "Rate-limited answers the API client sent back through the rate gate.");
  x.sample("unlinkd_api_rate_limited_total", {}, number(c.rate_limited));
  x.family("unlinkd_api_unknown_outcomes_total", "counter",
           "Mutating calls whose reply was lost; verified, never resent blindly.");
  x.sample("unlinkd_api_unknown_outcomes_total", {}, number(c.unknown_outcomes));
  x.family("unlinkd_api_dry_run_refusals_total", "counter",
           "Mutating calls the client refused because their batch is a dry run.");
  x.sample("unlinkd_api_dry_run_refusals_total", {}, number(c.dry_run_refusals));
  x.family("unlinkd_api_connections_opened_total", "counter",
           "TCP (and TLS) connections the API client opened.");
  x.sample("unlinkd_api_connections_opened_total", {}, number(c.connections_opened));
  x.family("unlinkd_api_open_connections", "gauge",
           "Connections to the API open now, idle or busy.");
  x.sample("unlinkd_api_open_connections", {}, number(c.open_connections));
}

void render_apps(exposition& x, const std::map<std::string, app_budget_values>& apps) {
  const auto each = [&](std::string_view name, std::string_view type, std::string_view help,
                        auto value) {
    x.family(name, type, help);
    for (const auto& [app_id, a] : apps) {
      x.sample(name, {{"app_id", app_id}}, number(value(a)));
    }
  };
  each("unlinkd_budget_calls_total", "counter",
       "Calls the rate gate let through, per app: budget use is rate(this[1m]) over "
       "unlinkd_budget_limit_qps.",
       [](const app_budget_values& a) { return a.calls; });
  each("unlinkd_budget_limit_qps", "gauge", "The app's budget: calls per second.",
       [](const app_budget_values& a) { return a.limit_qps; });
  each("unlinkd_budget_limit_qpm", "gauge", "The app's budget: calls per minute.",
       [](const app_budget_values& a) { return a.limit_qpm; });
  each("unlinkd_budget_limit_qpd", "gauge", "The app's budget: calls per UTC day.",
       [](const app_budget_values& a) { return a.limit_qpd; });
  each("unlinkd_rate_limit_waits_total", "counter",
       "Calls that had to wait in the rate gate's queue, per app.",
       [](const app_budget_values& a) { return a.waits; });
  each("unlinkd_rate_limit_wait_seconds_total", "counter",
       "Time calls spent waiting in the rate gate's queue, summed, per app.",
       [](const app_budget_values& a) { return a.wait_seconds; });
  each("unlinkd_rate_limit_waiting", "gauge", "Calls waiting in the rate gate's queue now.",
       [](const app_budget_values& a) { return a.waiting; });
  each("unlinkd_cooldowns_total", "counter",
       "Times the app's bucket froze after a rate-limited answer (1 s, 60 s, or to 00:00 UTC).",
       [](const app_budget_values& a) { return a.cooldowns; });
  each("unlinkd_rate_limited_total", "counter",
       "Rate-limited answers of the API reported to the rate gate, per app.",
       [](const app_budget_values& a) { return a.rate_limited; });
}

}  // namespace

std::string render(const metrics_snapshot& s) {
  exposition x;
  x.family("unlinkd_start_time_seconds", "gauge", "When the daemon started, in Unix time.");
  x.sample("unlinkd_start_time_seconds", {}, number(s.start_time_seconds));
  x.family("unlinkd_accounts", "gauge",
           "Accounts of every batch, by state and by the pipeline step they are at, failed at "
           "or wait at.");
  for (const auto& [key, n] : s.accounts) {
    x.sample("unlinkd_accounts", {{"state", key.first}, {"step", key.second}}, number(n));
  }
  if (s.has_engine) {
    render_engine(x, s);
  }
  if (s.client) {
    render_client(x, *s.client);
  }
  if (!s.apps.empty()) {
    render_apps(x, s.apps);
  }
  if (s.manifests) {
    x.family("unlinkd_manifests_total", "counter",
             "Manifests the inbox finished since the daemon started, by outcome.");
    x.sample("unlinkd_manifests_total", {{"outcome", "accepted"}}, number(s.manifests->accepted));
    x.sample("unlinkd_manifests_total", {{"outcome", "rejected"}}, number(s.manifests->rejected));
    x.sample("unlinkd_manifests_total", {{"outcome", "duplicate"}}, number(s.manifests->duplicate));
  }
  return x.take();
}

metrics_snapshot collect(const metrics_sources& sources) {
  metrics_snapshot s;
  s.start_time_seconds = std::chrono::duration<double>(sources.started.time_since_epoch()).count();
  if (sources.store != nullptr) {
    for (const auto state : store::all_account_states) {
      for (const auto step : store::all_pipeline_steps) {
        s.accounts[{std::string(to_string(state)), std::string(to_string(step))}] = 0;
      }
    }
    for (const auto& [key, n] : sources.store->counts()) {
      s.accounts[{std::string(to_string(key.state)), std::string(to_string(key.step))}] += n;
    }
  }
  if (sources.engine != nullptr) {
    const auto& e = sources.engine->stats();
    s.has_engine = true;
    s.in_flight = e.in_flight;
    s.steps_run = e.steps_run;
    for (const auto step : store::all_pipeline_steps) {
      const auto i = static_cast<std::size_t>(step);
      const std::string name(to_string(step));
      s.retries[name] = e.retries.at(i);
      const auto& h = e.step_durations.at(i);
      histogram_values v;
      v.bounds.assign(scheduler::step_duration_bounds.begin(),
                      scheduler::step_duration_bounds.end());
      v.buckets.assign(h.buckets.begin(), h.buckets.end());
      v.sum = h.sum_seconds;
      v.count = h.count;
      s.step_durations[name] = std::move(v);
    }
  }
  if (sources.client != nullptr) {
    client_values c;
    for (const auto& [key, n] : sources.client->calls_by_outcome()) {
      c.calls[{key.endpoint, key.code}] = n;
    }
    const auto& k = sources.client->counters();
    c.retries = k.retries;
    c.rate_limited = k.rate_limited;
    c.unknown_outcomes = k.unknown_outcomes;
    c.dry_run_refusals = k.dry_run_refusals;
    c.connections_opened = k.connections_opened;
    c.open_connections = sources.client->open_connections();
    s.client = std::move(c);
  }
  if (sources.gate != nullptr) {
    for (const auto& [app_id, a] : sources.gate->stats()) {
      app_budget_values v;
      v.calls = a.bucket.taken;
      v.waits = a.waited;
      v.wait_seconds = std::chrono::duration<double>(a.wait_time).count();
      v.waiting = a.waiting;
      v.cooldowns = a.bucket.cooldowns;
      v.rate_limited = a.bucket.rate_limited;
      v.limit_qps = static_cast<double>(a.limits.qps);
      v.limit_qpm = static_cast<double>(a.limits.qpm);
      v.limit_qpd = static_cast<double>(a.limits.qpd);
      s.apps[app_id] = v;
    }
  }
  if (sources.intake != nullptr) {
    const auto n = sources.intake->counts();
    s.manifests = manifest_values{n.accepted, n.rejected, n.duplicate};
  }
  return s;
}

std::string render_metrics(const metrics_sources& sources) { return render(collect(sources)); }

}  // namespace unlinkd::daemon
