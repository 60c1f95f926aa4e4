#include "store/group_writer.hpp"

#include <utility>

namespace unlinkd::store {

group_writer::group_writer(write_session session, count_table& counts, clock_fn clock,
                           std::size_t max_group, std::chrono::microseconds gather)
    : session_(std::move(session)),
      counts_(counts),
      clock_(std::move(clock)),
      max_group_(max_group == 0 ? 1 : max_group),
      gather_(gather),
      thread_([this] { run(); }) {}

group_writer::~group_writer() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void group_writer::push(std::unique_ptr<write_job> job) {
  {
    std::unique_lock lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      // A busy writer takes the queue when its group is done; waking it for
      // every push would cost a futex call per transition.
      const bool wake = idle_;
      idle_ = false;
      lock.unlock();
      if (wake) {
        wake_.notify_one();
      }
      return;
    }
  }
  job->finish(nullptr);  // never applied: reports `closed`
}

std::size_t group_writer::groups_committed() const {
  const std::lock_guard lock(mutex_);
  return groups_;
}

void group_writer::run() {
  std::vector<std::unique_ptr<write_job>> group;
  std::size_t last_group = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (!stopping_ && queue_.empty()) {
        idle_ = true;
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        idle_ = false;
      }
      if (queue_.empty()) {
        return;  // stopping, and everything queued has run
      }
      if (last_group > 1 && gather_.count() > 0 && !stopping_) {
        // Several accounts are committing: let more join this group. Not
        // idle, so pushes do not wake it (a futex call each); stop does.
        wake_.wait_for(lock, gather_, [this] { return stopping_; });
      }
      while (!queue_.empty() && group.size() < max_group_) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    last_group = group.size();
    run_group(group);
    group.clear();
  }
}

void group_writer::run_group(std::vector<std::unique_ptr<write_job>>& jobs) {
  const auto now = clock_();
  std::vector<write_job*> in_tx;
  std::vector<write_job*> after;
  for (auto& j : jobs) {
    (j->transactional() ? in_tx : after).push_back(j.get());
  }

  if (!in_tx.empty()) {
    std::optional<store_error> failure;
    write_effects effects;
    if (auto r = session_.begin(); !r) {
      failure = r.error();
    } else {
      for (auto* job : in_tx) {
        const bool isolated = job->isolated();
        if (isolated) {
          if (auto sp = session_.savepoint(); !sp) {
            failure = sp.error();
            break;
          }
        }
        write_effects fx;
        auto applied = job->apply(session_, now, fx);
        if (applied) {
          if (isolated) {
            if (auto rel = session_.release_savepoint(); !rel) {
              failure = rel.error();
              break;
            }
          }
          effects.deltas.insert(effects.deltas.end(), fx.deltas.begin(), fx.deltas.end());
          for (auto& ref : fx.releases) {
            effects.releases.push_back(std::move(ref));
          }
        } else if (isolated) {
          session_.rollback_to_savepoint();
        } else if (applied.error().code == store_errc::sql_error) {
          failure = applied.error();  // it may have written part of itself
          break;
        }
      }
      if (!failure) {
        if (auto c = session_.commit(); !c) {
          failure = c.error();
        }
      }
      if (failure) {
        session_.rollback();
      }
    }
    if (!failure) {
      // Durable now: memory follows the database before anyone hears of it.
      counts_.apply(effects.deltas);
      for (const auto& ref : effects.releases) {
        session_.release(ref);
      }
      {
        const std::lock_guard lock(mutex_);
        ++groups_;
      }
    }
    for (auto* job : in_tx) {
      job->finish(failure ? &*failure : nullptr);
    }
  }

  for (auto* job : after) {
    write_effects fx;
    (void)job->apply(session_, now, fx);  // its result, error or not, goes to its waiter
    job->finish(nullptr);
  }
}

}  // namespace unlinkd::store
