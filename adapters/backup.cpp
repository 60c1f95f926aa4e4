#include "adapters/backup.hpp"

#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "adapters/backup_writer.hpp"
#include "adapters/json_fields.hpp"
#include "adapters/page_walker.hpp"
#include "adapters/report_windows.hpp"
#include "adapters/unlink_request.hpp"
#include "config/scalars.hpp"

namespace unlinkd::adapters {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr std::uint32_t entity_page_size = 1000;
constexpr std::uint32_t report_page_size = 1000;

// Runs blocking file work on `ex` (when given) and resumes on the caller's
// executor. Wrapped in optional because co_spawn wants a default value.
template <class F>
asio::awaitable<std::invoke_result_t<F&>> off_thread(const asio::any_io_executor& ex, F f) {
  using R = std::invoke_result_t<F&>;
  if (!ex) {
    co_return f();
  }
  auto done = co_await asio::co_spawn(
      ex, [&f]() -> asio::awaitable<std::optional<R>> { co_return std::optional<R>(f()); },
      asio::use_awaitable);
  co_return std::move(*done);
}

api_request account_get(std::string path, std::vector<std::pair<std::string, std::string>> q) {
  api_request r;
  r.path = std::move(path);
  r.query = std::move(q);
  r.scope = call_scope::account_level;
  return r;
}

std::string filter(const json::object& o) { return json::serialize(o); }

// One backup in progress: the writer, the client, and the running counts.
class backup_run {
 public:
  backup_run(api_client& client, const call_context& ctx, const backup_settings& settings,
             backup_writer& writer)
      : client_(client), ctx_(ctx), settings_(settings), writer_(writer) {}

  // Writes every item of every page of `requests` as one JSON line, page by
  // page, in the API's own text (walk_page_lines: no values built).
  asio::awaitable<api_result<void>> lines(const std::string& file,
                                          const std::vector<api_request>& requests,
                                          std::uint32_t page_size) {
    co_return co_await each_request(
        file, requests,
        [&](const api_request& request, std::uint64_t& items) -> asio::awaitable<api_result<void>> {
          const lines_sink sink = [&](std::string text,
                                      std::size_t n) -> asio::awaitable<api_result<void>> {
            items += n;
            co_return co_await file_work([&] { return writer_.append(text); });
          };
          co_return co_await walk_page_lines(client_, ctx_, request, page_size, sink, calls);
        });
  }

  // The same for the items `keep` keeps (the asset listing narrowed to one
  // asset), which are built as values to be looked at.
  template <class Keep>
  asio::awaitable<api_result<void>> kept_lines(const std::string& file,
                                               const std::vector<api_request>& requests,
                                               std::uint32_t page_size, Keep keep) {
    co_return co_await each_request(
        file, requests,
        [&](const api_request& request, std::uint64_t& items) -> asio::awaitable<api_result<void>> {
          const page_sink sink = [&](const json::value& data) -> asio::awaitable<api_result<void>> {
            std::string chunk;
            for (const auto& item : *list_of(data)) {
              if (keep(item)) {
                chunk += json::serialize(item);
                chunk += '\n';
                ++items;
              }
            }
            co_return co_await file_work([&] { return writer_.append(chunk); });
          };
          co_return co_await walk_pages(client_, ctx_, request, page_size, sink, calls);
        });
  }

  // Opens `file`, walks each request with `walk(request, items)` and closes
  // it, recording how many items it holds.
  template <class Walk>
  asio::awaitable<api_result<void>> each_request(const std::string& file,
                                                 const std::vector<api_request>& requests,
                                                 Walk walk) {
    if (auto o = co_await file_work([&] { return writer_.open_file(file); }); !o) {
      co_return o;
    }
    std::uint64_t items = 0;
    for (const auto& request : requests) {
      auto walked = co_await walk(request, items);
      if (!walked) {
        co_return walked;
      }
    }
    counts[file] = items;
    co_return co_await file_work([&] { return writer_.close_file(); });
  }

  asio::awaitable<api_result<void>> whole(const std::string& file, const std::string& text) {
    if (auto o = co_await file_work([&] { return writer_.open_file(file); }); !o) {
      co_return o;
    }
    if (auto w = co_await file_work([&] { return writer_.append(text); }); !w) {
      co_return w;
    }
    co_return co_await file_work([&] { return writer_.close_file(); });
  }

  template <class F>
  asio::awaitable<std::invoke_result_t<F&>> file_work(F f) {
    co_return co_await off_thread(settings_.file_executor, std::move(f));
  }

  std::uint32_t calls = 0;
  json::object counts;
  api_client& client_;
  const call_context& ctx_;
  const backup_settings& settings_;
  backup_writer& writer_;
};

struct entity_list {
  const char* file;
  const char* path;
  const char* all_status;
};
constexpr entity_list entity_lists[] = {
    {"campaigns.jsonl", "/campaign/get/", "CAMPAIGN_STATUS_ALL"},
    {"adgroups.jsonl", "/adgroup/get/", "ADGROUP_STATUS_ALL"},
    {"ads.jsonl", "/ad/get/", "AD_STATUS_ALL"}};

// The calls of an ad account's backup, built outside the coroutine (g++ 12
// mishandles initializer lists inside coroutine bodies).
struct advertiser_calls {
  api_request info;
  std::vector<api_request> entities;  // one per entity_lists item
  std::vector<api_request> reports;   // one per 30-day window
};

advertiser_calls advertiser_requests(const account_job& job) {
  const std::string& id = job.account.id;
  advertiser_calls c;
  c.info = account_get("/advertiser/info/",
                       {{"advertiser_ids", json::serialize(json::array{json::string(id)})}});
  // secondary_status *_ALL includes deleted items, which the default leaves out.
  for (const entity_list& e : entity_lists) {
    c.entities.push_back(account_get(
        e.path,
        {{"advertiser_id", id}, {"filtering", filter({{"secondary_status", e.all_status}})}}));
  }
  const std::string metrics =
      json::serialize(json::array{"spend", "impressions", "clicks", "conversion", "reach"});
  const std::string every_status = json::serialize(json::array{json::object{
      {"field_name", "ad_status"}, {"filter_type", "IN"}, {"filter_value", R"(["STATUS_ALL"])"}}});
  const std::string dimensions = json::serialize(json::array{"ad_id", "stat_time_day"});
  for (const auto& w :
       report_windows(job.account.backup.reports_since, job.account.backup.reports_until)) {
    c.reports.push_back(
        account_get("/report/integrated/get/", {{"advertiser_id", id},
                                                {"report_type", "BASIC"},
                                                {"data_level", "AUCTION_AD"},
                                                {"dimensions", dimensions},
                                                {"metrics", metrics},
                                                {"start_date", config::format_date(w.first)},
                                                {"end_date", config::format_date(w.last)},
                                                {"filtering", every_status}}));
  }
  return c;
}

struct tiktok_calls {
  api_request asset;
  api_request bindings;
};

tiktok_calls tiktok_requests(const account_job& job) {
  const std::string& id = job.account.id;
  tiktok_calls c;
  c.asset.path = "/bc/asset/admin/get/";
  c.asset.scope = call_scope::bc_level;
  c.asset.query = {{"bc_id", job.business_center_id},
                   {"asset_type", "TT_ACCOUNT"},
                   {"filtering", filter({{"keyword", id}})}};
  c.bindings.path = "/bc/asset/advertiser/assigned/";
  c.bindings.scope = call_scope::bc_level;
  c.bindings.query = {
      {"bc_id", job.business_center_id}, {"asset_id", id}, {"asset_type", "TT_ACCOUNT"}};
  return c;
}

asio::awaitable<api_result<void>> advertiser_files(backup_run& run, const account_job& job,
                                                   json::object& meta) {
  const advertiser_calls calls = advertiser_requests(job);
  auto reply = co_await counted_call(run.client_, run.ctx_, calls.info, run.calls);
  if (!reply) {
    co_return reply.error();
  }
  if (auto w = co_await run.whole("advertiser.json", json::serialize(reply->data) + "\n"); !w) {
    co_return w;
  }
  for (std::size_t i = 0; i < calls.entities.size(); ++i) {
    const std::vector<api_request> one(1, calls.entities[i]);
    if (auto w = co_await run.lines(entity_lists[i].file, one, entity_page_size); !w) {
      co_return w;
    }
  }
  meta["report_windows"] = calls.reports.size();
  meta["reports_since"] = config::format_date(job.account.backup.reports_since);
  meta["reports_until"] = config::format_date(job.account.backup.reports_until);
  co_return co_await run.lines("reports.jsonl", calls.reports, report_page_size);
}

asio::awaitable<api_result<void>> tiktok_files(backup_run& run, const account_job& job) {
  const tiktok_calls calls = tiktok_requests(job);
  const std::string id = job.account.id;
  auto same_asset = [id](const json::value& item) {
    const auto* o = item.if_object();
    return o != nullptr && id_field(*o, "asset_id") == id;
  };
  const std::vector<api_request> asset(1, calls.asset);
  if (auto w = co_await run.kept_lines("asset.jsonl", asset, bc_asset_page_size, same_asset); !w) {
    co_return w;
  }
  const std::vector<api_request> bindings(1, calls.bindings);
  co_return co_await run.lines("bindings.jsonl", bindings, bc_asset_page_size);
}

std::string utc_text(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto day = std::chrono::floor<std::chrono::days>(secs);
  const std::chrono::hh_mm_ss hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ",
                config::format_date(std::chrono::year_month_day{day}).c_str(),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

// backup.json: what this backup is of, for a person reading it years later.
json::object backup_meta(const account_job& job, std::chrono::system_clock::time_point created_at) {
  return json::object{{"batch", job.batch},
                      {"account_id", job.account.id},
                      {"account_type", std::string(config::to_string(job.account.type))},
                      {"business_center_id", job.business_center_id},
                      {"created_at", utc_text(created_at)}};
}

}  // namespace

asio::awaitable<api_result<backup_outcome>> run_backup(api_client& client, const call_context& ctx,
                                                       const account_job& job,
                                                       const std::vector<std::string>& campaigns,
                                                       const backup_settings& settings) {
  backup_outcome out;
  if (auto problem = job_problem(job); !problem.empty()) {
    // A copy, not a move: clang-analyzer misreads a move in a co_return.
    co_return own_error(error_class::permanent, problem);
  }
  const std::string& id = job.account.id;
  auto existing = co_await off_thread(
      settings.file_executor, [&] { return find_published_backup(settings.root, job.batch, id); });
  if (!existing) {
    co_return existing.error();
  }
  if (*existing) {
    // Published and verified by an earlier attempt: repeat at no API cost.
    const auto& b = **existing;
    out.folder = b.folder;
    out.digest = b.digest;
    out.bytes = b.bytes;
    out.files = b.files;
    co_return out;
  }
  auto started = co_await off_thread(settings.file_executor, [&] {
    return backup_writer::start(settings.root, job.batch, id, settings.min_free_bytes);
  });
  if (!started) {
    co_return started.error();
  }
  backup_writer& writer = *started;
  backup_run run(client, ctx, settings, writer);
  json::object meta = backup_meta(job, settings.created_at);
  json::array preflight_campaigns;
  for (const auto& c : campaigns) {
    preflight_campaigns.emplace_back(c);
  }
  meta["active_campaigns_at_preflight"] = std::move(preflight_campaigns);
  // Not a conditional expression: g++ 12 miscompiles co_await inside ?:.
  api_result<void> fetched;
  if (job.account.type == config::account_type::advertiser) {
    fetched = co_await advertiser_files(run, job, meta);
  } else {
    fetched = co_await tiktok_files(run, job);
  }
  out.api_calls = run.calls;
  if (!fetched) {
    co_return fetched.error();  // the writer's destructor removes the temporary folder
  }
  meta["items"] = run.counts;
  if (auto w = co_await run.whole("backup.json", json::serialize(meta) + "\n"); !w) {
    co_return w.error();
  }
  auto published = co_await off_thread(settings.file_executor, [&] { return writer.publish(); });
  if (!published) {
    co_return published.error();
  }
  out.folder = published->folder;
  out.digest = published->digest;
  out.bytes = published->bytes;
  out.files = published->files;
  co_return out;
}

}  // namespace unlinkd::adapters
