#pragma once
// A scripted platform for the scheduler's tests: a small remote world (is
// each account still linked, its active campaigns), faults scripted per
// account and step, latency and read lag in virtual time, and a record of
// every call, so a test can prove no relationship was removed twice and no
// mutating call left a dry run.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "adapters/platform.hpp"
#include "scheduler/clock.hpp"
#include "store/account_state.hpp"

namespace unlinkd::scheduler::test {

struct remote_account {
  bool linked = true;
  std::vector<std::string> active_campaigns;
  std::uint32_t unlink_calls = 0;
  std::uint32_t unlinks_applied = 0;  // must never exceed 1
  // What each unlink call was told to resend (nullopt: a first send).
  std::vector<std::optional<std::vector<std::string>>> unlink_resend_only;
  clock::time_point unlinked_visible_at{};  // reads lag the write
};

struct scripted_failure {
  adapters::api_error error;
  bool apply_first = false;  // unlink: the write took effect, then the reply was lost
};

class fake_platform final : public adapters::platform {
 public:
  explicit fake_platform(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  // A new io_context (a test that restarts the scheduler keeps the world).
  void set_executor(boost::asio::any_io_executor executor) { executor_ = std::move(executor); }

  std::map<std::string, remote_account> world;
  clock::duration latency{0};           // every call takes this long
  clock::duration visibility_delay{0};  // reads see an unlink this late
  // Called at the start of every call (a crash test stops the run there).
  std::function<void(const std::string& account, store::pipeline_step)> on_call;

  // The next calls of `step` for `account` fail with these, in order.
  void script(const std::string& account, store::pipeline_step step,
              std::vector<scripted_failure> failures);
  // Every call of `step` for `account` fails with `error`.
  void always_fail(const std::string& account, store::pipeline_step step,
                   adapters::api_error error);

  struct call {
    std::string account;
    store::pipeline_step step;
    bool dry_run;
  };
  std::vector<call> calls;
  [[nodiscard]] std::size_t count(store::pipeline_step step) const;
  [[nodiscard]] std::size_t mutating_calls_in_dry_run() const;

  boost::asio::awaitable<adapters::api_result<adapters::preflight_outcome>> preflight(
      const adapters::call_context& ctx, const adapters::account_job& job) override;
  boost::asio::awaitable<adapters::api_result<adapters::backup_outcome>> backup(
      const adapters::call_context& ctx, const adapters::account_job& job,
      const std::vector<std::string>& campaigns) override;
  boost::asio::awaitable<adapters::api_result<adapters::pause_outcome>> pause_campaigns(
      const adapters::call_context& ctx, const adapters::account_job& job,
      const std::vector<std::string>& campaign_ids) override;
  boost::asio::awaitable<adapters::api_result<adapters::unlink_outcome>> unlink(
      const adapters::call_context& ctx, const adapters::account_job& job) override;
  boost::asio::awaitable<adapters::api_result<adapters::verify_outcome>> verify(
      const adapters::call_context& ctx, const adapters::account_job& job) override;

 private:
  // Records the call, waits the latency, and pops a scripted failure if any.
  boost::asio::awaitable<std::optional<scripted_failure>> begin(const adapters::call_context& ctx,
                                                                const std::string& account,
                                                                store::pipeline_step step);
  [[nodiscard]] bool visible_linked(const remote_account& a) const;

  boost::asio::any_io_executor executor_;
  std::map<std::pair<std::string, store::pipeline_step>, std::deque<scripted_failure>> scripts_;
  std::map<std::pair<std::string, store::pipeline_step>, adapters::api_error> always_;
};

// An API error as the adapter returns it.
adapters::api_error api_error(adapters::error_class kind, std::int64_t code,
                              std::string message = "scripted");

}  // namespace unlinkd::scheduler::test
