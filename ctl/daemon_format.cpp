#include "ctl/daemon_format.hpp"

#include <algorithm>
#include <sstream>

#include <boost/json.hpp>

#include "ctl/exit_codes.hpp"

namespace unlinkd::ctl {

namespace json = boost::json;

namespace {

const json::value* field(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  return o == nullptr ? nullptr : o->if_contains(key);
}

// A scalar as text; "-" when missing or empty.
std::string text(const json::value* v) {
  if (v == nullptr || v->is_null()) {
    return "-";
  }
  if (const auto* s = v->if_string()) {
    return s->empty() ? "-" : std::string(*s);
  }
  if (v->is_bool()) {
    return v->get_bool() ? "yes" : "no";
  }
  return json::serialize(*v);
}

std::string text(const json::value& v, std::string_view key) { return text(field(v, key)); }

std::int64_t count(const json::value& v, std::string_view key) {
  const auto* n = field(v, key);
  if (n == nullptr) {
    return 0;
  }
  if (const auto* i = n->if_int64()) {
    return *i;
  }
  if (const auto* u = n->if_uint64()) {
    return static_cast<std::int64_t>(*u);
  }
  return 0;
}

const json::array& array_of(const json::value& v, std::string_view key) {
  static const json::array empty;
  const auto* a = field(v, key);
  return a != nullptr && a->is_array() ? a->get_array() : empty;
}

const json::value& object_or_null(const json::value* v) {
  static const json::value null;
  return v == nullptr ? null : *v;
}

std::string plural(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line.append(widths[i] - row[i].size() + 2, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line + '\n';
  }
  return out;
}

std::string format_status(const json::value& health, const json::value& batches) {
  std::string out = "unlinkd: " + text(health, "status") + ", " +
                    plural(count(health, "in_flight"), "account", "accounts") + " in flight\n";
  const auto& all = array_of(batches, "batches");
  if (all.empty()) {
    return out + "no batches\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& b : all) {
    const auto& accounts = object_or_null(field(b, "accounts"));
    const auto& by_state = object_or_null(field(accounts, "by_state"));
    std::string line = std::to_string(count(by_state, "done")) + "/" +
                       std::to_string(count(accounts, "total")) + " done, " +
                       std::to_string(count(by_state, "failed")) + " failed";
    if (const auto n = count(by_state, "needs_attention"); n > 0) {
      line += ", " + std::to_string(n) + " need attention";
    }
    rows.push_back({"  " + text(b, "name"), text(b, "state"), line});
  }
  return out + format_table(rows);
}

std::string format_batches_table(const json::value& batches) {
  const auto& all = array_of(batches, "batches");
  if (all.empty()) {
    return "no batches\n";
  }
  std::vector<std::vector<std::string>> rows{{"BATCH", "ID", "STATE", "ACTION", "DRY RUN", "TOTAL",
                                              "DONE", "FAILED", "ATTENTION", "CREATED"}};
  for (const auto& b : all) {
    const auto& accounts = object_or_null(field(b, "accounts"));
    const auto& by_state = object_or_null(field(accounts, "by_state"));
    rows.push_back({text(b, "name"), text(b, "id"), text(b, "state"), text(b, "action"),
                    text(b, "dry_run"), std::to_string(count(accounts, "total")),
                    std::to_string(count(by_state, "done")),
                    std::to_string(count(by_state, "failed")),
                    std::to_string(count(by_state, "needs_attention")), text(b, "created_at")});
  }
  return format_table(rows);
}

std::string format_batch(const json::value& b) {
  std::ostringstream out;
  out << "batch " << text(b, "name") << " (id " << text(b, "id") << ")\n";
  std::vector<std::vector<std::string>> rows{
      {"  state:", text(b, "state")},
      {"  state reason:", text(b, "state_reason")},
      {"  action:", text(b, "action") + (text(b, "dry_run") == "yes" ? " (dry run)" : "")},
      {"  credentials:", text(b, "credentials")},
      {"  business center:", text(b, "business_center_id")},
      {"  source file:", text(b, "source_file")},
      {"  submitted by uid:", text(b, "submitter_uid")},
      {"  created:", text(b, "created_at")},
      {"  finished:", text(b, "finished_at")}};
  out << format_table(rows);
  const auto& accounts = object_or_null(field(b, "accounts"));
  out << "accounts: " << count(accounts, "total") << '\n';
  const auto table = [&](const char* title, std::string_view key) {
    const auto* o = field(accounts, key);
    if (o == nullptr || !o->is_object() || o->get_object().empty()) {
      return;
    }
    out << "  " << title << ":\n";
    std::vector<std::vector<std::string>> counts;
    for (const auto& [name, n] : o->get_object()) {
      counts.push_back({"    " + std::string(name), text(&n)});
    }
    out << format_table(counts);
  };
  table("by state", "by_state");
  table("in progress by step", "in_progress_by_step");
  return out.str();
}

std::string format_accounts_table(const json::value& accounts) {
  const auto* a = accounts.if_array();
  if (a == nullptr || a->empty()) {
    return "no accounts\n";
  }
  std::vector<std::vector<std::string>> rows{
      {"ACCOUNT", "LABEL", "TYPE", "STATE", "STEP", "ATTEMPTS", "LAST ERROR"}};
  for (const auto& account : *a) {
    std::string error = "-";
    if (const auto* e = field(account, "last_error"); e != nullptr && e->is_object()) {
      error = text(*e, "code") + ": " + text(*e, "message");
    }
    rows.push_back({text(account, "id"), text(account, "label"), text(account, "type"),
                    text(account, "state"), text(account, "step"), text(account, "attempts"),
                    error});
  }
  return format_table(rows);
}

std::string format_history(const json::value& account) {
  std::ostringstream out;
  out << "account " << text(account, "id") << " (" << text(account, "label") << ", "
      << text(account, "type") << ")\n";
  std::vector<std::vector<std::string>> rows{{"  state:", text(account, "state")},
                                             {"  step:", text(account, "step")},
                                             {"  attempts:", text(account, "attempts")},
                                             {"  next attempt:", text(account, "next_attempt_at")}};
  if (const auto* e = field(account, "last_error"); e != nullptr && e->is_object()) {
    rows.push_back({"  last error:", text(*e, "code") + ": " + text(*e, "message") + " (request " +
                                         text(*e, "request_id") + ")"});
  }
  if (const auto* b = field(account, "backup"); b != nullptr && b->is_object()) {
    rows.push_back({"  backup:", text(*b, "folder") + " (" + text(*b, "digest") + ")"});
  }
  const auto& paused = array_of(account, "campaigns_paused");
  if (!paused.empty()) {
    std::string ids;
    for (const auto& id : paused) {
      ids += (ids.empty() ? "" : ", ") + text(&id);
    }
    rows.push_back({"  campaigns paused:", ids});
  }
  out << format_table(rows);
  const auto& events = array_of(account, "events");
  if (events.empty()) {
    out << "no events\n";
    return out.str();
  }
  std::vector<std::vector<std::string>> table{
      {"SEQ", "AT", "KIND", "FROM", "TO", "STEP", "UID", "DETAIL"}};
  for (const auto& e : events) {
    table.push_back({text(e, "seq"), text(e, "at"), text(e, "kind"), text(e, "from_state"),
                     text(e, "to_state"), text(e, "step"), text(e, "uid"), text(e, "detail")});
  }
  out << "events:\n" << format_table(table);
  return out.str();
}

std::string format_problems(const std::string& file, const json::value& answer) {
  std::string out;
  for (const auto& p : array_of(answer, "problems")) {
    out += file + ":" + std::to_string(count(p, "line")) + ":" +
           std::to_string(count(p, "column")) + ": error: " + text(p, "message") + "\n";
  }
  if (const auto more = count(answer, "problems_not_shown"); more > 0) {
    out += file + ": " + plural(more, "more problem", "more problems") + " not shown\n";
  }
  if (out.empty()) {
    out = file + ": error: " + text(answer, "message") + "\n";
  }
  return out;
}

std::string format_event_line(const json::value& event) {
  std::string line = text(event, "seq") + "  " + text(event, "at") + "  " + text(event, "kind");
  const auto part = [&](const char* label, std::string_view key) {
    if (const auto value = text(event, key); value != "-") {
      line += std::string("  ") + label + value;
    }
  };
  part("batch ", "batch_id");
  part("account ", "account_id");
  const auto from = text(event, "from_state");
  const auto to = text(event, "to_state");
  if (from != "-" || to != "-") {
    line += "  " + from + " -> " + to;
  }
  part("step ", "step");
  part("uid ", "uid");
  part("", "detail");
  return line + "\n";
}

std::string error_message(unsigned status, const std::string& body) {
  boost::system::error_code ec;
  const auto v = json::parse(body, ec);
  if (!ec) {
    if (const auto* m = field(v, "message"); m != nullptr && m->is_string()) {
      return std::string(m->get_string()) + " (" + text(v, "error") + ")";
    }
  }
  std::string trimmed = body.substr(0, 200);
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ')) {
    trimmed.pop_back();
  }
  return "unlinkd answered HTTP " + std::to_string(status) +
         (trimmed.empty() ? std::string() : ": " + trimmed);
}

int exit_code_of(unsigned status) {
  if (status >= 200 && status < 300) {
    return exit_ok;
  }
  switch (status) {
    case 422:
      return exit_invalid_manifest;
    case 404:
      return exit_not_found;
    case 403:
    case 409:
      return exit_refused;
    default:
      return exit_usage;
  }
}

}  // namespace unlinkd::ctl
