#include "store/reader_thread.hpp"

#include <utility>

namespace unlinkd::store {

reader_thread::reader_thread(read_session session)
    : session_(std::move(session)), thread_([this] { run(); }) {}

reader_thread::~reader_thread() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void reader_thread::push(std::unique_ptr<read_job> job) {
  {
    std::unique_lock lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      lock.unlock();
      wake_.notify_one();
      return;
    }
  }
  job->refuse();
}

void reader_thread::run() {
  for (;;) {
    std::unique_ptr<read_job> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;
      }
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job->run(session_);
  }
}

}  // namespace unlinkd::store
