#include "scheduler/budget_gate.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

namespace unlinkd::scheduler {

namespace asio = boost::asio;

struct budget_gate::waiter {
  waiter(const asio::any_io_executor& executor, std::string ep, clock::time_point give_up_at)
      : endpoint(std::move(ep)), wake(executor, give_up_at) {}
  std::string endpoint;
  timer wake;  // expires at the caller's deadline; the dispatcher moves it to the past
  bool granted = false;
  bool abandoned = false;  // the caller stopped waiting (cancelled, or gone)
};

struct budget_gate::app_state {
  app_state(const asio::any_io_executor& executor, const bucket_tuning& tuning)
      : bucket(config::rate_limits{}, tuning), dispatcher_timer(executor) {}
  app_bucket bucket;
  std::map<std::string, std::deque<std::shared_ptr<waiter>>> queues;  // by batch
  std::string last_batch;  // the round-robin cursor: served last
  timer dispatcher_timer;  // the dispatcher sleeps on it; cancelled to recompute
  bool dispatching = false;
  std::uint64_t waiting = 0;
  std::uint64_t waited = 0;
  clock::duration wait_time{};
};

budget_gate::budget_gate(asio::any_io_executor executor, bucket_tuning tuning)
    : executor_(std::move(executor)), tuning_(tuning) {}

budget_gate::~budget_gate() { *alive_ = false; }

budget_gate::app_state& budget_gate::app(const std::string& app_id) {
  auto& slot = apps_[app_id];
  if (!slot) {
    slot = std::make_unique<app_state>(executor_, tuning_);
  }
  return *slot;
}

void budget_gate::set_limits(const std::string& app_id, config::rate_limits limits) {
  app_state& a = app(app_id);
  a.bucket.set_limits(limits);
  a.dispatcher_timer.cancel();  // a higher limit may free a slot now
}

void budget_gate::wake(waiter& w) {
  w.granted = true;
  // In the past rather than cancel(): a caller that has not begun waiting
  // yet then finds its wait complete at once.
  w.wake.expires_at(clock::time_point::min());
}

bool budget_gate::try_acquire(const adapters::gate_key& key) {
  app_state& a = app(key.app_id);
  const auto now = clock::now();
  const auto utc = clock::utc_now();
  // Nobody queued and a slot free: go at once, without a timer.
  if (a.waiting == 0 && a.bucket.next_slot(key.endpoint, now, utc) <= now) {
    a.bucket.take(key.endpoint, now, utc);
    return true;
  }
  return false;
}

asio::awaitable<void> budget_gate::acquire(const adapters::gate_key& key) {
  co_await acquire_until(key, std::chrono::steady_clock::time_point::max());
}

asio::awaitable<bool> budget_gate::acquire_until(const adapters::gate_key& key,
                                                 std::chrono::steady_clock::time_point deadline) {
  if (try_acquire(key)) {
    co_return true;
  }
  app_state& a = app(key.app_id);
  const auto queued_at = clock::now();
  // The caller's deadline on this gate's clock (virtual in tests).
  const auto left = deadline - std::chrono::steady_clock::now();
  const auto give_up_at = deadline == std::chrono::steady_clock::time_point::max()
                              ? clock::time_point::max()
                              : queued_at + std::chrono::duration_cast<clock::duration>(left);
  auto w = std::make_shared<waiter>(executor_, key.endpoint, give_up_at);
  a.queues[key.batch].push_back(w);
  ++a.waiting;
  ++a.waited;
  if (!a.dispatching) {
    a.dispatching = true;
    asio::co_spawn(executor_, dispatch(key.app_id), [](const std::exception_ptr& e) {
      if (e) {
        std::rethrow_exception(e);  // a broken invariant: let the process restart
      }
    });
  } else {
    a.dispatcher_timer.cancel();
  }
  // Marks the waiter abandoned if this frame goes away before the grant.
  struct abandon_guard {
    explicit abandon_guard(waiter& waiting) : w(waiting) {}
    waiter& w;
    abandon_guard(const abandon_guard&) = delete;
    abandon_guard& operator=(const abandon_guard&) = delete;
    ~abandon_guard() {
      if (!w.granted) {
        w.abandoned = true;
      }
    }
  } guard{*w};
  const auto alive = alive_;
  while (!w->granted) {
    co_await w->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    if (w->granted) {
      break;
    }
    if (clock::now() >= give_up_at) {
      if (*alive) {
        a.wait_time += clock::now() - queued_at;
      }
      co_return false;  // abandoned (the guard marks it): the dispatcher skips it
    }
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) {
      if (*alive) {
        a.wait_time += clock::now() - queued_at;
      }
      throw boost::system::system_error(asio::error::operation_aborted, "rate gate wait cancelled");
    }
  }
  if (*alive) {
    a.wait_time += clock::now() - queued_at;
  }
  co_return true;
}

void budget_gate::report(const adapters::gate_key& key, adapters::gate_answer answer,
                         std::int64_t /*code*/) {
  app_state& a = app(key.app_id);
  a.bucket.on_answer(answer, clock::now(), clock::utc_now());
  a.dispatcher_timer.cancel();  // a probe's answer may open the gate
}

asio::awaitable<void> budget_gate::dispatch(std::string app_id) {
  const auto alive = alive_;
  app_state& a = *apps_.at(app_id);
  // `alive` first: after the gate is destroyed `a` must not be touched.
  while (*alive && a.waiting > 0) {
    const auto now = clock::now();
    const auto utc = clock::utc_now();
    auto earliest = clock::time_point::max();
    bool granted = false;
    auto it = a.queues.upper_bound(a.last_batch);
    for (std::size_t i = 0; i < a.queues.size() && !granted; ++i, ++it) {
      if (it == a.queues.end()) {
        it = a.queues.begin();
      }
      auto& [batch, queue] = *it;
      while (!queue.empty() && queue.front()->abandoned) {
        queue.pop_front();
        --a.waiting;
      }
      if (queue.empty()) {
        continue;
      }
      const auto slot = a.bucket.next_slot(queue.front()->endpoint, now, utc);
      if (slot <= now) {
        const auto w = queue.front();
        queue.pop_front();
        --a.waiting;
        a.bucket.take(w->endpoint, now, utc);
        wake(*w);
        a.last_batch = batch;
        granted = true;
      } else {
        earliest = std::min(earliest, slot);
      }
    }
    std::erase_if(a.queues, [](const auto& q) { return q.second.empty(); });
    if (granted || a.waiting == 0) {
      continue;
    }
    a.dispatcher_timer.expires_at(earliest);
    co_await a.dispatcher_timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (*alive) {
    a.dispatching = false;
  }
}

std::map<std::string, budget_gate::app_stats> budget_gate::stats() const {
  std::map<std::string, app_stats> out;
  for (const auto& [id, a] : apps_) {
    out.emplace(
        id, app_stats{a->bucket.stats(), a->waiting, a->waited, a->wait_time, a->bucket.limits()});
  }
  return out;
}

}  // namespace unlinkd::scheduler
