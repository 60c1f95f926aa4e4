#include "adapters/simple_rate_gate.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace unlinkd::adapters {

namespace asio = boost::asio;

simple_rate_gate::simple_rate_gate(asio::any_io_executor ex, simple_rate_gate_options options)
    : ex_(std::move(ex)), options_(options) {}

asio::awaitable<void> simple_rate_gate::acquire(const gate_key& key) {
  asio::steady_timer timer{ex_};
  while (true) {
    app_state& app = apps_[key.app_id];
    const auto now = clock::now();
    // A cooldown that began while this call waited still applies to it.
    if (now < app.frozen_until) {
      timer.expires_at(app.frozen_until);
    } else {
      const auto slot = std::max(now, app.next_free);
      app.next_free = slot + options_.min_spacing;
      if (slot <= now) {
        break;
      }
      timer.expires_at(slot);
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        throw boost::system::system_error{ec};  // cancelled: the caller gave up
      }
      if (clock::now() >= apps_[key.app_id].frozen_until) {
        break;
      }
      continue;
    }
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      throw boost::system::system_error{ec};
    }
  }
  ++counters_.acquired;
}

void simple_rate_gate::report(const gate_key& key, gate_answer answer, std::int64_t /*code*/) {
  switch (answer) {
    case gate_answer::ok:
      ++counters_.ok;
      break;
    case gate_answer::not_sent:
      ++counters_.not_sent;
      break;
    case gate_answer::rate_limited:
    case gate_answer::daily_quota: {
      ++(answer == gate_answer::rate_limited ? counters_.rate_limited : counters_.daily_quota);
      app_state& app = apps_[key.app_id];
      app.frozen_until = std::max(app.frozen_until, clock::now() + options_.cooldown);
      break;
    }
  }
}

}  // namespace unlinkd::adapters
