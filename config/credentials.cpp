#include "config/credentials.hpp"

#include <array>
#include <cstdio>

#include "config/file_reader.hpp"
#include "config/scalars.hpp"
#include "config/value_reader.hpp"
#include "config/yaml_reader.hpp"

namespace unlinkd::config {

rate_limits limits_of(api_tier tier) {
  switch (tier) {
    case api_tier::basic:
      return {10, 600, 864'000};
    case api_tier::advanced:
      return {20, 1'200, 1'728'000};
    case api_tier::premium:
      return {30, 1'800, 2'592'000};
    case api_tier::ultimate:
      return {50, 3'000, 4'320'000};
  }
  return {};
}

const credential_profile* credentials::find(std::string_view name) const {
  for (const auto& p : profiles) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

namespace {

constexpr std::size_t max_credentials_bytes = 1U << 20U;

constexpr std::array<choice<api_tier>, 4> tier_choices{{
    {"basic", api_tier::basic, {}},
    {"advanced", api_tier::advanced, {}},
    {"premium", api_tier::premium, {}},
    {"ultimate", api_tier::ultimate, {}},
}};

std::string describe(const rate_limits& l) {
  return std::to_string(l.qps) + "/s, " + std::to_string(l.qpm) + "/min, " + std::to_string(l.qpd) +
         "/day";
}

class credentials_decoder {
 public:
  // No message quotes a value or an unknown key of this file: any of them
  // may be a token pasted in the wrong place.
  explicit credentials_decoder(diagnostics& diags) : read_(diags) { read_.conceal_values(); }

  void decode(const yaml_node& root, credentials& out) {
    if (root.is_null()) {
      read_.diags().error_at(1, 1, "the file is empty; it needs a profiles: mapping");
      return;
    }
    if (!read_.expect_mapping(root, "(top level)")) {
      return;
    }
    const yaml_node* profiles = nullptr;
    for (std::size_t i = 0; i < root.mapping_size(); ++i) {
      if (root.key(i).text == "profiles") {
        profiles = &root.value(i);
      } else {
        read_.unknown_key(root.key(i), "", {"profiles"});
      }
    }
    if (profiles == nullptr) {
      read_.diags().error(root.mark, "missing required key 'profiles'");
      return;
    }
    if (!read_.expect_mapping(*profiles, "profiles")) {
      return;
    }
    std::vector<source_mark> marks;
    for (std::size_t i = 0; i < profiles->mapping_size(); ++i) {
      const auto& name = profiles->key(i);
      if (!is_valid_profile_name(name.text)) {
        read_.diags().error(name.mark, "profiles: " + quote(name.text) +
                                           " is not a profile name (letters, digits, '.', '_', "
                                           "'-'; at most 64)");
        continue;
      }
      if (auto p = decode_profile(name, profiles->value(i))) {
        check_shared_app(*p, name.mark, out, marks);
        out.profiles.push_back(std::move(*p));
        marks.push_back(name.mark);
      }
    }
  }

 private:
  std::optional<credential_profile> decode_profile(const yaml_node& name, const yaml_node& v) {
    const auto path = join_path("profiles", name.text);
    if (!read_.expect_mapping(v, path)) {
      return std::nullopt;
    }
    credential_profile p;
    p.name = name.text;
    std::optional<api_tier> tier;
    std::optional<std::uint64_t> qps;
    std::optional<std::uint64_t> qpm;
    std::optional<std::uint64_t> qpd;
    bool ok = true;
    bool has_app = false;
    bool has_secret = false;
    bool has_token = false;
    const auto keep = [&](auto& field, auto value) {
      if (value) {
        field = std::move(*value);
      } else {
        ok = false;
      }
    };
    for (std::size_t i = 0; i < v.mapping_size(); ++i) {
      const std::string_view k = v.key(i).text;
      const auto& value = v.value(i);
      const auto p_path = join_path(path, k);
      if (k == "app_id") {
        has_app = true;
        keep(p.app_id, read_.id(value, p_path));
      } else if (k == "secret") {
        has_secret = true;
        auto s = read_.secret(value, p_path);
        keep(p.app_secret, s ? std::optional(secret(std::move(*s))) : std::nullopt);
      } else if (k == "access_token") {
        has_token = true;
        auto s = read_.secret(value, p_path);
        keep(p.access_token, s ? std::optional(secret(std::move(*s))) : std::nullopt);
      } else if (k == "tier") {
        tier = read_.one_of<api_tier>(value, p_path, tier_choices);
        ok = ok && tier.has_value();
      } else if (k == "qps") {
        qps = read_.count(value, p_path, 1, 100'000);
        ok = ok && qps.has_value();
      } else if (k == "qpm") {
        qpm = read_.count(value, p_path, 1, 6'000'000);
        ok = ok && qpm.has_value();
      } else if (k == "qpd") {
        qpd = read_.count(value, p_path, 1, 10'000'000'000ULL);
        ok = ok && qpd.has_value();
      } else if (k == "base_url") {
        keep(p.base_url, read_.url(value, p_path));
      } else {
        read_.unknown_key(
            v.key(i), path,
            {"app_id", "secret", "access_token", "tier", "qps", "qpm", "qpd", "base_url"});
        ok = false;
      }
    }
    const auto require = [&](bool present, std::string_view key) {
      if (!present) {
        read_.diags().error(name.mark, path + ": missing required key '" + std::string(key) + "'");
        ok = false;
      }
    };
    require(has_app, "app_id");
    require(has_secret, "secret");
    require(has_token, "access_token");
    if (!ok) {
      return std::nullopt;
    }
    // A tier gives all three limits; explicit qps/qpm/qpd override it.
    p.limits = limits_of(tier.value_or(api_tier::basic));
    p.limits.qps = static_cast<std::uint32_t>(qps.value_or(p.limits.qps));
    p.limits.qpm = static_cast<std::uint32_t>(qpm.value_or(p.limits.qpm));
    p.limits.qpd = qpd.value_or(p.limits.qpd);
    if (p.limits.qpm < p.limits.qps || p.limits.qpd < p.limits.qpm) {
      read_.diags().error(name.mark, path + ": the limits (" + describe(p.limits) +
                                         ") must not shrink from second to minute to day: "
                                         "qps <= qpm <= qpd");
      return std::nullopt;
    }
    return p;
  }

  // Profiles of one app share one budget, so they must agree on it.
  void check_shared_app(const credential_profile& p, source_mark at, const credentials& seen,
                        const std::vector<source_mark>& marks) {
    for (std::size_t i = 0; i < seen.profiles.size(); ++i) {
      const auto& other = seen.profiles[i];
      if (other.app_id == p.app_id && !(other.limits == p.limits)) {
        read_.diags().error(at, "profiles." + p.name + ": app " + p.app_id + " is also used by '" +
                                    other.name + "' (line " + std::to_string(marks[i].line + 1) +
                                    ") with other limits (" + describe(p.limits) + " here, " +
                                    describe(other.limits) +
                                    " there); an app has one budget: give both the same tier "
                                    "or limits");
        return;
      }
    }
  }

  value_reader read_;
};

}  // namespace

credentials_result parse_credentials(std::string_view bytes, std::string file_name) {
  credentials_result out{credentials{}, diagnostics(std::move(file_name))};
  yaml_limits limits;
  limits.max_bytes = max_credentials_bytes;
  const auto root = read_yaml(bytes, limits, out.problems);
  if (root) {
    credentials_decoder(out.problems).decode(*root, out.value);
  }
  // As in a manifest: in the order people read the file (a profile's
  // missing keys are found after its other problems).
  out.problems.sort_by_position();
  return out;
}

credentials_result load_credentials(const std::string& path,
                                    const credentials_file_checks& checks) {
  auto file = read_regular_file(path, max_credentials_bytes);
  if (!file.value) {
    credentials_result out{credentials{}, diagnostics(path)};
    out.problems.file_error(file.error);
    return out;
  }
  if ((file.value->mode & 077U) != 0) {
    credentials_result out{credentials{}, diagnostics(path)};
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(file.value->mode));
    out.problems.file_error(std::string("has mode ") + mode +
                            ", so group or others may read it; it holds tokens: run chmod 600 " +
                            path);
    return out;
  }
  if (checks.required_owner && file.value->owner != *checks.required_owner) {
    credentials_result out{credentials{}, diagnostics(path)};
    out.problems.file_error("is owned by uid " + std::to_string(file.value->owner) +
                            ", not by the daemon's user (uid " +
                            std::to_string(*checks.required_owner) + "); chown it to that user");
    return out;
  }
  return parse_credentials(file.value->bytes, path);
}

}  // namespace unlinkd::config
