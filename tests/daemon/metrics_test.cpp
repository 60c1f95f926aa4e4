// GET /metrics (PRODUCT.md §7): the renderer's text read back by a small
// Prometheus text-format parser written here (names, labels and escapes,
// TYPE before samples, no series twice, counters never negative, histogram
// buckets cumulative and ending in +Inf equal to _count); the counts of a
// real store, the inbox's intake on real files and the rate gate; and the
// metrics_listen listener over a real loopback TCP connection.
#include "daemon/metrics.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "adapters/http_api_client.hpp"
#include "daemon/manifest_intake.hpp"
#include "daemon/metrics_listener.hpp"
#include "scheduler/budget_gate.hpp"
#include "scheduler/clock.hpp"
#include "scheduler/engine.hpp"
#include "store/store.hpp"
#include "tests/scheduler/fake_platform.hpp"

namespace unlinkd::daemon {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// A Prometheus text format 0.0.4 reader, strict where the format is.

struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct exposition {
  std::vector<sample> samples;
  std::map<std::string, std::string> types;  // family -> type
  std::map<std::string, std::string> help;   // family -> text

  // The value of the one series `name{labels}`; nullopt when absent.
  [[nodiscard]] std::optional<double> value(
      const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& s : samples) {
      if (s.name == name && s.labels == labels) {
        return s.value;
      }
    }
    return std::nullopt;
  }
  [[nodiscard]] std::size_t series(const std::string& name) const {
    std::size_t n = 0;
    for (const auto& s : samples) {
      n += s.name == name ? 1 : 0;
    }
    return n;
  }
};

bool valid_metric_name(const std::string& n) {
  static const std::regex re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  return std::regex_match(n, re);
}
bool valid_label_name(const std::string& n) {
  static const std::regex re("[a-zA-Z_][a-zA-Z0-9_]*");
  return std::regex_match(n, re) && !n.starts_with("__");
}

std::optional<double> parse_value(const std::string& text) {
  if (text == "+Inf") {
    return HUGE_VAL;
  }
  if (text == "-Inf") {
    return -HUGE_VAL;
  }
  if (text == "NaN") {
    return std::nan("");
  }
  if (text.empty()) {
    return std::nullopt;
  }
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || std::isinf(v) || std::isnan(v)) {
    return std::nullopt;  // "inf", "nan" and friends are not the format's spelling
  }
  return v;
}

// The family a sample belongs to: histograms own _bucket, _sum and _count.
std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.ends_with(s)) {
      std::string base = name.substr(0, name.size() - s.size());
      const auto it = types.find(base);
      if (it != types.end() && it->second == "histogram") {
        return base;
      }
    }
  }
  return name;
}

// Parses `text`; every problem is a line of the returned string (empty: valid).
std::string parse(const std::string& text, exposition& out) {
  std::string problems;
  const auto problem = [&](std::size_t line, const std::string& what) {
    problems += "line " + std::to_string(line) + ": " + what + "\n";
  };
  if (!text.empty() && text.back() != '\n') {
    problem(0, "the text does not end with a line feed");
  }
  std::set<std::string> seen_series;
  std::set<std::string> families_with_samples;
  std::istringstream in(text);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) {
      continue;
    }
    if (line.starts_with("#")) {
      std::istringstream words(line);
      std::string hash;
      std::string keyword;
      std::string name;
      words >> hash >> keyword >> name;
      if (keyword == "TYPE") {
        std::string type;
        words >> type;
        if (!valid_metric_name(name)) {
          problem(number, "TYPE of an invalid name '" + name + "'");
        }
        if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
            type != "untyped") {
          problem(number, "unknown type '" + type + "'");
        }
        if (out.types.contains(name)) {
          problem(number, "a second TYPE for " + name);
        }
        if (families_with_samples.contains(name)) {
          problem(number, "TYPE after samples of " + name);
        }
        out.types[name] = type;
      } else if (keyword == "HELP") {
        const auto at = line.find(name, 7) + name.size();
        std::string help = at < line.size() ? line.substr(at + 1) : "";
        for (std::size_t i = 0; i < help.size(); ++i) {
          if (help[i] == '\\' &&
              (i + 1 >= help.size() || (help[i + 1] != '\\' && help[i + 1] != 'n'))) {
            problem(number, "a bad escape in HELP");
          }
        }
        out.help[name] = help;
      }
      continue;
    }
    sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') {
      ++i;
    }
    s.name = line.substr(0, i);
    if (!valid_metric_name(s.name)) {
      problem(number, "invalid metric name '" + s.name + "'");
    }
    std::string series_key = s.name + "{";
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const auto eq = line.find('=', i);
        if (eq == std::string::npos) {
          problem(number, "a label without '='");
          break;
        }
        const std::string label_name = line.substr(i, eq - i);
        if (!valid_label_name(label_name)) {
          problem(number, "invalid label name '" + label_name + "'");
        }
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') {
          problem(number, "a label value without quotes");
          break;
        }
        ++i;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          const char c = line[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\') {
            const char e = i < line.size() ? line[i++] : '\0';
            if (e == '\\') {
              value += '\\';
            } else if (e == '"') {
              value += '"';
            } else if (e == 'n') {
              value += '\n';
            } else {
              problem(number, "a bad escape in a label value");
            }
            continue;
          }
          value += c;
        }
        if (!closed) {
          problem(number, "an unterminated label value");
          break;
        }
        if (s.labels.contains(label_name)) {
          problem(number, "label " + label_name + " twice");
        }
        s.labels[label_name] = value;
        if (i < line.size() && line[i] == ',') {
          ++i;
        }
      }
      if (i >= line.size() || line[i] != '}') {
        problem(number, "labels not closed");
        continue;
      }
      ++i;
    }
    for (const auto& [k, v] : s.labels) {
      series_key += k + "=" + v + ",";
    }
    if (i >= line.size() || line[i] != ' ') {
      problem(number, "no space before the value");
      continue;
    }
    std::istringstream rest(line.substr(i + 1));
    std::string value_text;
    std::string timestamp;
    rest >> value_text >> timestamp;
    const auto value = parse_value(value_text);
    if (!value) {
      problem(number, "invalid value '" + value_text + "'");
      continue;
    }
    s.value = *value;
    const std::string family = family_of(s.name, out.types);
    if (!out.types.contains(family)) {
      problem(number, s.name + " has no TYPE line before it");
    }
    families_with_samples.insert(family);
    if (!seen_series.insert(series_key).second) {
      problem(number, "series " + series_key + "} appears twice");
    }
    if (out.types[family] == "counter" && (s.value < 0 || !s.name.ends_with("_total"))) {
      problem(number, "counter " + s.name + " is negative or not named *_total");
    }
    out.samples.push_back(std::move(s));
  }
  // Histograms: per series (labels without le), buckets cumulative in
  // ascending le, the last +Inf, equal to _count; a _sum present.
  for (const auto& [family, type] : out.types) {
    if (type != "histogram") {
      continue;
    }
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    for (const auto& s : out.samples) {
      if (s.name == family + "_bucket") {
        auto labels = s.labels;
        if (!labels.contains("le")) {
          problems += family + ": a bucket without le\n";
          continue;
        }
        const auto le = parse_value(labels["le"]);
        labels.erase("le");
        buckets[labels].emplace_back(le.value_or(std::nan("")), s.value);
      }
    }
    for (const auto& [labels, list] : buckets) {
      for (std::size_t k = 1; k < list.size(); ++k) {
        if (!(list[k].first > list[k - 1].first) || list[k].second < list[k - 1].second) {
          problems += family + ": buckets not ascending or not cumulative\n";
        }
      }
      if (list.empty() || !std::isinf(list.back().first)) {
        problems += family + ": the last bucket is not +Inf\n";
        continue;
      }
      const auto count = out.value(family + "_count", labels);
      if (!count || *count != list.back().second) {
        problems += family + ": +Inf differs from _count\n";
      }
      if (!out.value(family + "_sum", labels)) {
        problems += family + ": no _sum\n";
      }
    }
  }
  return problems;
}

exposition parsed(const std::string& text) {
  exposition e;
  const auto problems = parse(text, e);
  EXPECT_EQ(problems, "") << text;
  return e;
}

// ---------------------------------------------------------------------------
// The parser itself: it must catch what it is there to catch.

TEST(metrics_parser, refuses_what_the_format_forbids) {
  exposition e;
  EXPECT_NE(parse("# TYPE a_total counter\na_total 1", e), "") << "no final line feed";
  exposition untyped;
  EXPECT_NE(parse("x 1\n", untyped), "") << "no TYPE";
  exposition f;
  EXPECT_NE(parse("# TYPE a gauge\na{l=\"x\\q\"} 1\n", f), "") << "bad escape";
  exposition g;
  EXPECT_NE(parse("# TYPE a gauge\na 1\na 2\n", g), "") << "series twice";
  exposition h;
  EXPECT_NE(parse("# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"2\"} 2\n"
                  "h_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 3\n",
                  h),
            "")
      << "not cumulative";
  exposition k;
  EXPECT_NE(parse("# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 4\n"
                  "h_sum 1\nh_count 5\n",
                  k),
            "")
      << "+Inf is not _count";
  exposition m;
  EXPECT_NE(parse("# TYPE 1a gauge\n1a 1\n", m), "") << "invalid name";
  exposition n;
  EXPECT_EQ(parse("# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"\\\\\\n\"} 1\n", n),
            "");
  EXPECT_EQ(n.samples.at(0).labels.at("x"), "q\"\\\n");
}

// ---------------------------------------------------------------------------
// The renderer.

metrics_snapshot full_snapshot() {
  metrics_snapshot s;
  s.start_time_seconds = 1764158400.25;
  s.accounts[{"pending", "preflight"}] = 12;
  s.accounts[{"done", "verify"}] = 3;
  s.has_engine = true;
  s.in_flight = 4;
  s.steps_run = 40;
  s.retries["backup"] = 2;
  s.retries["unlink"] = 0;
  histogram_values h;
  h.bounds = {0.1, 1, 10};
  h.buckets = {1, 2, 0, 3};
  h.sum = 42.5;
  h.count = 6;
  s.step_durations["backup"] = h;
  s.step_durations["verify"] = histogram_values{{0.1, 1, 10}, {0, 0, 0, 0}, 0, 0};
  client_values c;
  c.calls[{"/bc/advertiser/unlink/", "0"}] = 7;
  c.calls[{"/bc/advertiser/unlink/", "40100"}] = 2;
  c.calls[{"/bc/get/", "503"}] = 1;
  c.calls[{"/odd\"path\\with\nbreak/", "transport"}] = 1;  // escaping, not a real endpoint
  c.retries = 1;
  c.open_connections = 2;
  s.client = c;
  app_budget_values a;
  a.calls = 100;
  a.waits = 30;
  a.wait_seconds = 12.5;
  a.cooldowns = 1;
  a.limit_qps = 10;
  a.limit_qpm = 600;
  a.limit_qpd = 864000;
  s.apps["7000000000000000001"] = a;
  s.manifests = manifest_values{5, 2, 1};
  return s;
}

TEST(metrics_render, every_part_parses_as_prometheus_text_with_its_values) {
  const std::string text = render(full_snapshot());
  const auto e = parsed(text);
  for (const auto& [family, type] : e.types) {
    EXPECT_TRUE(family.starts_with("unlinkd_")) << family;
    EXPECT_FALSE(e.help.at(family).empty()) << family;
  }
  EXPECT_EQ(e.types.at("unlinkd_accounts"), "gauge");
  EXPECT_EQ(e.value("unlinkd_accounts", {{"state", "pending"}, {"step", "preflight"}}), 12);
  EXPECT_EQ(e.value("unlinkd_accounts", {{"state", "done"}, {"step", "verify"}}), 3);
  EXPECT_EQ(e.value("unlinkd_start_time_seconds"), 1764158400.25);
  EXPECT_EQ(e.value("unlinkd_in_flight"), 4);
  EXPECT_EQ(e.value("unlinkd_retries_total", {{"step", "backup"}}), 2);
  EXPECT_EQ(e.value("unlinkd_api_calls_total",
                    {{"endpoint", "/bc/advertiser/unlink/"}, {"code", "40100"}}),
            2);
  EXPECT_EQ(e.value("unlinkd_api_calls_total", {{"endpoint", "/bc/get/"}, {"code", "503"}}), 1);
  EXPECT_EQ(e.value("unlinkd_api_calls_total",
                    {{"endpoint", "/odd\"path\\with\nbreak/"}, {"code", "transport"}}),
            1)
      << "label values round-trip through the escapes";
  EXPECT_EQ(e.value("unlinkd_budget_calls_total", {{"app_id", "7000000000000000001"}}), 100);
  EXPECT_EQ(e.value("unlinkd_budget_limit_qps", {{"app_id", "7000000000000000001"}}), 10);
  EXPECT_EQ(e.value("unlinkd_rate_limit_wait_seconds_total", {{"app_id", "7000000000000000001"}}),
            12.5);
  EXPECT_EQ(e.value("unlinkd_cooldowns_total", {{"app_id", "7000000000000000001"}}), 1);
  EXPECT_EQ(e.value("unlinkd_manifests_total", {{"outcome", "accepted"}}), 5);
  EXPECT_EQ(e.value("unlinkd_manifests_total", {{"outcome", "rejected"}}), 2);
  EXPECT_EQ(e.value("unlinkd_manifests_total", {{"outcome", "duplicate"}}), 1);
}

TEST(metrics_render, histogram_buckets_are_cumulative_and_end_in_inf_equal_to_count) {
  const auto e = parsed(render(full_snapshot()));
  EXPECT_EQ(e.types.at("unlinkd_step_duration_seconds"), "histogram");
  const auto bucket = [&](const std::string& le) {
    return e.value("unlinkd_step_duration_seconds_bucket", {{"step", "backup"}, {"le", le}});
  };
  EXPECT_EQ(bucket("0.1"), 1);
  EXPECT_EQ(bucket("1"), 3);
  EXPECT_EQ(bucket("10"), 3);
  EXPECT_EQ(bucket("+Inf"), 6);
  EXPECT_EQ(e.value("unlinkd_step_duration_seconds_sum", {{"step", "backup"}}), 42.5);
  EXPECT_EQ(e.value("unlinkd_step_duration_seconds_count", {{"step", "backup"}}), 6);
  EXPECT_EQ(e.value("unlinkd_step_duration_seconds_bucket", {{"step", "verify"}, {"le", "+Inf"}}),
            0);
}

TEST(metrics_render, an_empty_snapshot_is_still_valid_and_leaves_absent_parts_out) {
  const auto e = parsed(render(metrics_snapshot{}));
  EXPECT_TRUE(e.value("unlinkd_start_time_seconds").has_value());
  EXPECT_FALSE(e.types.contains("unlinkd_api_calls_total"));
  EXPECT_FALSE(e.types.contains("unlinkd_manifests_total"));
  EXPECT_FALSE(e.types.contains("unlinkd_in_flight"));
}

// ---------------------------------------------------------------------------
// collect(): a real store on a temp folder, the intake on real files, the gate.

std::string manifest_text(const std::string& batch, const std::vector<std::string>& accounts) {
  std::string text = "version: 1\nbatch: " + batch +
                     "\ncredentials: acme-bc\nbusiness_center_id: \"7012345678901234567\"\n"
                     "defaults:\n  unlink: partner_share\n  partner_id: \"7099999999999999999\"\n"
                     "accounts:\n";
  for (const auto& a : accounts) {
    text += "  - id: \"" + a + "\"\n    type: advertiser\n";
  }
  return text;
}

class metrics_sources_test : public ::testing::Test {
 protected:
  metrics_sources_test() {
    std::string pattern = (fs::temp_directory_path() / "unlinkd-metrics-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    root_ = pattern;
    layout_ = {root_ / "state", root_ / "state" / "inbox"};
    EXPECT_TRUE(prepare(layout_).has_value());
    store::store_options so;
    so.clock = [] { return scheduler::clock::utc_now(); };  // virtual in the engine's test
    auto s = store::store::open(layout_.database().string(), so, log_);
    EXPECT_TRUE(s.has_value());
    store_ = std::move(*s);
    intake_ = std::make_unique<manifest_intake>(layout_, intake_limits{1 << 16, 100}, *store_,
                                                nullptr, log_);
  }
  ~metrics_sources_test() override {
    intake_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

 public:
  metrics_sources_test(const metrics_sources_test&) = delete;
  metrics_sources_test& operator=(const metrics_sources_test&) = delete;

 protected:
  intake_verdict drop(const std::string& name, const std::string& text) {
    std::ofstream(layout_.inbox_dir / name) << text;
    return intake_->take(name).verdict;
  }

  fs::path root_;
  state_layout layout_;
  spdlog::logger log_{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  std::unique_ptr<store::store> store_;
  std::unique_ptr<manifest_intake> intake_;
};

TEST_F(metrics_sources_test, accounts_and_manifests_are_counted_from_the_store_and_the_intake) {
  const auto first = manifest_text("first", {"7100000000000000001", "7100000000000000002"});
  EXPECT_EQ(drop("first.yaml", first), intake_verdict::accepted);
  EXPECT_EQ(drop("second.yaml", manifest_text("second", {"7100000000000000003"})),
            intake_verdict::accepted);
  EXPECT_EQ(drop("bad.yaml", "version: 1\nbatch: Bad Name\n"), intake_verdict::rejected);
  EXPECT_EQ(drop("again.yaml", first), intake_verdict::rejected) << "the same bytes again";
  EXPECT_EQ(intake_->counts().accepted, 2U);
  EXPECT_EQ(intake_->counts().rejected, 1U);
  EXPECT_EQ(intake_->counts().duplicate, 1U);

  metrics_sources sources;
  sources.store = store_.get();
  sources.intake = intake_.get();
  const auto e = parsed(render_metrics(sources));
  EXPECT_EQ(e.value("unlinkd_accounts", {{"state", "pending"}, {"step", "preflight"}}), 3);
  EXPECT_EQ(e.value("unlinkd_accounts", {{"state", "done"}, {"step", "verify"}}), 0)
      << "every (state, step) series is there, zeros included";
  EXPECT_EQ(e.series("unlinkd_accounts"),
            std::size(store::all_account_states) * std::size(store::all_pipeline_steps));
  EXPECT_EQ(e.value("unlinkd_manifests_total", {{"outcome", "accepted"}}), 2);
  EXPECT_EQ(e.value("unlinkd_manifests_total", {{"outcome", "rejected"}}), 1);
  EXPECT_EQ(e.value("unlinkd_manifests_total", {{"outcome", "duplicate"}}), 1);
  EXPECT_FALSE(e.types.contains("unlinkd_in_flight")) << "no engine given";
}

TEST_F(metrics_sources_test, the_gate_reports_calls_and_limits_per_app) {
  asio::io_context io;
  scheduler::budget_gate gate(io.get_executor());
  gate.set_limits("7000000000000000001", config::rate_limits{20, 1200, 100000});
  int granted = 0;
  // acquire() takes the key by reference: it must outlive the coroutine.
  const adapters::gate_key key{"7000000000000000001", "/bc/get/", "b"};
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(io, gate.acquire(key), [&](const std::exception_ptr& ex) {
      EXPECT_FALSE(ex);
      ++granted;
    });
  }
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (granted < 3 && std::chrono::steady_clock::now() < until) {
    io.run_for(100ms);
  }
  ASSERT_EQ(granted, 3);
  metrics_sources sources;
  sources.gate = &gate;
  const auto e = parsed(render_metrics(sources));
  const std::map<std::string, std::string> app{{"app_id", "7000000000000000001"}};
  EXPECT_EQ(e.value("unlinkd_budget_calls_total", app), 3);
  EXPECT_EQ(e.value("unlinkd_budget_limit_qps", app), 20);
  EXPECT_EQ(e.value("unlinkd_budget_limit_qpm", app), 1200);
  EXPECT_EQ(e.value("unlinkd_budget_limit_qpd", app), 100000);
  EXPECT_EQ(e.value("unlinkd_cooldowns_total", app), 0);
}

// Every source at once, as the daemon wires them: the engine runs a batch
// over the fake platform in virtual time, one account retried at backup.
TEST_F(metrics_sources_test, every_source_together_renders_one_valid_text) {
  scheduler::virtual_time time;
  asio::io_context io;
  scheduler::budget_gate gate(io.get_executor());
  adapters::http_api_client client(io.get_executor(), gate, log_);
  scheduler::test::fake_platform platform(io.get_executor());
  config::credential_profile profile;
  profile.name = "acme-bc";
  profile.app_id = "7000000000000000001";
  scheduler::engine_options options;
  options.seed = 7;
  options.idle_poll = 500ms;
  scheduler::engine engine(
      io.get_executor(), *store_, platform,
      [&](const store::batch_record&) -> std::optional<adapters::call_context> {
        adapters::call_context ctx;
        ctx.credential = &profile;
        ctx.base_url = "http://127.0.0.1:1";
        return ctx;
      },
      options, log_);
  bool running = true;
  asio::co_spawn(io, engine.run(), [&](const std::exception_ptr& e) {
    running = false;
    EXPECT_FALSE(e);
  });
  platform.world["7100000000000000001"];
  platform.world["7100000000000000002"];
  platform.script("7100000000000000001", store::pipeline_step::backup,
                  {{scheduler::test::api_error(adapters::error_class::retryable, 50002)}});
  ASSERT_EQ(drop("two.yaml", manifest_text("two", {"7100000000000000001", "7100000000000000002"})),
            intake_verdict::accepted);
  engine.poke();
  const auto done = [&] {
    if (engine.stats().in_flight > 0) {
      return false;  // the last account's coroutine ends just after its commit
    }
    return std::ranges::all_of(store_->counts(),
                               [](const auto& kv) { return store::is_terminal(kv.first.state); });
  };
  const auto store_busy = [&] { return store_->jobs_in_flight() > 0; };
  ASSERT_TRUE(scheduler::run_virtual(io, done, 10h, store_busy));

  metrics_sources sources;
  sources.store = store_.get();
  sources.engine = &engine;
  sources.client = &client;
  sources.gate = &gate;
  sources.intake = intake_.get();
  sources.started = std::chrono::system_clock::time_point(std::chrono::seconds(1764158400));
  const auto e = parsed(render_metrics(sources));
  EXPECT_EQ(e.value("unlinkd_start_time_seconds"), 1764158400);
  EXPECT_EQ(e.value("unlinkd_accounts", {{"state", "done"}, {"step", "verify"}}), 2);
  EXPECT_EQ(e.value("unlinkd_in_flight"), 0);
  EXPECT_EQ(e.value("unlinkd_steps_total"), static_cast<double>(engine.stats().steps_run));
  EXPECT_EQ(e.value("unlinkd_retries_total", {{"step", "backup"}}), 1);
  EXPECT_EQ(e.value("unlinkd_retries_total", {{"step", "preflight"}}), 0);
  EXPECT_EQ(e.value("unlinkd_step_duration_seconds_count", {{"step", "backup"}}), 3)
      << "two backups and one retry";
  EXPECT_EQ(e.value("unlinkd_step_duration_seconds_count", {{"step", "unlink"}}), 2);
  EXPECT_EQ(e.series("unlinkd_step_duration_seconds_count"), std::size(store::all_pipeline_steps));
  EXPECT_EQ(e.value("unlinkd_api_open_connections"), 0) << "the fake platform sends nothing";
  EXPECT_EQ(e.series("unlinkd_api_calls_total"), 0U);
  EXPECT_EQ(e.value("unlinkd_manifests_total", {{"outcome", "accepted"}}), 1);

  engine.stop();
  ASSERT_TRUE(scheduler::run_virtual(
      io, [&] { return !running; }, 1h, store_busy));
}

// ---------------------------------------------------------------------------
// The listener over a real loopback TCP connection.

using response = http::response<http::string_body>;

http::request<http::string_body> request(http::verb verb, const std::string& target,
                                         std::string body = {}) {
  http::request<http::string_body> r{verb, target, 11};
  r.set(http::field::host, "127.0.0.1");
  r.keep_alive(true);
  r.body() = std::move(body);
  r.prepare_payload();
  return r;
}

// Sends every request on one connection, in order; their responses.
asio::awaitable<std::vector<response>> exchange(asio::ip::tcp::endpoint to,
                                                std::vector<http::request<http::string_body>> rs) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(5s);
  co_await stream.async_connect(to, asio::use_awaitable);
  beast::flat_buffer buffer;
  std::vector<response> out;
  for (auto& r : rs) {
    stream.expires_after(5s);
    co_await http::async_write(stream, r, asio::use_awaitable);
    response res;
    co_await http::async_read(stream, buffer, res, asio::use_awaitable);
    out.push_back(std::move(res));
  }
  co_return out;
}

class metrics_listener_test : public ::testing::Test {
 protected:
  metrics_listener_test()
      : listener_(
            io_.get_executor(), [this] { return render_now(); }, {}, log_) {}

  std::string render_now() {
    metrics_snapshot s;
    s.has_engine = true;
    s.in_flight = ++renders_;  // fresh at every request
    return render(s);
  }

  void start() {
    const auto opened = listener_.open("127.0.0.1:0");
    ASSERT_TRUE(opened.has_value()) << opened.error();
    asio::co_spawn(io_, listener_.run(), [this](const std::exception_ptr& e) {
      EXPECT_FALSE(e);
      stopped_ = true;
    });
  }

  std::vector<response> send(std::vector<http::request<http::string_body>> rs) {
    std::optional<std::vector<response>> out;
    asio::co_spawn(io_, exchange(listener_.local_endpoint(), std::move(rs)),
                   [&](const std::exception_ptr& e, std::vector<response> r) {
                     EXPECT_FALSE(e) << "the exchange failed";
                     out = std::move(r);
                   });
    run_until([&] { return out.has_value(); });
    EXPECT_TRUE(out.has_value()) << "no answer within 10 s";
    return out.value_or(std::vector<response>{});
  }

  void run_until(const std::function<bool()>& done) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < until) {
      io_.run_for(50ms);
    }
  }

  spdlog::logger log_{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  asio::io_context io_;
  metrics_listener listener_;
  std::uint64_t renders_ = 0;
  bool stopped_ = false;
};

TEST_F(metrics_listener_test, get_metrics_answers_prometheus_text_fresh_at_every_request) {
  start();
  const auto endpoint = listener_.local_endpoint();
  EXPECT_TRUE(endpoint.address().is_loopback());
  EXPECT_NE(endpoint.port(), 0);
  const auto answers = send({request(http::verb::get, "/metrics"),
                             request(http::verb::get, "/metrics?name[]=unlinkd_in_flight")});
  ASSERT_EQ(answers.size(), 2U);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    EXPECT_EQ(answers[i].result_int(), 200U);
    EXPECT_EQ(answers[i][http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
    const auto e = parsed(answers[i].body());
    EXPECT_EQ(e.value("unlinkd_in_flight"), static_cast<double>(i + 1));
  }
  EXPECT_EQ(listener_.requests_served(), 2U);
  listener_.stop();
  run_until([this] { return stopped_; });
  EXPECT_TRUE(stopped_);
}

TEST_F(metrics_listener_test, other_paths_are_404_and_other_methods_405) {
  start();
  const auto answers =
      send({request(http::verb::get, "/"), request(http::verb::get, "/v1/batches"),
            request(http::verb::post, "/metrics", "x=1"), request(http::verb::delete_, "/metrics"),
            request(http::verb::get, "/metrics")});
  ASSERT_EQ(answers.size(), 5U);
  EXPECT_EQ(answers[0].result_int(), 404U);
  EXPECT_EQ(answers[1].result_int(), 404U);
  EXPECT_EQ(answers[2].result_int(), 405U);
  EXPECT_EQ(answers[2][http::field::allow], "GET");
  EXPECT_EQ(answers[3].result_int(), 405U);
  EXPECT_EQ(answers[4].result_int(), 200U) << "the connection stays usable";
  EXPECT_EQ(renders_, 1U) << "only the GET /metrics rendered";
  listener_.stop();
  run_until([this] { return stopped_; });
}

TEST_F(metrics_listener_test, an_oversized_request_is_dropped_without_an_answer) {
  start();
  auto big = request(http::verb::get, "/metrics");
  big.set("X-Padding", std::string(std::size_t{16} * 1024, 'a'));
  std::optional<bool> failed;
  asio::co_spawn(io_, exchange(listener_.local_endpoint(), {big}),
                 [&](const std::exception_ptr& e, const std::vector<response>&) {
                   failed = static_cast<bool>(e);
                 });
  run_until([&] { return failed.has_value(); });
  ASSERT_TRUE(failed.has_value());
  EXPECT_TRUE(*failed) << "the connection was closed, not answered";
  EXPECT_EQ(renders_, 0U);
  listener_.stop();
  run_until([this] { return stopped_; });
}

TEST(metrics_listen_address, only_loopback_is_accepted) {
  EXPECT_TRUE(parse_loopback_endpoint("127.0.0.1:9464").has_value());
  EXPECT_TRUE(parse_loopback_endpoint("127.0.0.2:0").has_value());
  EXPECT_TRUE(parse_loopback_endpoint("localhost:9464").has_value());
  const auto v6 = parse_loopback_endpoint("[::1]:9464");
  ASSERT_TRUE(v6.has_value()) << v6.error();
  EXPECT_TRUE(v6->address().is_v6());
  EXPECT_EQ(v6->port(), 9464);

  const auto any = parse_loopback_endpoint("0.0.0.0:9464");
  ASSERT_FALSE(any.has_value());
  EXPECT_NE(any.error().find("not a loopback address"), std::string::npos) << any.error();
  EXPECT_FALSE(parse_loopback_endpoint("192.168.1.10:9464").has_value());
  EXPECT_FALSE(parse_loopback_endpoint("[::]:9464").has_value());
  EXPECT_FALSE(parse_loopback_endpoint("example.com:9464").has_value());
  EXPECT_FALSE(parse_loopback_endpoint("127.0.0.1").has_value());
  EXPECT_FALSE(parse_loopback_endpoint("127.0.0.1:65536").has_value());
  EXPECT_FALSE(parse_loopback_endpoint("127.0.0.1:").has_value());
  EXPECT_FALSE(parse_loopback_endpoint("127.0.0.1:94x").has_value());

  asio::io_context io;
  spdlog::logger log{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  metrics_listener listener(
      io.get_executor(), [] { return std::string(); }, {}, log);
  const auto refused = listener.open("0.0.0.0:0");
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().find("loopback"), std::string::npos) << refused.error();
}

TEST(metrics_listen_address, a_port_in_use_is_a_clear_error) {
  asio::io_context io;
  spdlog::logger log{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  metrics_listener first(
      io.get_executor(), [] { return std::string(); }, {}, log);
  ASSERT_TRUE(first.open("127.0.0.1:0").has_value());
  const auto port = first.local_endpoint().port();
  metrics_listener second(
      io.get_executor(), [] { return std::string(); }, {}, log);
  const auto taken = second.open("127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(taken.has_value());
  EXPECT_NE(taken.error().find("cannot listen for metrics on 127.0.0.1:"), std::string::npos)
      << taken.error();
}

}  // namespace
}  // namespace unlinkd::daemon
