#include "scheduler/engine.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace unlinkd::scheduler {

namespace asio = boost::asio;
using store::account_state;
using store::batch_state;
using store::pipeline_step;

struct engine::batch_slot {
  store::batch_record record;
  batch_policy policy;
  std::optional<adapters::call_context> context;  // none: the profile is unknown
  std::uint32_t in_flight = 0;
  std::uint32_t finished = 0;  // of the circuit breaker's sample
  std::uint32_t failed = 0;
  bool tripped = false;
};

namespace {

// The credential's budget, for a dry run's time estimate.
void take_budget(batch_policy& p, const std::optional<adapters::call_context>& ctx) {
  const bool known = ctx && ctx->credential != nullptr;
  p.budget_qps = known ? ctx->credential->limits.qps : 0;
  p.budget_qpm = known ? ctx->credential->limits.qpm : 0;
}

template <class T>
T must(store::store_result<T> r, const char* what) {
  if (!r) {
    // The store could not commit or read: stop; systemd restarts us on
    // the durable state.
    throw std::runtime_error(std::string("store: ") + what + ": " + r.error().message);
  }
  return std::move(*r);
}

void must(const store::store_result<void>& r, const char* what) {
  if (!r) {
    throw std::runtime_error(std::string("store: ") + what + ": " + r.error().message);
  }
}

void rethrow(const std::exception_ptr& e) {
  if (e) {
    std::rethrow_exception(e);
  }
}

std::string counts_text(const store::count_map& counts) {
  std::map<account_state, std::int64_t> by_state;
  for (const auto& [key, n] : counts) {
    by_state[key.state] += n;
  }
  std::string out;
  for (const auto& [state, n] : by_state) {
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(to_string(state));
  }
  return out;
}

}  // namespace

void duration_histogram::observe(clock::duration d) {
  const double seconds = std::chrono::duration<double>(d).count();
  const auto* bound =
      std::lower_bound(step_duration_bounds.begin(), step_duration_bounds.end(), seconds);
  ++buckets.at(static_cast<std::size_t>(bound - step_duration_bounds.begin()));
  sum_seconds += seconds;
  ++count;
}

engine::engine(asio::any_io_executor executor, store::store& store, adapters::platform& platform,
               context_source contexts, engine_options options, spdlog::logger& log)
    : executor_(std::move(executor)),
      store_(store),
      platform_(platform),
      contexts_(std::move(contexts)),
      options_(std::move(options)),
      log_(log),
      wake_(executor_),
      random_(options_.seed != 0 ? options_.seed : std::random_device{}()) {}

engine::~engine() { *alive_ = false; }

void engine::stop() {
  stopping_ = true;
  wake_.cancel();
}

void engine::poke() {
  batches_dirty_ = true;
  wake_.cancel();
}

void engine::reload_contexts() {
  for (auto& [id, b] : batches_) {
    b->context = contexts_(b->record);
    take_budget(b->policy, b->context);
  }
  poke();
}

double engine::jitter() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }

engine::batch_slot* engine::find(std::int64_t batch_id) {
  const auto it = batches_.find(batch_id);
  return it == batches_.end() ? nullptr : it->second.get();
}

engine::batch_slot* engine::find(const std::string& name) {
  for (auto& [id, b] : batches_) {
    if (b->record.name == name) {
      return b.get();
    }
  }
  return nullptr;
}

bool engine::runs(const batch_slot& b) const {
  return b.record.state == batch_state::running && !stopping_;
}

asio::awaitable<void> engine::refresh_batches() {
  batches_dirty_ = false;
  auto records = must(co_await store_.batches(), "cannot list batches");
  for (auto& record : records) {
    auto& slot = batches_[record.id];
    if (!slot) {
      slot = std::make_unique<batch_slot>();
      auto& p = slot->policy;
      p.batch_id = record.id;
      p.name = record.name;
      p.credentials = record.credentials;
      p.business_center_id = record.business_center_id;
      p.action = record.action;
      p.dry_run = record.dry_run;
      p.concurrency =
          std::min(record.concurrency.value_or(options_.concurrency), options_.concurrency);
      p.max_attempts = record.retry.max_attempts.value_or(options_.max_attempts);
      p.initial_backoff = record.retry.initial_backoff.value_or(options_.initial_backoff);
      p.max_backoff = record.retry.max_backoff.value_or(options_.max_backoff);
      slot->context = contexts_(record);
      take_budget(p, slot->context);
      // The circuit breaker's sample, from what finished before a restart.
      std::int64_t done = 0;
      std::int64_t failed = 0;
      for (const auto& [key, n] : store_.counts(record.id)) {
        done += key.state == account_state::done ? n : 0;
        failed += key.state == account_state::failed ? n : 0;
      }
      slot->finished = static_cast<std::uint32_t>(
          std::min<std::int64_t>(done + failed, options_.breaker_sample));
      slot->failed =
          done + failed <= options_.breaker_sample ? static_cast<std::uint32_t>(failed) : 0;
    }
    slot->record = std::move(record);
  }
  held_profiles_.clear();
  for (const auto& h : must(co_await store_.credential_holds(), "cannot read credential holds")) {
    held_profiles_.insert(h.profile);
  }
  // Start the queued batches.
  for (auto& [id, b] : batches_) {
    if (b->record.state != batch_state::queued || stopping_) {
      continue;
    }
    store::batch_transition t;
    t.batch_id = id;
    t.expected = batch_state::queued;
    t.to = batch_state::running;
    t.event = {"batch_started",
               b->policy.dry_run ? "dry run: preflight only, then the plan" : "started",
               std::nullopt};
    if (must(co_await store_.commit(t), "cannot start a batch") == store::commit_outcome::applied) {
      b->record.state = batch_state::running;
      log_.info("batch {}: started ({} accounts in flight at most)", b->record.name,
                b->policy.concurrency);
    }
  }
}

asio::awaitable<void> engine::run() {
  co_await refresh_batches();
  while (!stopping_) {
    ++stats_.loop_turns;
    if (batches_dirty_) {
      co_await refresh_batches();
    }
    // Round-robin over the running batches, starting after the one served last.
    std::vector<std::int64_t> order;
    for (const auto& [id, b] : batches_) {
      if (runs(*b)) {
        order.push_back(id);
      }
    }
    std::rotate(order.begin(), std::upper_bound(order.begin(), order.end(), last_served_),
                order.end());
    std::size_t claimed = 0;
    for (const auto id : order) {
      const auto free =
          options_.concurrency - std::min<std::uint64_t>(stats_.in_flight, options_.concurrency);
      if (free == 0) {
        break;
      }
      batch_slot& b = *batches_.at(id);
      const std::size_t batch_free =
          b.policy.concurrency - std::min(b.in_flight, b.policy.concurrency);
      const std::size_t limit =
          std::min({static_cast<std::size_t>(free), batch_free, options_.page_size});
      if (limit == 0) {
        continue;
      }
      claimed += co_await claim_for(b, limit);
      last_served_ = id;
    }
    co_await finish_batches();
    if (claimed == 0 && !stopping_ && !batches_dirty_) {
      wake_.expires_after(options_.idle_poll);
      co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  // Drain: the steps in flight finish and commit.
  while (stats_.in_flight > 0) {
    wake_.expires_after(options_.idle_poll);
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<std::size_t> engine::claim_for(batch_slot& b, std::size_t limit) {
  auto page = must(co_await store_.claim_ready(limit, clock::utc_now(), b.record.id),
                   "cannot claim ready accounts");
  for (auto& a : page) {
    ++b.in_flight;
    ++stats_.in_flight;
    asio::co_spawn(executor_, run_account(std::move(a)), rethrow);
  }
  co_return page.size();
}

asio::awaitable<bool> engine::commit(store::account_record& a, store::transition t) {
  const auto outcome = must(co_await store_.commit(t), "cannot commit a transition");
  ++stats_.commits;
  if (outcome == store::commit_outcome::stale) {
    // Someone changed the account meanwhile (a cancel): leave it be.
    ++stats_.stale_commits;
    must(co_await store_.release(a.batch_id, a.settings.id), "cannot release an account");
    co_return false;
  }
  apply(a, t);
  co_return true;
}

asio::awaitable<void> engine::run_account(store::account_record a) {
  batch_slot& b = *find(a.batch_id);
  const auto alive = alive_;
  // Whatever way this coroutine ends, the slot frees and the loop looks again.
  struct slot_guard {
    slot_guard(engine& e, batch_slot& s, std::shared_ptr<bool> live)
        : owner(e), slot(s), alive(std::move(live)) {}
    slot_guard(const slot_guard&) = delete;
    slot_guard& operator=(const slot_guard&) = delete;
    ~slot_guard() {
      if (*alive) {
        --slot.in_flight;
        --owner.stats_.in_flight;
        owner.wake_.cancel();
      }
    }
    engine& owner;
    batch_slot& slot;
    std::shared_ptr<bool> alive;
  } guard(*this, b, alive);

  bool resend = false;
  std::vector<std::string> still_listed;  // what the verify before a resend read
  for (;;) {
    if (!runs(b)) {
      must(co_await store_.release(a.batch_id, a.settings.id), "cannot release an account");
      co_return;
    }
    if (!b.context || held_profiles_.contains(b.policy.credentials)) {
      // Named, not a temporary in the co_await: g++ 12 mishandles those.
      std::string why = !b.context
                            ? "the credentials file has no profile '" + b.policy.credentials + "'"
                            : "the credential of profile '" + b.policy.credentials + "' is held";
      co_await to_needs_attention(std::move(a), std::move(why));
      co_return;
    }
    const auto now = clock::utc_now();
    if (a.state == account_state::pending &&
        !co_await commit(a, enter_step(a, pipeline_step::preflight, now))) {
      co_return;
    }
    const pipeline_step step = step_to_run(a);
    if (step == pipeline_step::unlink && !resend) {
      unlink_start start = begin_unlink(a, now);
      const bool release = start.transition.release_claim;
      if (!co_await commit(a, std::move(start.transition))) {
        co_return;
      }
      if (!start.send) {
        if (store::is_terminal(a.state)) {
          count_finished(b, a.state);
          co_return;
        }
        if (release) {
          co_return;
        }
        continue;  // to verify
      }
    }
    const auto started = clock::now();
    std::optional<std::vector<std::string>> resend_only;
    if (resend) {
      resend_only = std::move(still_listed);
    }
    const step_report report = co_await run_step(b, a, step, std::move(resend_only));
    ++stats_.steps_run;
    const auto index = static_cast<std::size_t>(step);
    stats_.step_durations.at(index).observe(clock::now() - started);
    decision d = decide(a, b.policy, report, clock::utc_now(), jitter());
    if (report.error && d.transition.event.kind == "retry") {
      ++stats_.retries.at(index);
    }
    if (d.hold_reason) {
      co_await hold(b, *d.hold_reason);
    }
    const bool release = d.transition.release_claim;
    resend = d.resend_unlink;
    still_listed = report.still_listed;
    if (!co_await commit(a, std::move(d.transition))) {
      co_return;
    }
    if (store::is_terminal(a.state)) {
      count_finished(b, a.state);
      co_return;
    }
    if (release && !resend) {
      co_return;
    }
  }
}

asio::awaitable<step_report> engine::run_step(batch_slot& b, const store::account_record& a,
                                              pipeline_step step,
                                              std::optional<std::vector<std::string>> resend_only) {
  adapters::call_context ctx = *b.context;
  ctx.batch = b.policy.name;
  ctx.dry_run = b.policy.dry_run;
  ctx.deadline = std::chrono::steady_clock::now() + options_.step_timeout;
  std::uint32_t calls_sent = 0;  // in the coroutine frame: alive across every co_await below
  ctx.calls_sent = &calls_sent;
  const adapters::account_job job{b.policy.name, b.policy.business_center_id, a.settings,
                                  std::move(resend_only)};
  step_report r;
  r.step = step;
  switch (step) {
    case pipeline_step::preflight: {
      auto res = co_await platform_.preflight(ctx, job);
      if (!res) {
        r.error = res.error();
      } else {
        r.found = res->found;
        r.active_campaigns = std::move(res->active_campaign_ids);
        r.api_calls = res->api_calls;
      }
      break;
    }
    case pipeline_step::backup: {
      auto res = co_await platform_.backup(ctx, job, a.campaigns_to_pause);
      if (!res) {
        r.error = res.error();
      } else {
        r.backup_folder = res->folder.string();
        r.backup_digest = res->digest;
        r.api_calls = res->api_calls;
      }
      break;
    }
    case pipeline_step::pause: {
      // After a crash mid-pause, only what is not recorded as paused yet.
      std::vector<std::string> remaining;
      for (const auto& id : a.campaigns_to_pause) {
        if (std::find(a.campaigns_paused.begin(), a.campaigns_paused.end(), id) ==
            a.campaigns_paused.end()) {
          remaining.push_back(id);
        }
      }
      auto res = co_await platform_.pause_campaigns(ctx, job, remaining);
      if (!res) {
        r.error = res.error();
      } else {
        r.paused = a.campaigns_paused;
        r.paused.insert(r.paused.end(), res->paused_campaign_ids.begin(),
                        res->paused_campaign_ids.end());
        r.api_calls = res->api_calls;
      }
      break;
    }
    case pipeline_step::unlink: {
      auto res = co_await platform_.unlink(ctx, job);
      if (!res) {
        r.error = res.error();
      } else {
        r.api_calls = res->api_calls;
      }
      break;
    }
    case pipeline_step::verify: {
      auto res = co_await platform_.verify(ctx, job);
      if (!res) {
        r.error = res.error();
      } else {
        r.found = res->found;
        r.still_listed = std::move(res->still_listed);
        r.api_calls = res->api_calls;
      }
      break;
    }
  }
  // The fake platform reports counts without sending; the real one counts both.
  r.api_calls = std::max(r.api_calls, calls_sent);
  co_return r;
}

asio::awaitable<void> engine::hold(batch_slot& b, const std::string& reason) {
  const std::string& profile = b.policy.credentials;
  if (held_profiles_.contains(profile)) {
    co_return;  // told once
  }
  held_profiles_.insert(profile);
  const store::credential_hold h{profile, reason, std::nullopt};
  must(co_await store_.hold_credential(h), "cannot hold a credential");
  log_.warn("batch {}: needs attention: {}", b.record.name, reason);
}

asio::awaitable<void> engine::to_needs_attention(store::account_record a, std::string why) {
  store::transition t;
  t.batch_id = a.batch_id;
  t.account_id = a.settings.id;
  t.expected = a.state;
  t.to = account_state::needs_attention;
  t.step = step_to_run(a);
  t.event = {"needs_attention", std::move(why), std::nullopt};
  co_await commit(a, std::move(t));
}

void engine::count_finished(batch_slot& b, account_state s) const {
  if (s == account_state::cancelled || b.finished >= options_.breaker_sample) {
    return;
  }
  ++b.finished;
  b.failed += s == account_state::failed ? 1 : 0;
  if (static_cast<double>(b.failed) >
      options_.breaker_ratio * static_cast<double>(options_.breaker_sample)) {
    b.tripped = true;
  }
}

asio::awaitable<void> engine::finish_batches() {
  for (auto& [id, b] : batches_) {
    if (b->tripped && b->record.state == batch_state::running) {
      b->tripped = false;
      b->finished = options_.breaker_sample;  // trips once
      const std::string reason =
          "circuit breaker: " + std::to_string(b->failed) + " of the first " +
          std::to_string(options_.breaker_sample) +
          " finished accounts failed; look at their errors, then resume or cancel the batch";
      store::batch_transition t;
      t.batch_id = id;
      t.expected = batch_state::running;
      t.to = batch_state::paused;
      t.reason = reason;
      t.event = {"batch_paused", reason, std::nullopt};
      if (must(co_await store_.commit(t), "cannot pause a batch") ==
          store::commit_outcome::applied) {
        b->record.state = batch_state::paused;
        b->record.state_reason = reason;
        log_.warn("batch {}: paused: {}", b->record.name, reason);
      }
      continue;
    }
    if (b->record.state == batch_state::cancelling && b->in_flight == 0) {
      co_await cancel_accounts(*b);
      store::batch_transition t;
      t.batch_id = id;
      t.expected = batch_state::cancelling;
      t.to = batch_state::cancelled;
      t.event = {"batch_cancelled", counts_text(store_.counts(id)), std::nullopt};
      if (must(co_await store_.commit(t), "cannot cancel a batch") ==
          store::commit_outcome::applied) {
        b->record.state = batch_state::cancelled;
        log_.info("batch {}: cancelled", b->record.name);
        if (options_.on_batch_ended) {
          options_.on_batch_ended(id);
        }
      }
      continue;
    }
    if (b->record.state != batch_state::running || b->in_flight > 0) {
      continue;
    }
    const auto counts = store_.counts(id);
    const bool all_ended = std::all_of(counts.begin(), counts.end(), [](const auto& kv) {
      return store::is_terminal(kv.first.state);
    });
    if (!all_ended) {
      continue;
    }
    store::batch_transition t;
    t.batch_id = id;
    t.expected = batch_state::running;
    t.to = batch_state::completed;
    t.event = {"batch_completed", counts_text(counts), std::nullopt};
    if (must(co_await store_.commit(t), "cannot complete a batch") ==
        store::commit_outcome::applied) {
      b->record.state = batch_state::completed;
      log_.info("batch {}: completed: {}", b->record.name, counts_text(counts));
      if (options_.on_batch_ended) {
        options_.on_batch_ended(id);
      }
    }
  }
}

asio::awaitable<void> engine::cancel_accounts(batch_slot& b) {
  for (const auto state : store::all_account_states) {
    if (store::is_terminal(state)) {
      continue;
    }
    for (;;) {
      const std::string from_start;
      auto page = must(co_await store_.accounts(b.record.id, state, from_start, 500),
                       "cannot list accounts to cancel");
      if (page.empty()) {
        break;
      }
      for (auto& a : page) {
        store::transition t;
        t.batch_id = a.batch_id;
        t.account_id = a.settings.id;
        t.expected = a.state;
        t.to = account_state::cancelled;
        t.step = a.step;
        t.event = {"cancelled", "the batch was cancelled", std::nullopt};
        co_await commit(a, std::move(t));
      }
    }
  }
}

asio::awaitable<control_result> engine::batch_change(const std::string& batch, batch_state to,
                                                     std::optional<std::uint32_t> uid,
                                                     std::string what) {
  if (batches_dirty_) {
    co_await refresh_batches();
  }
  batch_slot* b = find(batch);
  if (b == nullptr) {
    co_return control_result{control_status::not_found, "no batch named '" + batch + "'"};
  }
  store::batch_transition t;
  t.batch_id = b->record.id;
  t.expected = b->record.state;
  t.to = to;
  t.reason = what;
  t.event = {"batch_" + std::string(to_string(to)), what, uid};
  if (must(co_await store_.commit(t), "cannot change a batch") != store::commit_outcome::applied) {
    co_return control_result{control_status::conflict,
                             "batch '" + batch + "' changed meanwhile; try again"};
  }
  b->record.state = to;
  b->record.state_reason = what;
  wake_.cancel();
  co_return control_result{control_status::done,
                           "batch '" + batch + "' is " + std::string(to_string(to))};
}

asio::awaitable<control_result> engine::pause(std::string batch, std::optional<std::uint32_t> uid) {
  const batch_slot* b = find(batch);
  if (b != nullptr && b->record.state != batch_state::running &&
      b->record.state != batch_state::queued) {
    co_return control_result{control_status::conflict,
                             "batch '" + batch + "' is " + std::string(to_string(b->record.state)) +
                                 "; only a queued or running batch can be paused"};
  }
  std::string what = "paused by an operator";
  co_return co_await batch_change(batch, batch_state::paused, uid, std::move(what));
}

asio::awaitable<control_result> engine::cancel(std::string batch,
                                               std::optional<std::uint32_t> uid) {
  const batch_slot* b = find(batch);
  if (b != nullptr &&
      (store::is_finished(b->record.state) || b->record.state == batch_state::cancelling)) {
    co_return control_result{control_status::conflict, "batch '" + batch + "' is already " +
                                                           std::string(to_string(b->record.state))};
  }
  std::string what = "cancelled by an operator: steps in flight finish, nothing new starts";
  co_return co_await batch_change(batch, batch_state::cancelling, uid, std::move(what));
}

asio::awaitable<control_result> engine::resume(std::string batch,
                                               std::optional<std::uint32_t> uid) {
  if (batches_dirty_) {
    co_await refresh_batches();
  }
  batch_slot* b = find(batch);
  if (b == nullptr) {
    co_return control_result{control_status::not_found, "no batch named '" + batch + "'"};
  }
  bool changed = false;
  // A held credential: lift it, and every account waiting on it goes back
  // to the step it waits at.
  const std::string profile = b->policy.credentials;
  if (held_profiles_.contains(profile)) {
    must(co_await store_.lift_credential_hold(profile, uid), "cannot lift a credential hold");
    held_profiles_.erase(profile);
    changed = true;
  }
  for (auto& [id, other] : batches_) {
    if (other->policy.credentials != profile && other.get() != b) {
      continue;
    }
    other->context = contexts_(other->record);  // the profile may be fixed now
    for (;;) {
      const std::string from_start;
      auto page =
          must(co_await store_.accounts(id, account_state::needs_attention, from_start, 500),
               "cannot list accounts waiting for a person");
      if (page.empty()) {
        break;
      }
      for (auto& a : page) {
        store::transition t = enter_step(a, a.step, clock::utc_now());
        t.release_claim = true;
        t.event = {"resumed", "resumed by an operator", uid};
        co_await commit(a, std::move(t));
        changed = true;
      }
    }
  }
  if (b->record.state == batch_state::paused) {
    std::string what = "resumed by an operator";
    co_return co_await batch_change(batch, batch_state::running, uid, std::move(what));
  }
  wake_.cancel();
  if (!changed) {
    co_return control_result{control_status::conflict,
                             "batch '" + batch + "' is " + std::string(to_string(b->record.state)) +
                                 " and nothing in it waits for a person; nothing to resume"};
  }
  co_return control_result{control_status::done, "batch '" + batch + "' resumed"};
}

asio::awaitable<control_result> engine::retry_failed(std::string batch,
                                                     std::optional<std::uint32_t> uid) {
  if (batches_dirty_) {
    co_await refresh_batches();
  }
  batch_slot* b = find(batch);
  if (b == nullptr) {
    co_return control_result{control_status::not_found, "no batch named '" + batch + "'"};
  }
  if (b->record.state == batch_state::cancelling || b->record.state == batch_state::cancelled) {
    co_return control_result{control_status::conflict, "batch '" + batch + "' is " +
                                                           std::string(to_string(b->record.state)) +
                                                           "; nothing to retry"};
  }
  std::size_t retried = 0;
  std::string after;
  for (;;) {
    auto page = must(co_await store_.accounts(b->record.id, account_state::failed, after, 500),
                     "cannot list failed accounts");
    if (page.empty()) {
      break;
    }
    after = page.back().settings.id;
    for (auto& a : page) {
      store::transition t = enter_step(a, a.step, clock::utc_now());
      t.release_claim = true;
      t.event = {"retry", "retry-failed by an operator: attempts reset", uid};
      if (co_await commit(a, std::move(t))) {
        ++retried;
      }
    }
  }
  b->finished = options_.breaker_sample;  // the breaker has had its say
  if (b->record.state == batch_state::completed) {
    std::string what = "retry-failed by an operator";
    co_await batch_change(batch, batch_state::running, uid, std::move(what));
  }
  wake_.cancel();
  co_return control_result{
      control_status::done,
      std::to_string(retried) + " failed accounts of batch '" + batch + "' will run again"};
}

}  // namespace unlinkd::scheduler
