#include "daemon/control_api.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>

#include <boost/json.hpp>

#include "config/manifest_identity.hpp"
#include "config/manifest_parser.hpp"
#include "config/utf8.hpp"
#include "daemon/batch_report.hpp"

namespace unlinkd::daemon {

namespace json = boost::json;
namespace asio = boost::asio;

namespace {

constexpr std::size_t events_page = 1000;  // events per answer or chunk, at most

control_response json_response(unsigned status, const json::value& v) {
  return {status, "application/json", json::serialize(v) + "\n", {}};
}

std::string iso(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// One query parameter's value ("" when absent); values here are plain
// names and numbers, so no percent-decoding is needed beyond rejecting it.
std::string query_value(const std::string& query, const std::string& key) {
  std::size_t at = 0;
  while (at <= query.size()) {
    const auto end = std::min(query.find('&', at), query.size());
    const std::string_view pair(query.data() + at, end - at);
    if (pair.starts_with(key + "=")) {
      return std::string(pair.substr(key.size() + 1));
    }
    at = end + 1;
  }
  return {};
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t at = 1;
  while (at <= path.size()) {
    const auto end = std::min(path.find('/', at), path.size());
    if (end > at) {
      parts.emplace_back(path.substr(at, end - at));
    }
    at = end + 1;
  }
  return parts;
}

json::object counts_json(const store::count_map& counts) {
  json::object by_state;
  json::object by_step;
  std::int64_t total = 0;
  for (const auto& [key, n] : counts) {
    const std::string state(store::to_string(key.state));
    by_state[state] = (by_state.contains(state) ? by_state[state].as_int64() : 0) + n;
    if (!store::is_terminal(key.state)) {
      const std::string step(store::to_string(key.step));
      by_step[step] = (by_step.contains(step) ? by_step[step].as_int64() : 0) + n;
    }
    total += n;
  }
  return {{"total", total},
          {"by_state", std::move(by_state)},
          {"in_progress_by_step", std::move(by_step)}};
}

json::object batch_json(const store::batch_record& b, const store::count_map& counts) {
  json::object o{{"name", b.name},
                 {"id", b.id},
                 {"state", std::string(store::to_string(b.state))},
                 {"state_reason", b.state_reason},
                 {"action", std::string(config::to_string(b.action))},
                 {"dry_run", b.dry_run},
                 {"credentials", b.credentials},
                 {"business_center_id", b.business_center_id},
                 {"source_file", config::printable_utf8(b.source_file)},
                 {"submitter_uid", b.submitter_uid},
                 {"created_at", iso(b.created_at)},
                 {"accounts", counts_json(counts)}};
  if (b.finished_at) {
    o["finished_at"] = iso(*b.finished_at);
  }
  return o;
}

json::object account_json(const store::account_record& a) {
  json::object o{{"id", a.settings.id},
                 {"label", a.settings.label},
                 {"type", std::string(config::to_string(a.settings.type))},
                 {"state", std::string(store::to_string(a.state))},
                 {"step", std::string(store::to_string(a.step))},
                 {"attempts", a.attempts},
                 {"next_attempt_at", iso(a.next_attempt_at)}};
  if (a.settings.mode) {
    o["mode"] = std::string(config::to_string(*a.settings.mode));
  }
  if (a.last_error) {
    o["last_error"] = {{"code", a.last_error->code},
                       {"message", a.last_error->message},
                       {"request_id", a.last_error->request_id}};
  }
  if (a.backup) {
    o["backup"] = {{"folder", a.backup->folder}, {"digest", a.backup->digest}};
  }
  json::array paused;
  for (const auto& id : a.campaigns_paused) {
    paused.emplace_back(id);
  }
  o["campaigns_paused"] = std::move(paused);
  return o;
}

json::object event_json(const store::event_record& e) {
  json::object o{{"seq", e.seq},
                 {"at", iso(e.at)},
                 {"kind", e.kind},
                 {"detail", config::printable_utf8(e.detail)},  // may quote a file name
                 {"from_state", e.from_state},
                 {"to_state", e.to_state},
                 {"step", e.step}};
  if (e.batch_id) {
    o["batch_id"] = *e.batch_id;
  }
  if (!e.account_id.empty()) {
    o["account_id"] = e.account_id;
  }
  if (e.uid) {
    o["uid"] = *e.uid;
  }
  return o;
}

json::array problems_json(const config::diagnostics& d) {
  json::array out;
  for (const auto& p : d.items()) {
    out.push_back(
        {{"line", p.line}, {"column", p.column}, {"message", config::printable_utf8(p.message)}});
  }
  return out;
}

std::optional<std::size_t> number(const std::string& text, std::size_t fallback, std::size_t max) {
  if (text.empty()) {
    return fallback;
  }
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return std::min(n, max);
}

}  // namespace

control_response error_response(unsigned status, const std::string& code,
                                const std::string& message) {
  // Messages quote the request (a path, a batch name): bytes that are not
  // UTF-8 would make the answer invalid JSON.
  return json_response(status,
                       json::object{{"error", code}, {"message", config::printable_utf8(message)}});
}

control_api::control_api(store::store& store, scheduler::engine& engine, control_settings settings)
    : store_(store), engine_(engine), settings_(std::move(settings)) {}

asio::awaitable<std::optional<store::batch_record>> control_api::find_batch(
    const std::string& name) {
  auto all = co_await store_.batches();
  if (!all) {
    co_return std::nullopt;
  }
  for (auto& b : *all) {
    if (b.name == name) {
      co_return std::move(b);
    }
  }
  co_return std::nullopt;
}

asio::awaitable<control_response> control_api::handle(control_request r, caller who) {
  const access_level level = access_of(who, settings_.groups);
  if (level == access_level::none) {
    co_return error_response(403, "forbidden",
                             "uid " + std::to_string(who.uid) +
                                 " may not use unlinkd's socket: add the user to the "
                                 "socket_group (to read) or the admin_group (to change)");
  }
  const auto q = r.target.find('?');
  const std::string path = r.target.substr(0, q);
  const std::string query = q == std::string::npos ? "" : r.target.substr(q + 1);
  const auto parts = split_path(path);
  const bool get = r.method == "GET";
  const bool post = r.method == "POST";
  if (!get && !post) {
    co_return error_response(405, "method_not_allowed", "only GET and POST are served");
  }
  // Validating changes nothing: readers may ask too.
  if (post && level != access_level::change && path != "/v1/validate") {
    co_return error_response(403, "forbidden",
                             "uid " + std::to_string(who.uid) +
                                 " may read but not change: changes need root or the "
                                 "admin_group");
  }
  if (path == "/v1/health" && get) {
    co_return json_response(
        200, json::object{{"status", "ok"}, {"in_flight", engine_.stats().in_flight}});
  }
  if (path == "/v1/batches" && get) {
    co_return co_await batches();
  }
  if (path == "/v1/batches" && post) {
    co_return co_await submit(r, who, query_value(query, "dry_run") == "true");
  }
  if (path == "/v1/validate" && post) {
    co_return validate(r);
  }
  if (path == "/v1/events" && get) {
    co_return co_await events(query);
  }
  if (path == "/metrics" && get) {
    co_return metrics();
  }
  if (parts.size() >= 3 && parts[0] == "v1" && parts[1] == "batches") {
    const std::string& name = parts[2];
    if (parts.size() == 3 && get) {
      co_return co_await batch(name);
    }
    if (parts.size() == 4 && parts[3] == "accounts" && get) {
      co_return co_await accounts(name, query);
    }
    if (parts.size() == 4 && parts[3] == "report" && get) {
      co_return co_await report(name, query_value(query, "format"));
    }
    if (parts.size() == 5 && parts[3] == "accounts" && get) {
      co_return co_await account(name, parts[4]);
    }
    if (parts.size() == 4 && post &&
        (parts[3] == "pause" || parts[3] == "resume" || parts[3] == "cancel" ||
         parts[3] == "retry-failed")) {
      co_return co_await control(name, parts[3], who);
    }
  }
  co_return error_response(404, "not_found", "no such path: " + r.method + " " + path);
}

asio::awaitable<control_response> control_api::batches() {
  auto all = co_await store_.batches();
  if (!all) {
    co_return error_response(500, "store_error", all.error().message);
  }
  json::array out;
  for (const auto& b : *all) {
    out.push_back(batch_json(b, store_.counts(b.id)));
  }
  co_return json_response(200, json::object{{"batches", std::move(out)}});
}

asio::awaitable<control_response> control_api::batch(const std::string& name) {
  const auto b = co_await find_batch(name);
  if (!b) {
    co_return error_response(404, "batch_not_found", "no batch named '" + name + "'");
  }
  co_return json_response(200, batch_json(*b, store_.counts(b->id)));
}

asio::awaitable<control_response> control_api::accounts(const std::string& name,
                                                        const std::string& query) {
  const auto b = co_await find_batch(name);
  if (!b) {
    co_return error_response(404, "batch_not_found", "no batch named '" + name + "'");
  }
  std::optional<store::account_state> state;
  if (const auto s = query_value(query, "state"); !s.empty()) {
    state = store::account_state_from_string(s);
    if (!state) {
      co_return error_response(400, "bad_state",
                               "state must be one of pending, preflight, backup, pause, unlink, "
                               "verify, done, failed, cancelled, needs_attention");
    }
  }
  const auto limit = number(query_value(query, "limit"), 100, 1000);
  if (!limit) {
    co_return error_response(400, "bad_limit", "limit must be a whole number");
  }
  const std::string after = query_value(query, "after");
  auto page = co_await store_.accounts(b->id, state, after, *limit);
  if (!page) {
    co_return error_response(500, "store_error", page.error().message);
  }
  json::array out;
  for (const auto& a : *page) {
    out.push_back(account_json(a));
  }
  json::object body{{"batch", name}, {"accounts", std::move(out)}};
  if (page->size() == *limit) {
    body["next_after"] = page->back().settings.id;
  }
  co_return json_response(200, body);
}

asio::awaitable<control_response> control_api::report(const std::string& name,
                                                      const std::string& format) {
  if (!format.empty() && format != "json" && format != "csv") {
    co_return error_response(400, "bad_format", "format must be json or csv");
  }
  std::optional<std::string> wanted = name;
  auto loaded = co_await load_batch(store_, wanted, std::nullopt);
  if (!loaded) {
    co_return error_response(500, "store_error", loaded.error().message);
  }
  if (!*loaded) {
    co_return error_response(404, "batch_not_found", "no batch named '" + name + "'");
  }
  const auto& c = **loaded;
  if (format == "csv") {
    co_return control_response{200, "text/csv", report_csv(c.batch, c.accounts), {}};
  }
  co_return control_response{200, "application/json", report_json(c.batch, c.accounts), {}};
}

asio::awaitable<control_response> control_api::account(const std::string& name,
                                                       const std::string& id) {
  const auto b = co_await find_batch(name);
  if (!b) {
    co_return error_response(404, "batch_not_found", "no batch named '" + name + "'");
  }
  auto found = co_await store_.find_account(b->id, id);
  if (!found || !*found) {
    co_return error_response(404, "account_not_found", "batch '" + name + "' has no account " + id);
  }
  auto history = co_await store_.account_events(b->id, id);
  json::object body = account_json(**found);
  json::array events;
  if (history) {
    for (const auto& e : *history) {
      events.push_back(event_json(e));
    }
  }
  body["events"] = std::move(events);
  co_return json_response(200, body);
}

asio::awaitable<control_response> control_api::events(const std::string& query) {
  const auto since = number(query_value(query, "since"), 0, INT64_MAX);
  if (!since) {
    co_return error_response(400, "bad_since", "since must be an event sequence number");
  }
  const std::string follow = query_value(query, "follow");
  if (!follow.empty() && follow != "true" && follow != "false") {
    co_return error_response(400, "bad_follow", "follow must be true or false");
  }
  if (follow != "false") {
    // Streamed: the server asks for the next events until the client leaves.
    control_response r{200, "application/x-ndjson", {}, {}};
    auto last = std::make_shared<std::int64_t>(static_cast<std::int64_t>(*since));
    r.next = [this, last] { return next_events(last); };
    co_return r;
  }
  const auto limit = number(query_value(query, "limit"), events_page, events_page);
  if (!limit || *limit == 0) {
    co_return error_response(400, "bad_limit", "limit must be a whole number from 1 to 1000");
  }
  auto page = co_await store_.events_after(static_cast<std::int64_t>(*since), *limit);
  if (!page) {
    co_return error_response(500, "store_error", page.error().message);
  }
  std::string ndjson;
  for (const auto& e : *page) {
    ndjson += json::serialize(event_json(e)) + "\n";
  }
  co_return control_response{200, "application/x-ndjson", std::move(ndjson), {}};
}

asio::awaitable<std::optional<std::string>> control_api::next_events(
    std::shared_ptr<std::int64_t> last) {
  auto page = co_await store_.events_after(*last, events_page);
  if (!page) {
    co_return std::nullopt;  // the store failed: end the stream, the client polls again
  }
  std::string ndjson;
  for (const auto& e : *page) {
    ndjson += json::serialize(event_json(e)) + "\n";
    *last = e.seq;
  }
  co_return ndjson;
}

control_response control_api::metrics() const {
  if (!settings_.metrics) {
    return error_response(503, "metrics_unavailable", "this unlinkd serves no metrics");
  }
  return {200, "text/plain; version=0.0.4; charset=utf-8", settings_.metrics(), {}};
}

config::manifest_result control_api::parse(const control_request& r) const {
  config::manifest_options o;
  o.max_bytes = settings_.max_manifest_bytes;
  o.max_accounts = settings_.max_accounts;
  o.known_profiles = settings_.profiles ? settings_.profiles() : std::nullopt;
  return config::parse_manifest(r.body, manifest_name(r), o, config::utc_today());
}

std::string control_api::manifest_name(const control_request& r) {
  // A header's bytes: stored as the batch's source_file and quoted in events
  // and errors, so only as valid UTF-8.
  return r.manifest_name.empty() ? "manifest.yaml" : config::printable_utf8(r.manifest_name);
}

control_response control_api::invalid_manifest(const control_request& r,
                                               const config::diagnostics& problems) {
  return json_response(422, json::object{{"error", "invalid_manifest"},
                                         {"message", config::printable_utf8(manifest_name(r)) +
                                                         " is not a valid manifest"},
                                         {"problems", problems_json(problems)},
                                         {"problems_not_shown", problems.dropped()}});
}

control_response control_api::validate(const control_request& r) const {
  auto parsed = parse(r);
  if (!parsed.value) {
    return invalid_manifest(r, parsed.problems);
  }
  return json_response(200, json::object{{"valid", true},
                                         {"batch", parsed.value->batch},
                                         {"accounts", parsed.value->accounts.size()},
                                         {"sha256", config::sha256_hex(r.body)}});
}

asio::awaitable<control_response> control_api::submit(const control_request& r, const caller& who,
                                                      bool dry_run) {
  auto parsed = parse(r);
  if (!parsed.value) {
    co_return invalid_manifest(r, parsed.problems);
  }
  store::ingest_request request;
  request.manifest = std::move(*parsed.value);
  request.manifest.dry_run = request.manifest.dry_run || dry_run;
  request.sha256 = config::sha256_hex(r.body);
  request.source_file = manifest_name(r);
  request.submitter_uid = who.uid;
  const std::string batch_name = request.manifest.batch;
  auto outcome = co_await store_.ingest(std::move(request));
  if (!outcome) {
    co_return error_response(500, "store_error", outcome.error().message);
  }
  if (const auto* a = std::get_if<store::ingest_accepted>(&*outcome)) {
    engine_.poke();
    // The stored name: a dry run gets its own ("<batch>-dry-run[-N]").
    co_return json_response(
        201, json::object{{"batch", a->batch_name.empty() ? batch_name : a->batch_name},
                          {"id", a->batch_id}});
  }
  const std::string code =
      std::holds_alternative<store::ingest_duplicate>(*outcome)   ? "duplicate_manifest"
      : std::holds_alternative<store::ingest_name_used>(*outcome) ? "batch_name_used"
                                                                  : "account_busy";
  co_return error_response(409, code, store::describe(*outcome));
}

asio::awaitable<control_response> control_api::control(const std::string& name,
                                                       const std::string& action,
                                                       const caller& who) {
  scheduler::control_result result;
  const std::optional<std::uint32_t> uid = who.uid;
  if (action == "pause") {
    result = co_await engine_.pause(name, uid);
  } else if (action == "resume") {
    result = co_await engine_.resume(name, uid);
  } else if (action == "cancel") {
    result = co_await engine_.cancel(name, uid);
  } else {
    result = co_await engine_.retry_failed(name, uid);
  }
  switch (result.status) {
    case scheduler::control_status::done:
      co_return json_response(200, json::object{{"batch", name}, {"message", result.message}});
    case scheduler::control_status::not_found:
      co_return error_response(404, "batch_not_found", result.message);
    case scheduler::control_status::conflict:
      co_return error_response(409, "conflict", result.message);
  }
  co_return error_response(500, "internal", "unknown control result");
}

}  // namespace unlinkd::daemon
