#include "ctl/daemon_commands.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>
#include <variant>

#include <boost/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "config/file_reader.hpp"
#include "ctl/daemon_format.hpp"
#include "ctl/exit_codes.hpp"
#include "ctl/progress_meter.hpp"

namespace unlinkd::ctl {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_manifest_bytes = std::size_t{16} << 20U;
constexpr std::size_t max_page = 1000;  // the daemon's own cap on ?limit=

// Says why a request failed and returns the exit code for it.
int report_failure(const socket_failure& f, const command_context& ctx) {
  ctx.err << "unlinkctl: " << f.message << '\n';
  if (f.what == socket_failure::kind::unreachable) {
    ctx.err << "unlinkctl: is unlinkd running? Check `systemctl status unlinkd`, or give the "
               "socket with --socket PATH or UNLINKD_SOCKET\n";
    return exit_unreachable;
  }
  if (f.what == socket_failure::kind::refused) {
    ctx.err << "unlinkctl: ask for the daemon's socket_group (to read) or admin_group (to "
               "change)\n";
    return exit_refused;
  }
  return exit_usage;
}

int report_error_answer(const http_answer& a, const command_context& ctx) {
  ctx.err << "unlinkctl: " << error_message(a.status, a.body) << '\n';
  const int code = exit_code_of(a.status);
  return code == exit_ok ? exit_usage : code;
}

// The answer's JSON, or a message on err when it is not JSON.
std::optional<json::value> parse_answer(const http_answer& a, const command_context& ctx) {
  boost::system::error_code ec;
  auto v = json::parse(a.body, ec);
  if (ec) {
    ctx.err << "unlinkctl: unlinkd's answer is not JSON: " << ec.message() << '\n';
    return std::nullopt;
  }
  return v;
}

// GET `target`: the JSON of a 2xx answer, or the exit code to stop with.
std::variant<json::value, int> get_json(const std::string& target, const command_context& ctx) {
  const auto answer = ctx.client.get(target);
  if (!answer) {
    return report_failure(answer.error(), ctx);
  }
  if (exit_code_of(answer->status) != exit_ok) {
    return report_error_answer(*answer, ctx);
  }
  auto v = parse_answer(*answer, ctx);
  if (!v) {
    return exit_usage;
  }
  return std::move(*v);
}

// Commands made of one GET: the answer as is with --json, else formatted.
int show_one(const std::string& target, const command_line& c, const command_context& ctx,
             std::string (*format)(const json::value&)) {
  auto v = get_json(target, ctx);
  if (const int* code = std::get_if<int>(&v)) {
    return *code;
  }
  const auto& value = std::get<json::value>(v);
  ctx.out << (c.json ? json::serialize(value) + "\n" : format(value));
  return exit_ok;
}

std::string batch_path(const std::string& batch) { return "/v1/batches/" + batch; }

int status(const command_line& c, const command_context& ctx) {
  auto health = get_json("/v1/health", ctx);
  if (const int* code = std::get_if<int>(&health)) {
    return *code;
  }
  auto batches = get_json("/v1/batches", ctx);
  if (const int* code = std::get_if<int>(&batches)) {
    return *code;
  }
  const auto& h = std::get<json::value>(health);
  const auto& b = std::get<json::value>(batches);
  if (c.json) {
    const auto* list = b.is_object() ? b.get_object().if_contains("batches") : nullptr;
    ctx.out << json::serialize(json::object{{"health", h},
                                            {"batches", list != nullptr ? *list : json::array{}}})
            << '\n';
  } else {
    ctx.out << format_status(h, b);
  }
  return exit_ok;
}

int accounts(const command_line& c, const command_context& ctx) {
  const std::string& batch = c.operands[0];
  json::array all;
  std::string after;
  bool more = false;
  while (all.size() < c.limit) {
    std::string target = batch_path(batch) + "/accounts?limit=" +
                         std::to_string(std::min(c.limit - all.size(), max_page));
    if (c.state) {
      target += "&state=" + *c.state;
    }
    if (!after.empty()) {
      target += "&after=" + after;
    }
    auto page = get_json(target, ctx);
    if (const int* code = std::get_if<int>(&page)) {
      return *code;
    }
    const auto& v = std::get<json::value>(page);
    const auto* o = v.if_object();
    const auto* list = o == nullptr ? nullptr : o->if_contains("accounts");
    if (list == nullptr || !list->is_array()) {
      ctx.err << "unlinkctl: unlinkd's answer has no \"accounts\" list\n";
      return exit_usage;
    }
    for (const auto& a : list->get_array()) {
      all.push_back(a);
    }
    const auto* next = o->if_contains("next_after");
    more = next != nullptr && next->is_string() && !list->get_array().empty();
    if (!more) {
      break;
    }
    after = std::string(next->get_string());
  }
  if (c.json) {
    json::object body{{"batch", batch}, {"accounts", all}};
    if (more) {
      body["next_after"] = after;
    }
    ctx.out << json::serialize(body) << '\n';
    return exit_ok;
  }
  ctx.out << format_accounts_table(all);
  if (more) {
    ctx.out << "(the first " << all.size() << " accounts; more with --limit N)\n";
  }
  return exit_ok;
}

int watch(const command_line& c, const command_context& ctx) {
  const std::string target = batch_path(c.operands[0]);
  progress_meter meter;
  std::string last_line;
  const auto wait =
      ctx.wait ? ctx.wait : [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  for (;;) {
    auto polled = get_json(target, ctx);
    if (const int* code = std::get_if<int>(&polled)) {
      if (ctx.out_is_tty && !c.json && !last_line.empty()) {
        ctx.out << '\n';  // keep the last drawn line
      }
      return *code;
    }
    const auto& batch = std::get<json::value>(polled);
    const auto* state_value = batch.is_object() ? batch.get_object().if_contains("state") : nullptr;
    const std::string state = state_value != nullptr && state_value->is_string()
                                  ? std::string(state_value->get_string())
                                  : "unknown";
    const auto counts = progress_of(batch);
    meter.add(ctx.now(), counts);
    if (c.json) {
      ctx.out << json::serialize(batch) << '\n' << std::flush;
    } else {
      const std::string line = progress_line(counts, meter.rate_per_minute(), meter.eta(), state);
      // Outside a terminal, a line only when the counts or the state change:
      // the rate alone moves every poll and would flood a log.
      const std::string key = progress_line(counts, std::nullopt, std::nullopt, state);
      if (ctx.out_is_tty) {
        ctx.out << "\r\033[K" << line << std::flush;  // redraw in place
      } else if (key != last_line) {
        ctx.out << line << '\n' << std::flush;
      }
      last_line = key;
    }
    if (batch_finished(state)) {
      if (ctx.out_is_tty && !c.json) {
        ctx.out << '\n';
      }
      return exit_ok;
    }
    wait(c.interval);
  }
}

int control(const command_line& c, const command_context& ctx) {
  const std::string action = c.command == "retry" ? "retry-failed" : c.command;
  const auto answer =
      ctx.client.send(socket_request{"POST", batch_path(c.operands[0]) + "/" + action, {}, {}, {}});
  if (!answer) {
    return report_failure(answer.error(), ctx);
  }
  if (exit_code_of(answer->status) != exit_ok) {
    return report_error_answer(*answer, ctx);
  }
  if (c.json) {
    ctx.out << answer->body;
    return exit_ok;
  }
  const auto v = parse_answer(*answer, ctx);
  if (!v) {
    return exit_usage;
  }
  const auto* message = v->is_object() ? v->get_object().if_contains("message") : nullptr;
  ctx.out << c.operands[0] << ": "
          << (message != nullptr && message->is_string() ? std::string(message->get_string())
                                                         : c.command + " done")
          << '\n';
  return exit_ok;
}

int submit(const command_line& c, const command_context& ctx) {
  const std::string& file = c.operands[0];
  auto contents = config::read_regular_file(file, max_manifest_bytes);
  if (!contents.value) {
    ctx.err << "unlinkctl submit: " << contents.error << '\n';
    return exit_usage;
  }
  socket_request request{"POST", std::string("/v1/batches") + (c.dry_run ? "?dry_run=true" : ""),
                         std::move(contents.value->bytes), "application/yaml",
                         std::filesystem::path(file).filename().string()};
  const auto answer = ctx.client.send(request);
  if (!answer) {
    return report_failure(answer.error(), ctx);
  }
  const int code = exit_code_of(answer->status);
  if (c.json) {
    ctx.out << answer->body;
    if (!answer->body.empty() && answer->body.back() != '\n') {
      ctx.out << '\n';
    }
    return code;
  }
  if (answer->status == 422) {
    boost::system::error_code ec;
    const auto v = json::parse(answer->body, ec);
    if (!ec) {
      ctx.err << format_problems(file, v);
      return exit_invalid_manifest;
    }
  }
  if (code != exit_ok) {
    return report_error_answer(*answer, ctx);
  }
  const auto v = parse_answer(*answer, ctx);
  if (!v) {
    return exit_usage;
  }
  const auto* o = v->if_object();
  const auto* batch = o == nullptr ? nullptr : o->if_contains("batch");
  const auto* id = o == nullptr ? nullptr : o->if_contains("id");
  ctx.out << file << ": accepted as batch "
          << (batch != nullptr && batch->is_string() ? std::string(batch->get_string()) : "?")
          << " (id " << (id != nullptr ? json::serialize(*id) : "?") << ")"
          << (c.dry_run ? ", dry run" : "") << '\n';
  return exit_ok;
}

// Writes `bytes` to `path` whole or not at all: a temp file in the same
// folder, mode 0640 whatever the umask, synced, then renamed over `path`.
// The error is a sentence.
std::optional<std::string> write_atomically(const std::string& path, const std::string& bytes) {
  const fs::path target(path);
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string temp = (folder / ("." + target.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    return "cannot create a file in " + folder.string() + ": " + std::strerror(errno);
  }
  const auto fail = [&](const std::string& what) {
    std::string why = what + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(temp.c_str());
    return why;
  };
  if (::fchmod(fd, 0640) != 0) {
    return fail("cannot set the mode of " + temp);
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return fail("cannot write " + temp);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    return fail("cannot sync " + temp);
  }
  if (::close(fd) != 0) {
    const std::string why = "cannot write " + temp + ": " + std::strerror(errno);
    ::unlink(temp.c_str());
    return why;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = "cannot rename " + temp + " to " + path + ": " + std::strerror(errno);
    ::unlink(temp.c_str());
    return why;
  }
  return std::nullopt;
}

int report(const command_line& c, const command_context& ctx) {
  const std::string& batch = c.operands[0];
  const auto answer = ctx.client.get(batch_path(batch) + "/report?format=" + c.format);
  if (!answer) {
    return report_failure(answer.error(), ctx);
  }
  if (exit_code_of(answer->status) != exit_ok) {
    return report_error_answer(*answer, ctx);
  }
  if (!c.output || *c.output == "-") {
    ctx.out << answer->body;
    return exit_ok;
  }
  if (auto error = write_atomically(*c.output, answer->body)) {
    ctx.err << "unlinkctl report: " << *error << '\n';
    return exit_usage;
  }
  ctx.out << batch << ": " << c.format << " report written to " << *c.output << " ("
          << answer->body.size() << " bytes)\n";
  return exit_ok;
}

// Prints the complete NDJSON lines of `pending` and keeps the incomplete
// last one; false when a line is not JSON.
bool print_event_lines(std::string& pending, const command_line& c, const command_context& ctx) {
  std::size_t start = 0;
  bool ok = true;
  for (auto end = pending.find('\n'); end != std::string::npos;
       start = end + 1, end = pending.find('\n', start)) {
    const std::string_view line(pending.data() + start, end - start);
    if (line.empty()) {
      continue;
    }
    if (c.json) {
      ctx.out << line << '\n';
      continue;
    }
    boost::system::error_code ec;
    const auto event = json::parse(line, ec);
    if (ec) {
      ctx.err << "unlinkctl: an event from unlinkd is not JSON: " << ec.message() << '\n';
      ok = false;
      continue;
    }
    ctx.out << format_event_line(event);
  }
  ctx.out << std::flush;
  pending.erase(0, start);
  return ok;
}

// The last event's seq in an NDJSON page (0 when there is none).
std::int64_t last_seq(const std::string& ndjson) {
  const auto end = ndjson.rfind('\n', ndjson.size() >= 2 ? ndjson.size() - 2 : 0);
  const std::string_view line(ndjson.data() + (end == std::string::npos ? 0 : end + 1),
                              ndjson.size() - (end == std::string::npos ? 0 : end + 1));
  boost::system::error_code ec;
  const auto event = json::parse(line, ec);
  const auto* seq = ec                  ? nullptr
                    : event.is_object() ? event.get_object().if_contains("seq")
                                        : nullptr;
  return seq != nullptr && seq->is_int64() ? seq->get_int64() : 0;
}

int events(const command_line& c, const command_context& ctx) {
  std::string pending;
  bool ok = true;
  if (c.follow) {
    const auto answer = ctx.client.stream(
        socket_request{"GET", "/v1/events?since=" + std::to_string(c.since), {}, {}, {}},
        [&](std::string_view data) {
          pending += data;
          ok = print_event_lines(pending, c, ctx) && ok;
        });
    if (!answer) {
      return report_failure(answer.error(), ctx);
    }
    if (exit_code_of(answer->status) != exit_ok) {
      return report_error_answer(*answer, ctx);
    }
    ctx.err << "unlinkctl: unlinkd ended the event stream (it is stopping)\n";
    return ok ? exit_ok : exit_usage;
  }
  // Page by page (the daemon gives at most max_page) until a short page.
  std::int64_t since = c.since;
  for (;;) {
    const auto answer = ctx.client.get("/v1/events?follow=false&limit=" + std::to_string(max_page) +
                                       "&since=" + std::to_string(since));
    if (!answer) {
      return report_failure(answer.error(), ctx);
    }
    if (exit_code_of(answer->status) != exit_ok) {
      return report_error_answer(*answer, ctx);
    }
    const auto lines =
        static_cast<std::size_t>(std::count(answer->body.begin(), answer->body.end(), '\n'));
    pending = answer->body;
    ok = print_event_lines(pending, c, ctx) && ok;
    const auto next = last_seq(answer->body);
    if (lines < max_page || next <= since) {
      return ok ? exit_ok : exit_usage;
    }
    since = next;
  }
}

}  // namespace

int run_daemon_command(const command_line& c, const command_context& ctx) {
  const std::string& name = c.command;
  if (name == "status") {
    return status(c, ctx);
  }
  if (name == "batches") {
    return show_one("/v1/batches", c, ctx, &format_batches_table);
  }
  if (name == "show") {
    return show_one(batch_path(c.operands[0]), c, ctx, &format_batch);
  }
  if (name == "accounts") {
    return accounts(c, ctx);
  }
  if (name == "history") {
    return show_one(batch_path(c.operands[0]) + "/accounts/" + c.operands[1], c, ctx,
                    &format_history);
  }
  if (name == "watch") {
    return watch(c, ctx);
  }
  if (name == "pause" || name == "resume" || name == "cancel" || name == "retry") {
    return control(c, ctx);
  }
  if (name == "submit") {
    return submit(c, ctx);
  }
  if (name == "report") {
    return report(c, ctx);
  }
  if (name == "events") {
    return events(c, ctx);
  }
  ctx.err << "unlinkctl: unknown command '" << name << "'; see unlinkctl --help\n";
  return exit_usage;
}

}  // namespace unlinkd::ctl
