#pragma once
// Hands a result computed on a store thread back to whoever waits for it:
// a coroutine (the value is posted to the coroutine's executor, never run on
// the store thread) or a blocked caller (a promise). Internal to store/.

#include <atomic>
#include <cstddef>
#include <future>
#include <memory>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

namespace unlinkd::store {

template <class T>
class completion {
 public:
  // Keeps the handler's executor busy (its io_context::run() does not return)
  // until the value is delivered. `in_flight` counts the job from now until
  // its handler has been posted: a virtual-time test must not move the clock
  // while a store thread is still working for it.
  template <class Handler>
  static completion to_handler(Handler handler, std::atomic<std::size_t>& in_flight) {
    completion c;
    in_flight.fetch_add(1);
    c.impl_ = std::make_unique<posting<Handler>>(std::move(handler), in_flight);
    return c;
  }

  static completion to_promise(std::promise<T>& p) {
    completion c;
    c.impl_ = std::make_unique<promised>(p);
    return c;
  }

  // Exactly once.
  void operator()(T value) {
    auto impl = std::move(impl_);
    impl->deliver(std::move(value));
  }

 private:
  struct base {
    base() = default;
    base(const base&) = delete;
    base& operator=(const base&) = delete;
    base(base&&) = delete;
    base& operator=(base&&) = delete;
    virtual ~base() = default;
    virtual void deliver(T value) = 0;
  };

  template <class Handler>
  struct posting final : base {
    posting(Handler h, std::atomic<std::size_t>& count)
        : handler(std::move(h)),
          work(boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                   boost::asio::execution::outstanding_work_t::tracked)),
          in_flight(&count) {}
    void deliver(T value) override {
      boost::asio::post(work, [h = std::move(handler), v = std::move(value)]() mutable {
        std::move(h)(std::move(v));
      });
      in_flight->fetch_sub(1);
    }
    Handler handler;
    std::decay_t<decltype(boost::asio::prefer(
        boost::asio::get_associated_executor(std::declval<Handler&>()),
        boost::asio::execution::outstanding_work_t::tracked))>
        work;
    std::atomic<std::size_t>* in_flight;
  };

  struct promised final : base {
    explicit promised(std::promise<T>& p) : promise(&p) {}
    void deliver(T value) override { promise->set_value(std::move(value)); }
    std::promise<T>* promise;
  };

  std::unique_ptr<base> impl_;
};

}  // namespace unlinkd::store
