#include "sandbox/fault_plan.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <optional>

#include "config/file_reader.hpp"
#include "config/value_reader.hpp"
#include "config/yaml_reader.hpp"

namespace unlinkd::sandbox {

namespace {

constexpr std::size_t max_profile_bytes = std::size_t{1} << 20U;
constexpr std::size_t max_paths = 256;
constexpr std::size_t max_path_chars = 256;
constexpr auto max_delay = std::chrono::milliseconds(10 * 60 * 1000);

constexpr std::array<std::string_view, fault_slot_count> slot_names{
    "api_40100", "api_40016", "api_50000", "api_50002", "api_51xxx",    "api_60001",
    "api_40202", "http_500",  "http_502",  "http_503",  "reset_before", "reset_after_apply"};

constexpr std::array<int, fault_slot_count> slot_codes{40100, 40016, 50000, 50002, 0, 60001,
                                                       40202, 0,     0,     0,     0, 0};
constexpr std::array<unsigned, fault_slot_count> slot_statuses{0, 0,   0,   0,   0, 0,
                                                               0, 500, 502, 503, 0, 0};

using config::yaml_node;

class profile_decoder {
 public:
  explicit profile_decoder(fault_profile_result& out) : read_(out.problems), p_(out.profile) {}

  void decode(const yaml_node& root) {
    if (root.is_null()) {
      return;  // an empty profile: no faults
    }
    if (!read_.expect_mapping(root, "(top level)")) {
      return;
    }
    for (std::size_t i = 0; i < root.mapping_size(); ++i) {
      const auto& key = root.key(i);
      const auto& value = root.value(i);
      if (key.text == "faults") {
        faults(value);
      } else if (key.text == "code_51xxx") {
        if (const auto c = read_.count(value, "code_51xxx", 51000, 51099)) {
          p_.code_51xxx = static_cast<int>(*c);
        }
      } else if (key.text == "latency") {
        latency(value);
      } else if (key.text == "paths") {
        paths(value);
      } else if (key.text == "mutating_only") {
        if (const auto b = read_.boolean(value, "mutating_only")) {
          p_.mutating_only = *b;
        }
      } else {
        read_.unknown_key(key, "", {"faults", "code_51xxx", "latency", "paths", "mutating_only"});
      }
    }
  }

 private:
  std::optional<double> probability(const yaml_node& n, const std::string& path) {
    if (!n.is_scalar() || n.quoted) {
      read_.error(n, path, "expected a probability from 0 to 1, such as 0.05");
      return std::nullopt;
    }
    double value = 0;
    const char* begin = n.text.data();
    const char* end = begin + n.text.size();
    const auto [stop, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc{} || stop != end || !std::isfinite(value) || value < 0.0 || value > 1.0) {
      read_.error(n, path, config::quote(n.text) + " is not a probability from 0 to 1");
      return std::nullopt;
    }
    return value;
  }

  void faults(const yaml_node& n) {
    if (!read_.expect_mapping(n, "faults")) {
      return;
    }
    double sum = 0.0;
    for (std::size_t i = 0; i < n.mapping_size(); ++i) {
      const auto& key = n.key(i);
      const auto* it = std::find(slot_names.begin(), slot_names.end(), key.text);
      if (it == slot_names.end()) {
        read_.unknown_key(
            key, "faults",
            {"api_40100", "api_40016", "api_50000", "api_50002", "api_51xxx", "api_60001",
             "api_40202", "http_500", "http_502", "http_503", "reset_before", "reset_after_apply"});
        continue;
      }
      if (const auto v = probability(n.value(i), config::join_path("faults", key.text))) {
        p_.probability[static_cast<std::size_t>(it - slot_names.begin())] = *v;
        sum += *v;
      }
    }
    if (sum > 1.0 + 1e-9) {
      read_.error(n, "faults",
                  "the probabilities add up to more than 1; one call gets at most one fault");
    }
  }

  void latency(const yaml_node& n) {
    if (!read_.expect_mapping(n, "latency")) {
      return;
    }
    for (std::size_t i = 0; i < n.mapping_size(); ++i) {
      const auto& key = n.key(i);
      const auto& value = n.value(i);
      const auto path = config::join_path("latency", key.text);
      if (key.text == "fixed" || key.text == "jitter" || key.text == "tail") {
        if (const auto d = read_.duration(value, path, std::chrono::milliseconds(0), max_delay)) {
          (key.text == "fixed"    ? p_.latency.fixed
           : key.text == "jitter" ? p_.latency.jitter
                                  : p_.latency.tail) = *d;
        }
      } else if (key.text == "tail_probability") {
        if (const auto v = probability(value, path)) {
          p_.latency.tail_probability = *v;
        }
      } else {
        read_.unknown_key(key, "latency", {"fixed", "jitter", "tail_probability", "tail"});
      }
    }
  }

  void paths(const yaml_node& n) {
    if (!read_.expect_sequence(n, "paths")) {
      return;
    }
    if (n.items.size() > max_paths) {
      read_.error(n, "paths", "at most " + std::to_string(max_paths) + " path prefixes");
      return;
    }
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      const auto path = config::index_path("paths", i);
      const auto t = read_.text(n.items[i], path, max_path_chars);
      if (!t) {
        continue;
      }
      if (!t->starts_with('/')) {
        read_.error(
            n.items[i], path,
            config::quote(*t) + " must start with '/': a path after /open_api/v1.3, such as /bc/");
        continue;
      }
      p_.paths.push_back(*t);
    }
  }

  config::value_reader read_;
  fault_profile& p_;
};

std::chrono::milliseconds scaled(std::chrono::milliseconds max, double unit) {
  if (max.count() <= 0) {
    return std::chrono::milliseconds(0);
  }
  // uniform in [0, max]
  const auto n = static_cast<std::uint64_t>(max.count()) + 1;
  return std::chrono::milliseconds(std::min<std::int64_t>(
      max.count(), static_cast<std::int64_t>(unit * static_cast<double>(n))));
}

}  // namespace

std::string_view fault_slot_name(fault_slot s) { return slot_names[static_cast<std::size_t>(s)]; }

bool fault_profile::inert() const {
  return std::all_of(probability.begin(), probability.end(), [](double p) { return p <= 0.0; }) &&
         latency.fixed.count() == 0 && latency.jitter.count() == 0 &&
         (latency.tail_probability <= 0.0 || latency.tail.count() == 0);
}

std::uint64_t fault_random::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31U);
}

double fault_random::unit() {
  return static_cast<double>(next() >> 11U) * (1.0 / 9007199254740992.0);  // 2^-53
}

fault_decision decide_fault(const fault_profile& profile, std::string_view path, bool mutating,
                            fault_random& random) {
  fault_decision d;
  if (profile.mutating_only && !mutating) {
    return d;
  }
  if (!profile.paths.empty() &&
      std::none_of(profile.paths.begin(), profile.paths.end(),
                   [&](const std::string& prefix) { return path.starts_with(prefix); })) {
    return d;
  }
  const double outcome = random.unit();
  const double jitter = random.unit();
  const double tail = random.unit();
  d.delay = profile.latency.fixed + scaled(profile.latency.jitter, jitter);
  if (tail < profile.latency.tail_probability) {
    d.delay += profile.latency.tail;
  }
  double cumulative = 0.0;
  for (std::size_t i = 0; i < fault_slot_count; ++i) {
    const double p = profile.probability[i];
    if (p <= 0.0) {
      continue;
    }
    cumulative += p;
    // p == 1 always hits: unit() < 1.
    if (outcome < cumulative) {
      const auto slot = static_cast<fault_slot>(i);
      if (slot == fault_slot::reset_after_apply && !mutating) {
        return d;  // nothing to apply: the call goes through
      }
      d.slot = slot;
      if (slot == fault_slot::reset_before) {
        d.kind = fault_kind::reset_before;
      } else if (slot == fault_slot::reset_after_apply) {
        d.kind = fault_kind::reset_after_apply;
      } else if (slot_statuses[i] != 0) {
        d.kind = fault_kind::http_status;
        d.status = slot_statuses[i];
      } else {
        d.kind = fault_kind::api_code;
        d.code = slot == fault_slot::api_51xxx ? profile.code_51xxx : slot_codes[i];
      }
      return d;
    }
  }
  return d;
}

std::string fault_message(int code) {
  switch (code) {
    case 40100:
      return "Due to too many requests, requests are temporarily restricted.";
    case 40016:
      return "Too many requests, please retry later.";
    case 50000:
      return "System error.";
    case 50002:
      return "Service is under maintenance, please retry later.";
    case 60001:
      return "Write conflict, please retry.";
    case 40202:
      return "Operation too frequent, please retry later.";
    default:
      return "Internal service error, please retry later.";  // 51xxx
  }
}

fault_profile_result load_fault_profile(std::string_view bytes, std::string file_name) {
  fault_profile_result out{fault_profile{}, config::diagnostics(std::move(file_name))};
  config::yaml_limits limits;
  limits.max_bytes = max_profile_bytes;
  limits.size_advice = "a fault profile is a few lines";
  if (!bytes.empty()) {
    const auto root = config::read_yaml(bytes, limits, out.problems);
    if (root) {
      profile_decoder(out).decode(*root);
    }
  }
  out.problems.sort_by_position();
  out.problems.set_text({});
  return out;
}

fault_profile_result load_fault_profile_file(const std::string& path) {
  auto file = config::read_regular_file(path, max_profile_bytes);
  if (!file.value) {
    fault_profile_result out{fault_profile{}, config::diagnostics(path)};
    out.problems.file_error(file.error);
    return out;
  }
  return load_fault_profile(file.value->bytes, path);
}

}  // namespace unlinkd::sandbox
