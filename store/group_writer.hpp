#pragma once
// The writer thread: owns the write connection, takes every queued write,
// runs them in one transaction (each inside a savepoint, so one failing
// write rolls back alone), commits once (one fsync for the group), then
// updates the in-memory counts, hands claims back, and only then tells each
// waiter its result. Claims run after the group, on the same connection, so
// they see every commit before them and the set of handed-out accounts is
// touched by this thread alone. Internal to store/.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "store/completion.hpp"
#include "store/count_table.hpp"
#include "store/store_options.hpp"
#include "store/write_session.hpp"

namespace unlinkd::store {

enum class write_kind : std::uint8_t {
  plain,         // in the group's transaction
  isolated,      // in the group's transaction, inside its own savepoint
  after_commit,  // after the group, outside any transaction
};

class write_job {
 public:
  write_job() = default;
  write_job(const write_job&) = delete;
  write_job& operator=(const write_job&) = delete;
  write_job(write_job&&) = delete;
  write_job& operator=(write_job&&) = delete;
  virtual ~write_job() = default;

  // False for work that reads or changes only memory (claims, releases): it
  // runs after the group's commit, outside the transaction.
  [[nodiscard]] virtual bool transactional() const = 0;
  // True for a write that may fail after writing part of itself (an ingest
  // of many rows): it runs in a savepoint, so its failure undoes it alone.
  // Other writes check before they write, so their refusals leave nothing to
  // undo; an SQL error in one of them fails its whole group, which saves a
  // savepoint per transition.
  [[nodiscard]] virtual bool isolated() const = 0;
  virtual store_result<void> apply(write_session& s, time_point now, write_effects& fx) = 0;
  // `failure`: the group's commit failed, so nothing this job wrote is stored.
  virtual void finish(const store_error* failure) = 0;
};

template <class R, class Fn>
class fn_write_job final : public write_job {
 public:
  fn_write_job(write_kind kind, Fn fn, completion<R> done)
      : kind_(kind), fn_(std::move(fn)), done_(std::move(done)) {}

  [[nodiscard]] bool transactional() const override { return kind_ != write_kind::after_commit; }
  [[nodiscard]] bool isolated() const override { return kind_ == write_kind::isolated; }

  store_result<void> apply(write_session& s, time_point now, write_effects& fx) override {
    result_.emplace(fn_(s, now, fx));
    if (result_->has_error()) {
      return result_->error();
    }
    return {};
  }

  void finish(const store_error* failure) override {
    if (failure != nullptr && (!result_ || result_->has_value())) {
      done_(R(*failure));
    } else if (!result_) {
      done_(R(store_error{store_errc::closed, "the store is closing and took no new writes"}));
    } else {
      done_(std::move(*result_));
    }
  }

 private:
  write_kind kind_;
  Fn fn_;
  completion<R> done_;
  std::optional<R> result_;
};

template <class R, class Fn>
std::unique_ptr<write_job> make_write_job(write_kind kind, Fn fn, completion<R> done) {
  return std::make_unique<fn_write_job<R, Fn>>(kind, std::move(fn), std::move(done));
}

class group_writer {
 public:
  group_writer(write_session session, count_table& counts, clock_fn clock, std::size_t max_group,
               std::chrono::microseconds gather);
  group_writer(const group_writer&) = delete;
  group_writer& operator=(const group_writer&) = delete;
  group_writer(group_writer&&) = delete;
  group_writer& operator=(group_writer&&) = delete;
  // Runs what is queued, then stops.
  ~group_writer();

  // From any thread. After stop, the job is finished at once with `closed`.
  void push(std::unique_ptr<write_job> job);

  // Groups committed so far (for the benchmark and the tests).
  [[nodiscard]] std::size_t groups_committed() const;

 private:
  void run();
  void run_group(std::vector<std::unique_ptr<write_job>>& jobs);

  write_session session_;
  count_table& counts_;
  clock_fn clock_;
  std::size_t max_group_;
  std::chrono::microseconds gather_;  // store_options::gather

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<write_job>> queue_;
  bool stopping_ = false;
  bool idle_ = false;  // the writer waits: a push must wake it
  std::size_t groups_ = 0;
  std::thread thread_;
};

}  // namespace unlinkd::store
