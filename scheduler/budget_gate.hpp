#pragma once
// The daemon's rate gate (PRODUCT.md §5): every API call of every account
// awaits it. Per app_id an app_bucket decides when the next call may go;
// callers wait in one queue per batch, and the queues are served round-robin,
// so a batch of 50,000 accounts cannot starve one of 5 on the same app.
//
// One coroutine per app with waiters (the dispatcher) hands out the slots:
// it grants the first eligible head of queue in round-robin order after the
// batch served last, or sleeps until the earliest slot, or until report()
// says something that changes the answer (a probe's result). All on one
// io_context thread: no locks.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "adapters/rate_gate.hpp"
#include "config/credentials.hpp"
#include "scheduler/app_bucket.hpp"
#include "scheduler/clock.hpp"

namespace unlinkd::scheduler {

class budget_gate final : public adapters::rate_gate {
 public:
  explicit budget_gate(boost::asio::any_io_executor executor, bucket_tuning tuning = {});
  budget_gate(const budget_gate&) = delete;
  budget_gate& operator=(const budget_gate&) = delete;
  ~budget_gate() override;

  // The budget of an app (from the credentials file); an app never set gets
  // the Basic tier. Callable at any time (a reload): windows are kept.
  void set_limits(const std::string& app_id, config::rate_limits limits);

  boost::asio::awaitable<void> acquire(const adapters::gate_key& key) override;
  bool try_acquire(const adapters::gate_key& key) override;
  // The waiter's own timer is set to the deadline: no second timer, no race.
  boost::asio::awaitable<bool> acquire_until(
      const adapters::gate_key& key, std::chrono::steady_clock::time_point deadline) override;
  void report(const adapters::gate_key& key, adapters::gate_answer answer,
              std::int64_t code) override;

  struct app_stats {
    app_bucket::counters bucket;
    std::uint64_t waiting = 0;    // callers queued right now
    std::uint64_t waited = 0;     // callers that had to queue at all
    clock::duration wait_time{};  // summed over those callers, queued to granted (or given up)
    config::rate_limits limits;   // the budget in force
  };
  [[nodiscard]] std::map<std::string, app_stats> stats() const;

 private:
  struct waiter;
  struct app_state;
  app_state& app(const std::string& app_id);
  boost::asio::awaitable<void> dispatch(std::string app_id);
  static void wake(waiter& w);

  boost::asio::any_io_executor executor_;
  bucket_tuning tuning_;
  std::map<std::string, std::unique_ptr<app_state>> apps_;
  // Set by the destructor: dispatchers still parked must not touch apps_.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace unlinkd::scheduler
