#include "daemon/batch_report.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>

#include <boost/json.hpp>
#include <fcntl.h>
#include <unistd.h>

#include "config/utf8.hpp"

namespace unlinkd::daemon {

namespace json = boost::json;

namespace {

std::string iso(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string joined(const std::vector<std::string>& ids, char sep) {
  std::string out;
  for (const auto& id : ids) {
    out += (out.empty() ? "" : std::string(1, sep)) + id;
  }
  return out;
}

// RFC 4180: quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) {
    return s;
  }
  std::string out = "\"";
  for (const char c : s) {
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  }
  return out + "\"";
}

std::int64_t seconds_between(std::chrono::system_clock::time_point from,
                             std::chrono::system_clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::seconds>(to - from).count();
}

double seconds_of(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000.0; }

// "12.3": an estimate needs no more.
std::string tenths(double seconds) {
  char text[32];
  const int n = std::snprintf(text, sizeof text, "%.1f", seconds);
  return {text, static_cast<std::size_t>(n)};
}

std::string optional_iso(const std::optional<std::chrono::system_clock::time_point>& t) {
  return t ? iso(*t) : std::string();
}

std::string failed_step(const store::account_record& a) {
  return a.state == store::account_state::failed || a.state == store::account_state::needs_attention
             ? std::string(store::to_string(a.step))
             : std::string();
}

}  // namespace

std::string report_json(const store::batch_record& batch,
                        const std::vector<store::account_record>& accounts) {
  std::map<std::string, std::int64_t> by_state;
  std::uint64_t api_calls = 0;
  std::uint64_t planned_calls = 0;
  std::chrono::milliseconds planned_time{0};
  json::array rows;
  for (const auto& a : accounts) {
    ++by_state[std::string(store::to_string(a.state))];
    api_calls += a.api_calls;
    json::object row{{"id", a.settings.id},
                     {"label", a.settings.label},
                     {"type", std::string(config::to_string(a.settings.type))},
                     {"mode", a.settings.mode ? std::string(config::to_string(*a.settings.mode))
                                              : std::string()},
                     {"state", std::string(store::to_string(a.state))},
                     {"failed_step", failed_step(a)},
                     {"campaigns_paused", json::value_from(a.campaigns_paused)},
                     {"api_calls", a.api_calls}};
    if (a.started_at) {
      row["started_at"] = iso(*a.started_at);
    }
    if (a.ended_at) {
      row["ended_at"] = iso(*a.ended_at);
      if (a.started_at) {
        row["duration_seconds"] = seconds_between(*a.started_at, *a.ended_at);
      }
    }
    if (a.last_error) {
      row["reason"] = a.last_error->message;
      row["api_code"] = a.last_error->code;
      row["request_id"] = a.last_error->request_id;
    }
    if (a.backup) {
      row["backup_folder"] = a.backup->folder;
      row["backup_digest"] = a.backup->digest;
    }
    if (batch.dry_run) {
      if (a.state == store::account_state::done && a.plan) {
        planned_calls += a.plan->estimated_api_calls;
        planned_time += a.plan->estimated_time;
        row["plan"] = json::object{{"action", a.plan->action},
                                   {"campaigns_to_pause", json::value_from(a.campaigns_to_pause)},
                                   {"estimated_api_calls", a.plan->estimated_api_calls},
                                   {"estimated_seconds", seconds_of(a.plan->estimated_time)}};
      } else {
        row["plan"] = nullptr;
      }
    }
    if (a.unlink_sent_at) {
      row["unlinked_at"] = iso(*a.unlink_sent_at);
    }
    rows.push_back(std::move(row));
  }
  json::object counts;
  for (const auto& [state, n] : by_state) {
    counts[state] = n;
  }
  json::object summary{
      {"accounts", accounts.size()},
      {"by_state", std::move(counts)},
      {"created_at", iso(batch.created_at)},
      {"api_calls", api_calls},
      {"api_calls_per_account",
       accounts.empty() ? 0.0
                        : static_cast<double>(api_calls) / static_cast<double>(accounts.size())}};
  if (batch.dry_run) {
    // Accounts of one credential share its budget: their times add up.
    summary["plan"] = json::object{{"estimated_api_calls", planned_calls},
                                   {"estimated_seconds", seconds_of(planned_time)}};
  }
  if (batch.finished_at) {
    summary["finished_at"] = iso(*batch.finished_at);
    summary["duration_seconds"] =
        std::chrono::duration_cast<std::chrono::seconds>(*batch.finished_at - batch.created_at)
            .count();
  }
  return json::serialize(json::object{{"batch", batch.name},
                                      {"state", std::string(store::to_string(batch.state))},
                                      {"state_reason", batch.state_reason},
                                      {"action", std::string(config::to_string(batch.action))},
                                      {"dry_run", batch.dry_run},
                                      {"business_center_id", batch.business_center_id},
                                      {"source_file", config::printable_utf8(batch.source_file)},
                                      {"submitter_uid", batch.submitter_uid},
                                      {"summary", std::move(summary)},
                                      {"accounts", std::move(rows)}}) +
         "\n";
}

std::string report_csv(const store::batch_record& batch,
                       const std::vector<store::account_record>& accounts) {
  std::string out =
      "batch,id,label,type,mode,state,failed_step,reason,api_code,request_id,backup_folder,"
      "backup_digest,campaigns_paused,api_calls,started_at,ended_at,plan_action,"
      "plan_api_calls,plan_seconds\r\n";
  for (const auto& a : accounts) {
    const std::vector<std::string> fields{
        batch.name,
        a.settings.id,
        a.settings.label,
        std::string(config::to_string(a.settings.type)),
        a.settings.mode ? std::string(config::to_string(*a.settings.mode)) : std::string(),
        std::string(store::to_string(a.state)),
        failed_step(a),
        a.last_error ? a.last_error->message : std::string(),
        a.last_error ? std::to_string(a.last_error->code) : std::string(),
        a.last_error ? a.last_error->request_id : std::string(),
        a.backup ? a.backup->folder : std::string(),
        a.backup ? a.backup->digest : std::string(),
        joined(a.campaigns_paused, ' '),
        std::to_string(a.api_calls),
        optional_iso(a.started_at),
        optional_iso(a.ended_at),
        a.plan ? a.plan->action : std::string(),
        a.plan ? std::to_string(a.plan->estimated_api_calls) : std::string(),
        a.plan ? tenths(seconds_of(a.plan->estimated_time)) : std::string()};
    for (std::size_t i = 0; i < fields.size(); ++i) {
      out += (i == 0 ? "" : ",") + csv_field(fields[i]);
    }
    out += "\r\n";
  }
  return out;
}

boost::asio::awaitable<store::store_result<std::optional<batch_contents>>> load_batch(
    store::store& store, std::optional<std::string> name, std::optional<std::int64_t> id) {
  auto all = co_await store.batches();
  if (!all) {
    co_return all.error();
  }
  std::optional<batch_contents> out;
  for (auto& b : *all) {
    if ((name && b.name == *name) || (id && b.id == *id)) {
      out = batch_contents{std::move(b), {}};
      break;
    }
  }
  if (!out) {
    co_return std::optional<batch_contents>();
  }
  std::string after;
  for (;;) {
    const std::optional<store::account_state> any_state;
    auto page = co_await store.accounts(out->batch.id, any_state, after, 1000);
    if (!page) {
      co_return page.error();
    }
    if (page->empty()) {
      break;
    }
    after = page->back().settings.id;
    for (auto& a : *page) {
      out->accounts.push_back(std::move(a));
    }
  }
  co_return out;
}

namespace {

std::optional<std::string> write_whole(const std::filesystem::path& path, const std::string& text) {
  const std::string temporary = path.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return "cannot write " + temporary + ": " + std::strerror(errno);
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return "cannot write " + path.string() + ": " + std::strerror(ok ? errno : saved);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> write_report_files(const std::filesystem::path& reports_dir,
                                              const batch_contents& contents) {
  const auto base = reports_dir / contents.batch.name;
  if (auto e =
          write_whole(base.string() + ".json", report_json(contents.batch, contents.accounts))) {
    return e;
  }
  return write_whole(base.string() + ".csv", report_csv(contents.batch, contents.accounts));
}

}  // namespace unlinkd::daemon
