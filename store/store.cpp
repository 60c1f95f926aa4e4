#include "store/store.hpp"

#include <future>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/logger.h>

#include "store/group_writer.hpp"
#include "store/reader_thread.hpp"
#include "store/schema.hpp"
#include "store/sqlite_database.hpp"

namespace unlinkd::store {
namespace asio = boost::asio;

namespace {

// Queues `fn` for the writer thread and suspends the calling coroutine until
// the writer hands the result back through the coroutine's executor.
template <class R, class Fn>
awaitable<R> submit_write(group_writer& writer, std::atomic<std::size_t>& in_flight,
                          write_kind kind, Fn fn) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(
      [&writer, &in_flight, kind](auto handler, Fn f) {
        writer.push(make_write_job<R>(kind, std::move(f),
                                      completion<R>::to_handler(std::move(handler), in_flight)));
      },
      asio::use_awaitable, std::move(fn));
}

template <class R, class Fn>
awaitable<R> submit_read(reader_thread& reader, std::atomic<std::size_t>& in_flight, Fn fn) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(
      [&reader, &in_flight](auto handler, Fn f) {
        reader.push(make_read_job<R>(std::move(f),
                                     completion<R>::to_handler(std::move(handler), in_flight)));
      },
      asio::use_awaitable, std::move(fn));
}

store_result<std::string> query_text(sqlite::database& db, std::string_view sql) {
  auto s = db.prepare(sql);
  if (!s) {
    return s.error();
  }
  std::string out;
  int rc = s->step();
  for (; sqlite::is_row(rc); rc = s->step()) {
    if (!out.empty()) {
      out += '\n';
    }
    out += s->column_text(0);
  }
  if (!sqlite::is_done(rc)) {
    return store_error{store_errc::sql_error,
                       "'" + std::string(sql) + "' failed: " + db.error_message()};
  }
  return out;
}

}  // namespace

store::store(store_options options, spdlog::logger& log)
    : options_(std::move(options)), log_(&log) {}

store::~store() {
  writer_.reset();  // commits what is queued
  reader_.reset();
}

store_result<std::unique_ptr<store>> store::open(const std::string& path, store_options options,
                                                 spdlog::logger& log) {
  const auto busy_ms = static_cast<std::int64_t>(options.busy_timeout.count());
  auto wdb = sqlite::database::open(path, sqlite::database::mode::read_write_create);
  if (!wdb) {
    return wdb.error();
  }
  if (auto r = schema::configure(*wdb, busy_ms); !r) {
    return r.error();
  }
  if (auto mode = query_text(*wdb, "PRAGMA journal_mode"); !mode || *mode != "wal") {
    return store_error{
        store_errc::cannot_open,
        "the database '" + path + "' cannot use write-ahead logging (journal_mode is " +
            (mode ? *mode : mode.error().message) + "); put state_dir on a local filesystem"};
  }
  if (auto r = schema::migrate(*wdb); !r) {
    return r.error();
  }
  auto ws = write_session::prepare(std::move(*wdb), log);
  if (!ws) {
    return ws.error();
  }
  auto counts = ws->count_all();
  if (!counts) {
    return counts.error();
  }

  auto rdb = sqlite::database::open(path, sqlite::database::mode::read_write);
  if (!rdb) {
    return rdb.error();
  }
  if (auto r = schema::configure(*rdb, busy_ms); !r) {
    return r.error();
  }
  if (auto r = rdb->exec("PRAGMA query_only=ON"); !r) {
    return r.error();
  }
  auto rs = read_session::prepare(std::move(*rdb));
  if (!rs) {
    return rs.error();
  }

  std::unique_ptr<store> s(new store(std::move(options), log));
  std::size_t accounts = 0;
  for (const auto& [key, n] : *counts) {
    accounts += static_cast<std::size_t>(n);
  }
  s->counts_.reset(std::move(*counts));
  s->writer_ = std::make_unique<group_writer>(std::move(*ws), s->counts_, s->options_.clock,
                                              s->options_.max_group, s->options_.gather);
  s->reader_ = std::make_unique<reader_thread>(std::move(*rs));
  log.info("store: opened {} (schema version {}, {} accounts)", path, schema::latest_version,
           accounts);
  return s;
}

awaitable<store_result<ingest_outcome>> store::ingest(ingest_request request) {
  return submit_write<store_result<ingest_outcome>>(
      *writer_, in_flight_, write_kind::isolated,
      [r = std::move(request)](write_session& s, time_point now, write_effects& fx) {
        return s.ingest(r, now, fx);
      });
}

store_result<ingest_outcome> store::ingest_blocking(ingest_request request) {
  std::promise<store_result<ingest_outcome>> promise;
  auto future = promise.get_future();
  writer_->push(make_write_job<store_result<ingest_outcome>>(
      write_kind::isolated,
      [r = std::move(request)](write_session& s, time_point now, write_effects& fx) {
        return s.ingest(r, now, fx);
      },
      completion<store_result<ingest_outcome>>::to_promise(promise)));
  return future.get();
}

awaitable<store_result<commit_outcome>> store::commit(transition t) {
  return submit_write<store_result<commit_outcome>>(
      *writer_, in_flight_, write_kind::plain,
      [t = std::move(t)](write_session& s, time_point now, write_effects& fx) {
        return s.apply(t, now, fx);
      });
}

awaitable<store_result<commit_outcome>> store::commit(batch_transition t) {
  return submit_write<store_result<commit_outcome>>(
      *writer_, in_flight_, write_kind::plain,
      [t = std::move(t)](write_session& s, time_point now, write_effects&) {
        return s.apply(t, now);
      });
}

awaitable<store_result<void>> store::hold_credential(credential_hold hold) {
  return submit_write<store_result<void>>(
      *writer_, in_flight_, write_kind::plain,
      [h = std::move(hold)](write_session& s, time_point now, write_effects&) {
        return s.hold(h, now);
      });
}

awaitable<store_result<bool>> store::lift_credential_hold(std::string profile,
                                                          std::optional<std::uint32_t> uid) {
  return submit_write<store_result<bool>>(
      *writer_, in_flight_, write_kind::plain,
      [p = std::move(profile), uid](write_session& s, time_point now, write_effects&) {
        return s.lift_hold(p, uid, now);
      });
}

awaitable<store_result<std::int64_t>> store::append(audit_event event) {
  return submit_write<store_result<std::int64_t>>(
      *writer_, in_flight_, write_kind::plain,
      [e = std::move(event)](write_session& s, time_point now, write_effects&) {
        return s.append(e, now);
      });
}

awaitable<store_result<void>> store::record_reads(read_tally tally) {
  return submit_write<store_result<void>>(
      *writer_, in_flight_, write_kind::plain,
      [t = std::move(tally)](write_session& s, time_point now, write_effects&) {
        return s.tally(t, now);
      });
}

awaitable<store_result<std::int64_t>> store::prune_events() {
  return submit_write<store_result<std::int64_t>>(
      *writer_, in_flight_, write_kind::plain,
      [retention = options_.event_retention](write_session& s, time_point now,
                                             write_effects&) -> store_result<std::int64_t> {
        if (!retention) {
          return std::int64_t{0};
        }
        return s.prune_events(now - *retention);
      });
}

awaitable<store_result<std::vector<account_record>>> store::claim_ready(
    std::size_t limit, time_point now, std::optional<std::int64_t> batch_id) {
  return submit_write<store_result<std::vector<account_record>>>(
      *writer_, in_flight_, write_kind::after_commit,
      [limit, now, batch_id](write_session& s, time_point, write_effects&) {
        return s.claim(limit, now, batch_id);
      });
}

awaitable<store_result<void>> store::release(std::int64_t batch_id, std::string account_id) {
  return submit_write<store_result<void>>(
      *writer_, in_flight_, write_kind::after_commit,
      [ref = account_ref{batch_id, std::move(account_id)}](write_session& s, time_point,
                                                           write_effects&) -> store_result<void> {
        s.release(ref);
        return {};
      });
}

count_map store::counts() const { return counts_.snapshot(); }

count_map store::counts(std::int64_t batch_id) const { return counts_.snapshot(batch_id); }

awaitable<store_result<std::vector<event_record>>> store::events_after(std::int64_t after,
                                                                       std::size_t limit) {
  return submit_read<store_result<std::vector<event_record>>>(
      *reader_, in_flight_,
      [after, limit](read_session& s) { return s.events_after(after, limit); });
}

awaitable<store_result<std::vector<event_record>>> store::account_events(std::int64_t batch_id,
                                                                         std::string account_id) {
  return submit_read<store_result<std::vector<event_record>>>(
      *reader_, in_flight_, [batch_id, id = std::move(account_id)](read_session& s) {
        return s.account_events(batch_id, id);
      });
}

awaitable<store_result<std::optional<account_record>>> store::find_account(std::int64_t batch_id,
                                                                           std::string account_id) {
  return submit_read<store_result<std::optional<account_record>>>(
      *reader_, in_flight_, [batch_id, id = std::move(account_id)](read_session& s) {
        return s.find_account(batch_id, id);
      });
}

awaitable<store_result<std::vector<account_record>>> store::accounts(
    std::int64_t batch_id, std::optional<account_state> state, std::string after,
    std::size_t limit) {
  return submit_read<store_result<std::vector<account_record>>>(
      *reader_, in_flight_,
      [q = account_page_query{batch_id, state, std::move(after), limit}](read_session& s) {
        return s.accounts(q);
      });
}

awaitable<store_result<std::vector<batch_record>>> store::batches() {
  return submit_read<store_result<std::vector<batch_record>>>(
      *reader_, in_flight_, [](read_session& s) { return s.batches(); });
}

awaitable<store_result<std::vector<credential_hold>>> store::credential_holds() {
  return submit_read<store_result<std::vector<credential_hold>>>(
      *reader_, in_flight_, [](read_session& s) { return s.credential_holds(); });
}

std::size_t store::groups_committed() const { return writer_->groups_committed(); }

store_result<std::string> check_integrity(const std::string& path) {
  // read_write, never create: a missing file is an error, and a WAL left by a
  // killed daemon is recovered before the check.
  auto db = sqlite::database::open(path, sqlite::database::mode::read_write);
  if (!db) {
    return db.error();
  }
  return query_text(*db, "PRAGMA integrity_check");
}

}  // namespace unlinkd::store
