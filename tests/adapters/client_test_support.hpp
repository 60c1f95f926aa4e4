#pragma once
// Shared by the client's tests: running a coroutine to completion under a
// bound (never a sleep), a logger whose lines the test reads, and a client
// wired to the sandbox fixture world (examples/sandbox-fixture.yaml).
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include "adapters/http_api_client.hpp"
#include "adapters/simple_rate_gate.hpp"
#include "config/credentials.hpp"

namespace unlinkd::test {

// Runs `op` on `io` for at most `limit`; throws when it did not finish.
template <class T>
T run_bounded(boost::asio::io_context& io, boost::asio::awaitable<T> op,
              std::chrono::milliseconds limit = std::chrono::seconds{30}) {
  std::optional<T> out;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(io, std::move(op), [&](const std::exception_ptr& e, T value) {
    done = true;
    error = e;
    if (!e) {
      out.emplace(std::move(value));
    }
  });
  io.restart();
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < until) {
    io.run_one_until(until);
  }
  if (error) {
    std::rethrow_exception(error);
  }
  if (!done) {
    throw std::runtime_error("the coroutine did not finish in time");
  }
  return std::move(*out);
}

// Runs all of `ops` concurrently on `io`; their results in order.
template <class T>
std::vector<T> run_all_bounded(boost::asio::io_context& io,
                               std::vector<boost::asio::awaitable<T>> ops,
                               std::chrono::milliseconds limit = std::chrono::seconds{30}) {
  std::vector<std::optional<T>> out(ops.size());
  std::exception_ptr error;
  std::size_t done = 0;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    boost::asio::co_spawn(io, std::move(ops[i]), [&, i](const std::exception_ptr& e, T value) {
      ++done;
      if (e) {
        error = e;
      } else {
        out[i].emplace(std::move(value));
      }
    });
  }
  io.restart();
  const auto until = std::chrono::steady_clock::now() + limit;
  while (done < out.size() && std::chrono::steady_clock::now() < until) {
    io.run_one_until(until);
  }
  if (error) {
    std::rethrow_exception(error);
  }
  if (done < out.size()) {
    throw std::runtime_error("the coroutines did not finish in time");
  }
  std::vector<T> values;
  values.reserve(out.size());
  for (auto& v : out) {
    values.push_back(std::move(*v));
  }
  return values;
}

// A logger whose every line (trace included) lands in `lines`.
struct captured_logger {
  std::ostringstream lines;
  std::shared_ptr<spdlog::logger> logger;
  captured_logger()
      : logger(std::make_shared<spdlog::logger>(
            "client-test", std::make_shared<spdlog::sinks::ostream_sink_st>(lines))) {
    logger->set_level(spdlog::level::trace);
  }
  std::string text() {
    logger->flush();
    return lines.str();
  }
};

// The fixture world's admin profile (examples/sandbox-fixture.yaml).
inline config::credential_profile fixture_admin(unsigned short port) {
  config::credential_profile p;
  p.name = "sandbox-admin";
  p.app_id = "7000000000000000001";
  p.app_secret = config::secret{"fixture-secret-admin"};
  p.access_token = config::secret{"fixture-admin"};
  p.base_url = "http://127.0.0.1:" + std::to_string(port);
  return p;
}

// Fast retries for tests: the waits are real timers, but milliseconds.
inline adapters::client_options fast_options() {
  adapters::client_options o;
  o.retry.max_attempts = 4;
  o.retry.base_delay = std::chrono::milliseconds{1};
  o.retry.max_delay = std::chrono::milliseconds{4};
  o.io_timeout = std::chrono::seconds{10};
  o.random = [] { return 0.5; };
  return o;
}

}  // namespace unlinkd::test
