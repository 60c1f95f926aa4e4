#include "sandbox/api_service.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "sandbox/endpoints.hpp"
#include "sandbox/query_string.hpp"

namespace unlinkd::sandbox {

namespace {

constexpr std::string_view api_prefix = "/open_api/v1.3";
constexpr std::string_view admin_prefix = "/_sandbox/";

api_response not_found() { return {404, "text/plain", "404 page not found"}; }

api_response json_response(unsigned status, const boost::json::value& body) {
  return {status, "application/json", boost::json::serialize(body)};
}

api_response json_error(unsigned status, const std::string& message) {
  return json_response(status, boost::json::object{{"error", message}});
}

boost::json::object limits_json(const budget_limits& l) {
  return {{"qps", l.qps}, {"qpm", l.qpm}, {"qpd", l.qpd}};
}

// A limit of a PUT /_sandbox/limits body: a positive integer.
std::optional<std::uint64_t> positive(const boost::json::value& v) {
  if (v.is_uint64()) {
    return v.as_uint64() > 0 ? std::optional(v.as_uint64()) : std::nullopt;
  }
  if (v.is_int64() && v.as_int64() > 0) {
    return static_cast<std::uint64_t>(v.as_int64());
  }
  return std::nullopt;
}

// The calls that change state (write_endpoints.cpp): the only ones a
// reset_after_apply fault can hit.
bool is_mutating(const endpoint* e) {
  const auto writes = write_endpoints();
  return std::any_of(writes.begin(), writes.end(), [&](const endpoint& w) { return &w == e; });
}

// The report endpoints read and change the authoritative state (their tasks
// are no relationship a write could lag behind).
bool is_report(const endpoint* e) {
  const auto reports = report_endpoints();
  return std::any_of(reports.begin(), reports.end(), [&](const endpoint& r) { return &r == e; });
}

}  // namespace

api_service::api_service(sandbox_state initial, std::uint64_t seed, service_options options)
    : initial_(initial),
      state_(std::move(initial)),
      view_(initial_, options.visibility, seed),
      seed_(seed),
      limits_enabled_(options.limits_enabled),
      budget_(options.limits),
      initial_faults_(options.faults),
      faults_(std::move(options.faults)),
      fault_random_(seed) {}

api_response api_service::handle(const api_request& request) {
  auto target = parse_target(request.target);
  if (!target) {
    return {400, "text/plain", "malformed request target"};
  }
  if (target->path.starts_with(admin_prefix)) {
    return handle_admin(request, target->path, target->query);
  }
  if (!target->path.starts_with(api_prefix)) {
    return not_found();
  }
  return handle_api(request, target->path.substr(api_prefix.size()), std::move(target->query));
}

api_response api_service::handle_api(const api_request& request, const std::string& path,
                                     std::map<std::string, std::string> query) {
  // The real API answers a path without its trailing slash with a plain 404.
  const endpoint* e = find_endpoint(path);
  if (e == nullptr) {
    return not_found();
  }
  if (e->method != request.method) {
    return {405, "text/plain", "405 method not allowed"};
  }
  if (!request.access_token || request.access_token->empty()) {
    return envelope(path, 40104,
                    "Access token is null, you should set it in http header with key "
                    "Access-Token.",
                    boost::json::object{});
  }
  const access_token* caller = state_.find_token(*request.access_token);
  if (caller == nullptr || caller->revoked) {
    return envelope(path, 40105, "Access token is incorrect or has been revoked.",
                    boost::json::object{});
  }
  // §1.4 check 5: the budget of the token's app. A refused call is not processed.
  if (limits_enabled_) {
    const auto verdict =
        budget_.admit(caller->app_id, path == "/report/task/create/",
                      std::chrono::steady_clock::now(), std::chrono::system_clock::now());
    if (verdict != budget_verdict::admitted) {
      return envelope(path, 40100,
                      "Due to too many requests, requests from App " + caller->app_id +
                          " are temporarily restricted" +
                          (verdict == budget_verdict::over_day ? " for today." : "."),
                      boost::json::object{});
    }
  }
  // Faults come after the token and budget checks: a budget-admitted call
  // that is then faulted stays counted as accepted, as the real API counts it.
  const bool mutating = is_mutating(e);
  const fault_decision fault = decide_fault(faults_, path, mutating, fault_random_);
  if (fault.kind != fault_kind::none) {
    ++fault_counts_[static_cast<std::size_t>(fault.slot)];
  }
  if (fault.kind == fault_kind::api_code) {
    auto answer = envelope(path, fault.code, fault_message(fault.code), boost::json::object{});
    answer.delay = fault.delay;
    return answer;
  }
  if (fault.kind == fault_kind::http_status) {
    api_response answer{fault.status, "text/plain",
                        fault.status == 500   ? "500 internal server error"
                        : fault.status == 502 ? "502 bad gateway"
                                              : "503 service unavailable"};
    answer.delay = fault.delay;
    return answer;
  }
  if (fault.kind == fault_kind::reset_before) {
    api_response answer;
    answer.fault = response_fault::close_without_reply;
    answer.delay = fault.delay;
    return answer;
  }
  api_response answer = run_endpoint(*e, request, path, std::move(query), *caller);
  answer.delay = fault.delay;
  if (fault.kind == fault_kind::reset_after_apply) {
    answer.fault = response_fault::close_without_reply;  // applied; the reply is lost
  }
  return answer;
}

api_response api_service::run_endpoint(const endpoint& e, const api_request& request,
                                       const std::string& path,
                                       std::map<std::string, std::string> query,
                                       const access_token& caller) {
  request_params params = request_params::from_query(std::move(query));
  if (request.method == http_method::post) {
    boost::system::error_code ec;
    auto body = boost::json::parse(request.body, ec);
    if (ec || !body.is_object()) {
      return envelope(path, 40002, "Invalid JSON body: the request body must be a JSON object.",
                      boost::json::object{});
    }
    params = request_params::from_body(std::move(body.as_object()));
  }
  const bool mutating = is_mutating(&e);
  const auto now = std::chrono::steady_clock::now();
  // Reads see the lagging view (§1.10); writes and reports the truth.
  sandbox_state& world =
      view_.enabled() && !mutating && !is_report(&e) ? view_.visible_at(now) : state_;
  api_call call{world, caller, params, mutations_};
  const api_outcome outcome = e.handle(call);
  if (mutating && outcome.code == 0) {
    view_.record(e, std::move(params), caller, now);
  }
  return envelope(path, outcome.code, outcome.message, outcome.data);
}

api_response api_service::envelope(const std::string& path, int code, const std::string& message,
                                   const boost::json::value& data) {
  ++calls_[path][code];
  return json_response(
      200,
      boost::json::object{
          {"code", code}, {"message", message}, {"request_id", next_request_id()}, {"data", data}});
}

// Real request_ids look like "202403040357439E497F7E6668D60F2700": the UTC
// time to the second, then 20 upper-case hex digits.
std::string api_service::next_request_id() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &utc);
  const std::uint64_t n = ++request_counter_;
  const std::uint64_t mixed = (n * 0x9E3779B97F4A7C15ULL) ^ seed_;
  char id[48];
  std::snprintf(id, sizeof id, "%s%04X%016llX", stamp, static_cast<unsigned>(n & 0xFFFFU),
                static_cast<unsigned long long>(mixed));
  return id;
}

api_response api_service::handle_admin(const api_request& request, const std::string& path,
                                       const std::map<std::string, std::string>& query) {
  if (path == "/_sandbox/stats" && request.method == http_method::get) {
    return {200, "application/json", stats_json()};
  }
  if (path == "/_sandbox/reset" && request.method == http_method::post) {
    state_ = initial_;
    view_.reset(initial_);
    calls_.clear();
    mutations_ = {};
    budget_.reset();
    budget_.reset_limits();
    faults_ = initial_faults_;
    fault_random_ = fault_random(seed_);
    fault_counts_ = {};
    return json_response(200, boost::json::object{{"reset", true}});
  }
  if (path == "/_sandbox/tokens/revoke" && request.method == http_method::post) {
    return set_revoked(request.body, true);
  }
  if (path == "/_sandbox/tokens/restore" && request.method == http_method::post) {
    return set_revoked(request.body, false);
  }
  if (path == "/_sandbox/limits" && request.method == http_method::put) {
    return put_limits(request.body);
  }
  if (path == "/_sandbox/faults" && request.method == http_method::put) {
    return put_faults(request.body);
  }
  if (path == "/_sandbox/state" && request.method == http_method::get) {
    const auto it = query.find("asset_id");
    if (it == query.end()) {
      return json_response(400, boost::json::object{{"error", "asset_id is required"}});
    }
    return {200, "application/json", state_json(it->second)};
  }
  return not_found();
}

// Body {"token": T} or {"app_id": A}: (un)revokes that token or every token
// of the app. No answer or message ever contains a token.
api_response api_service::set_revoked(const std::string& body, bool revoked) {
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    return json_error(400, "The body must be a JSON object.");
  }
  const auto& obj = parsed.as_object();
  const auto* token = obj.if_contains("token");
  const auto* app_id = obj.if_contains("app_id");
  if (obj.size() != 1 || (token == nullptr && app_id == nullptr)) {
    return json_error(400, R"(The body must have exactly one of "token" or "app_id".)");
  }
  const auto* value = token != nullptr ? token : app_id;
  if (!value->is_string() || value->as_string().empty()) {
    return json_error(400, token != nullptr ? "\"token\" must be a non-empty string."
                                            : "\"app_id\" must be a non-empty string.");
  }
  const std::string wanted(value->as_string());
  std::uint64_t matched = 0;
  std::uint64_t changed = 0;
  for (auto& t : state_.tokens) {
    if ((token != nullptr ? t.token : t.app_id) == wanted) {
      ++matched;
      if (t.revoked != revoked) {
        t.revoked = revoked;
        ++changed;
      }
    }
  }
  if (matched == 0) {
    return json_error(404, token != nullptr ? "No such token." : "No token of that app.");
  }
  return json_response(200, boost::json::object{{"tokens", changed}});
}

// Body {"app_id"?, "qps"?, "qpm"?, "qpd"?}: the given limits of that app (or,
// without app_id, the default of every app without limits of its own); the
// others keep their value.
api_response api_service::put_limits(const std::string& body) {
  if (!limits_enabled_) {
    return json_error(409, "The budget is off (--no-limits); limits cannot be changed.");
  }
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    return json_error(400, "The body must be a JSON object.");
  }
  const auto& obj = parsed.as_object();
  std::optional<std::string> app_id;
  bool any_limit = false;
  for (const auto& [key, v] : obj) {
    if (key == "app_id") {
      if (!v.is_string() || v.as_string().empty()) {
        return json_error(400, "\"app_id\" must be a non-empty string.");
      }
      app_id = std::string(v.as_string());
    } else if (key == "qps" || key == "qpm" || key == "qpd") {
      if (!positive(v)) {
        return json_error(400, "\"" + std::string(key) + "\" must be a positive integer.");
      }
      any_limit = true;
    } else {
      return json_error(400, "Unknown field \"" + std::string(key) +
                                 "\": only app_id, qps, qpm and qpd are allowed.");
    }
  }
  if (!any_limit) {
    return json_error(400, R"(At least one of "qps", "qpm" or "qpd" is required.)");
  }
  if (app_id && std::none_of(state_.apps.begin(), state_.apps.end(),
                             [&](const app& a) { return a.app_id == *app_id; })) {
    return json_error(404, "No such app.");
  }
  budget_limits merged = app_id ? budget_.limits_for(*app_id) : budget_.limits();
  if (const auto* v = obj.if_contains("qps")) {
    merged.qps = *positive(*v);
  }
  if (const auto* v = obj.if_contains("qpm")) {
    merged.qpm = *positive(*v);
  }
  if (const auto* v = obj.if_contains("qpd")) {
    merged.qpd = *positive(*v);
  }
  if (merged.qps > merged.qpm || merged.qpm > merged.qpd) {
    return json_error(400, "The limits must satisfy qps <= qpm <= qpd; they would be qps " +
                               std::to_string(merged.qps) + ", qpm " + std::to_string(merged.qpm) +
                               ", qpd " + std::to_string(merged.qpd) + ".");
  }
  boost::json::object answer{{"limits", limits_json(merged)}};
  if (app_id) {
    budget_.set_app_limits(*app_id, merged);
    answer["app_id"] = *app_id;
  } else {
    budget_.set_default_limits(merged);
  }
  return json_response(200, answer);
}

// Body: a whole fault profile, YAML or JSON (JSON is YAML), as --faults
// reads it. It replaces the current profile; an empty body switches faults off.
api_response api_service::put_faults(const std::string& body) {
  auto loaded = load_fault_profile(body, "PUT /_sandbox/faults");
  if (!loaded.problems.empty()) {
    return {400, "text/plain", loaded.problems.to_text()};
  }
  faults_ = std::move(loaded.profile);
  return json_response(200, boost::json::object{{"faults", "replaced"}});
}

std::string api_service::stats_json() const {
  boost::json::object calls;
  std::uint64_t total = 0;
  for (const auto& [path, codes] : calls_) {
    boost::json::object by_code;
    for (const auto& [code, n] : codes) {
      by_code[std::to_string(code)] = n;
      total += n;
    }
    calls[std::string(api_prefix) + path] = std::move(by_code);
  }
  boost::json::object accounts;
  for (const auto& [id, n] : mutations_.attempted) {
    const auto applied = mutations_.applied.find(id);
    accounts[id] = {
        {"mutations_attempted", n},
        {"mutations_applied", applied == mutations_.applied.end() ? 0 : applied->second}};
  }
  boost::json::object apps;
  for (const auto& [id, s] : budget_.stats()) {
    apps[id] = {{"accepted", s.accepted},
                {"refused", s.refused},
                {"max_1s", s.max_1s},
                {"max_60s", s.max_60s},
                {"limits", limits_json(budget_.limits_for(id))}};
  }
  boost::json::object limits;
  if (limits_enabled_) {
    boost::json::object per_app;
    for (const auto& [id, l] : budget_.app_limits()) {
      per_app[id] = limits_json(l);
    }
    limits = {{"default", limits_json(budget_.limits())}, {"apps", std::move(per_app)}};
  }
  // Counts only: a token is never echoed.
  std::uint64_t revoked = 0;
  std::map<std::string, std::uint64_t> revoked_per_app;
  for (const auto& t : state_.tokens) {
    if (t.revoked) {
      ++revoked;
      ++revoked_per_app[t.app_id];
    }
  }
  boost::json::object revoked_by_app;
  for (const auto& [id, n] : revoked_per_app) {
    revoked_by_app[id] = n;
  }
  boost::json::object faults;
  for (std::size_t i = 0; i < fault_slot_count; ++i) {
    faults[fault_slot_name(static_cast<fault_slot>(i))] = fault_counts_[i];
  }
  boost::json::object visibility{{"delay_min_ms", view_.delay().min.count()},
                                 {"delay_max_ms", view_.delay().max.count()},
                                 {"pending_writes", view_.pending()}};
  boost::json::object tokens;
  tokens["total"] = state_.tokens.size();
  tokens["revoked"] = revoked;
  tokens["revoked_by_app"] = std::move(revoked_by_app);
  return boost::json::serialize(
      boost::json::object{{"calls", std::move(calls)},
                          {"apps", std::move(apps)},
                          {"limits", std::move(limits)},
                          {"tokens", std::move(tokens)},
                          {"total_calls", total},
                          {"accounts", std::move(accounts)},
                          {"faults", std::move(faults)},
                          {"visibility", std::move(visibility)},
                          {"advertiser_disable_calls", mutations_.advertiser_disable_calls}});
}

std::string api_service::state_json(const std::string& asset_id) const {
  boost::json::array in_bcs;
  for (const auto& a : state_.assets) {
    if (a.asset_id == asset_id) {
      in_bcs.push_back(boost::json::object{{"bc_id", a.bc_id},
                                           {"asset_type", to_api(a.type)},
                                           {"relation_type", to_api(a.relation)}});
    }
  }
  boost::json::array partners;
  for (const auto& p : state_.partner_shares) {
    if (p.asset_id == asset_id) {
      partners.push_back(boost::json::object{{"bc_id", p.bc_id}, {"partner_id", p.partner_id}});
    }
  }
  boost::json::array members;
  for (const auto& m : state_.member_accesses) {
    if (m.asset_id == asset_id) {
      members.push_back(boost::json::object{{"bc_id", m.bc_id}, {"user_id", m.user_id}});
    }
  }
  boost::json::array bound;
  for (const auto& b : state_.bindings) {
    if (b.tt_account_id == asset_id) {
      bound.push_back(boost::json::object{{"bc_id", b.bc_id}, {"advertiser_id", b.advertiser_id}});
    }
  }
  return boost::json::serialize(boost::json::object{{"asset_id", asset_id},
                                                    {"in_business_centers", std::move(in_bcs)},
                                                    {"shared_with_partners", std::move(partners)},
                                                    {"members", std::move(members)},
                                                    {"bound_advertisers", std::move(bound)}});
}

}  // namespace unlinkd::sandbox
