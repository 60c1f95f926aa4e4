#include "config/daemon_config.hpp"

#include <algorithm>
#include <array>

#include "config/file_reader.hpp"
#include "config/scalars.hpp"
#include "config/value_reader.hpp"
#include "config/yaml_reader.hpp"

namespace unlinkd::config {

std::string_view to_string(log_level l) {
  constexpr std::array<std::string_view, 7> names{"trace", "debug",    "info", "warn",
                                                  "error", "critical", "off"};
  return names[static_cast<std::size_t>(l)];
}

namespace {

using std::chrono::milliseconds;

constexpr std::size_t max_config_bytes = 1U << 20U;

constexpr std::array<choice<log_level>, 7> level_choices{{
    {"trace", log_level::trace, {}},
    {"debug", log_level::debug, {}},
    {"info", log_level::info, {}},
    {"warn", log_level::warn, {}},
    {"error", log_level::error, {}},
    {"critical", log_level::critical, {}},
    {"off", log_level::off, {}},
}};

bool is_group_name(std::string_view s) {
  if (s.empty() || s.size() > 32 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) {
    return false;
  }
  return std::ranges::all_of(s, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

class config_decoder {
 public:
  explicit config_decoder(diagnostics& diags) : read_(diags) {}

  void decode(const yaml_node& root, daemon_config& out) {
    if (root.is_null()) {
      return;  // an empty file: every default
    }
    if (!read_.expect_mapping(root, "(top level)")) {
      return;
    }
    bool inbox_set = false;
    for (std::size_t i = 0; i < root.mapping_size(); ++i) {
      const auto& key = root.key(i);
      const auto& v = root.value(i);
      const std::string_view k = key.text;
      if (k == "state_dir") {
        assign(out.state_dir, read_.absolute_path(v, k));
      } else if (k == "inbox_dir") {
        inbox_set = true;
        assign(out.inbox_dir, read_.absolute_path(v, k));
      } else if (k == "socket") {
        assign(out.socket, read_.absolute_path(v, k));
      } else if (k == "socket_group" || k == "admin_group") {
        auto& field = k == "socket_group" ? out.socket_group : out.admin_group;
        if (auto name = read_.text(v, k, 32)) {
          if (is_group_name(*name)) {
            field = std::move(*name);
          } else {
            read_.error(v, k,
                        quote(*name) +
                            " is not a group name (lower-case letters, digits, "
                            "'_' and '-', starting with a letter)");
          }
        }
      } else if (k == "credentials_file") {
        assign(out.credentials_file, read_.absolute_path(v, k));
      } else if (k == "api_base_url") {
        assign(out.api_base_url, read_.url(v, k));
      } else if (k == "concurrency") {
        assign(out.concurrency, read_.count(v, k, 1, 100'000));
      } else if (k == "max_accounts_per_manifest") {
        assign(out.max_accounts_per_manifest, read_.count(v, k, 1, 10'000'000));
      } else if (k == "max_manifest_bytes") {
        // Positions are 32-bit offsets, hence the upper bound.
        assign(out.max_manifest_bytes, read_.byte_size(v, k, 1024, 0xFFFF'FFFFULL));
      } else if (k == "retry") {
        decode_retry(v, out.retry);
      } else if (k == "drain_timeout") {
        assign(out.drain_timeout, read_.duration(v, k, milliseconds(0), std::chrono::hours(1)));
      } else if (k == "metrics_listen") {
        decode_metrics_listen(v, out);
      } else if (k == "webhook_secret_file") {
        if (v.is_scalar() && v.text.empty()) {
          out.webhook_secret_file.clear();
        } else {
          assign(out.webhook_secret_file, read_.absolute_path(v, k));
        }
      } else if (k == "log_level") {
        assign(out.level, read_.one_of<log_level>(v, k, level_choices));
      } else {
        read_.unknown_key(
            key, "",
            {"state_dir", "inbox_dir", "socket", "socket_group", "admin_group", "credentials_file",
             "api_base_url", "concurrency", "max_accounts_per_manifest", "max_manifest_bytes",
             "retry", "drain_timeout", "metrics_listen", "webhook_secret_file", "log_level"});
      }
    }
    if (!inbox_set) {
      out.inbox_dir = out.state_dir + "/inbox";
    }
  }

 private:
  template <class T, class V>
  static void assign(T& field, std::optional<V> value) {
    if (value) {
      field = static_cast<T>(std::move(*value));
    }
  }

  void decode_retry(const yaml_node& v, retry_policy& retry) {
    if (!read_.expect_mapping(v, "retry")) {
      return;
    }
    const yaml_node* max_node = nullptr;
    for (std::size_t i = 0; i < v.mapping_size(); ++i) {
      const std::string_view k = v.key(i).text;
      const auto path = join_path("retry", k);
      if (k == "max_attempts") {
        assign(retry.max_attempts, read_.count(v.value(i), path, 1, 100));
      } else if (k == "initial_backoff") {
        assign(retry.initial_backoff,
               read_.duration(v.value(i), path, milliseconds(10), std::chrono::hours(1)));
      } else if (k == "max_backoff") {
        max_node = &v.value(i);
        assign(retry.max_backoff,
               read_.duration(v.value(i), path, milliseconds(100), std::chrono::hours(24)));
      } else {
        read_.unknown_key(v.key(i), "retry", {"max_attempts", "initial_backoff", "max_backoff"});
      }
    }
    if (retry.max_backoff < retry.initial_backoff) {
      read_.error(max_node != nullptr ? *max_node : v, "retry.max_backoff",
                  "is shorter than retry.initial_backoff; the backoff grows from the initial "
                  "value up to this cap");
    }
  }

  void decode_metrics_listen(const yaml_node& v, daemon_config& out) {
    if (v.is_scalar() && v.text.empty()) {
      out.metrics_listen.clear();
      return;
    }
    if (auto endpoint = read_.text(v, "metrics_listen", 64)) {
      if (is_loopback_endpoint(*endpoint)) {
        out.metrics_listen = std::move(*endpoint);
      } else {
        read_.error(v, "metrics_listen",
                    quote(*endpoint) +
                        " is not a loopback HOST:PORT; metrics are served on loopback only, "
                        "e.g. 127.0.0.1:9464 (\"\" turns them off)");
      }
    }
  }

  value_reader read_;
};

}  // namespace

daemon_config_result parse_daemon_config(std::string_view bytes, std::string file_name) {
  daemon_config_result out{daemon_config{}, diagnostics(std::move(file_name))};
  yaml_limits limits;
  limits.max_bytes = max_config_bytes;
  const auto root = read_yaml(bytes, limits, out.problems);
  if (root) {
    config_decoder(out.problems).decode(*root, out.value);
  }
  out.problems.sort_by_position();  // as in a manifest: in reading order
  return out;
}

daemon_config_result load_daemon_config(const std::string& path) {
  auto file = read_regular_file(path, max_config_bytes);
  if (!file.value) {
    daemon_config_result out{daemon_config{}, diagnostics(path)};
    out.problems.file_error(file.error);
    return out;
  }
  return parse_daemon_config(file.value->bytes, path);
}

}  // namespace unlinkd::config
