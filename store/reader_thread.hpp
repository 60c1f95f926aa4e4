#pragma once
// The reader thread: owns the read connection and runs status queries one at
// a time, so a slow status read never delays a commit and the write
// connection never serves a status request. Internal to store/.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "store/completion.hpp"
#include "store/read_session.hpp"

namespace unlinkd::store {

class read_job {
 public:
  read_job() = default;
  read_job(const read_job&) = delete;
  read_job& operator=(const read_job&) = delete;
  read_job(read_job&&) = delete;
  read_job& operator=(read_job&&) = delete;
  virtual ~read_job() = default;
  virtual void run(read_session& s) = 0;
  virtual void refuse() = 0;  // the store is closing
};

template <class R, class Fn>
class fn_read_job final : public read_job {
 public:
  fn_read_job(Fn fn, completion<R> done) : fn_(std::move(fn)), done_(std::move(done)) {}
  void run(read_session& s) override { done_(fn_(s)); }
  void refuse() override {
    done_(R(store_error{store_errc::closed, "the store is closing and took no new reads"}));
  }

 private:
  Fn fn_;
  completion<R> done_;
};

template <class R, class Fn>
std::unique_ptr<read_job> make_read_job(Fn fn, completion<R> done) {
  return std::make_unique<fn_read_job<R, Fn>>(std::move(fn), std::move(done));
}

class reader_thread {
 public:
  explicit reader_thread(read_session session);
  reader_thread(const reader_thread&) = delete;
  reader_thread& operator=(const reader_thread&) = delete;
  reader_thread(reader_thread&&) = delete;
  reader_thread& operator=(reader_thread&&) = delete;
  ~reader_thread();

  void push(std::unique_ptr<read_job> job);

 private:
  void run();

  read_session session_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<read_job>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace unlinkd::store
