#include "tests/scheduler/fake_platform.hpp"

#include <algorithm>

#include <boost/asio/use_awaitable.hpp>

namespace unlinkd::scheduler::test {

namespace asio = boost::asio;
using store::pipeline_step;

adapters::api_error api_error(adapters::error_class kind, std::int64_t code, std::string message) {
  return {kind, code, 200, std::move(message), "2026112612000000FAKE" + std::to_string(code)};
}

void fake_platform::script(const std::string& account, pipeline_step step,
                           std::vector<scripted_failure> failures) {
  auto& queue = scripts_[{account, step}];
  queue.insert(queue.end(), failures.begin(), failures.end());
}

void fake_platform::always_fail(const std::string& account, pipeline_step step,
                                adapters::api_error error) {
  always_[{account, step}] = std::move(error);
}

std::size_t fake_platform::count(pipeline_step step) const {
  return static_cast<std::size_t>(
      std::count_if(calls.begin(), calls.end(), [&](const call& c) { return c.step == step; }));
}

std::size_t fake_platform::mutating_calls_in_dry_run() const {
  return static_cast<std::size_t>(std::count_if(calls.begin(), calls.end(), [](const call& c) {
    return c.dry_run && (c.step == pipeline_step::pause || c.step == pipeline_step::unlink);
  }));
}

bool fake_platform::visible_linked(const remote_account& a) const {
  return a.linked || clock::now() < a.unlinked_visible_at;
}

asio::awaitable<std::optional<scripted_failure>> fake_platform::begin(
    const adapters::call_context& ctx, const std::string& account, pipeline_step step) {
  calls.push_back({account, step, ctx.dry_run});
  if (on_call) {
    on_call(account, step);
  }
  if (latency.count() > 0) {
    timer t(executor_, clock::now() + latency);
    co_await t.async_wait(asio::use_awaitable);
  }
  if (const auto it = always_.find({account, step}); it != always_.end()) {
    co_return scripted_failure{it->second, false};
  }
  auto& queue = scripts_[{account, step}];
  if (queue.empty()) {
    co_return std::nullopt;
  }
  auto failure = queue.front();
  queue.pop_front();
  co_return failure;
}

asio::awaitable<adapters::api_result<adapters::preflight_outcome>> fake_platform::preflight(
    const adapters::call_context& ctx, const adapters::account_job& job) {
  const auto failure = co_await begin(ctx, job.account.id, pipeline_step::preflight);
  if (failure) {
    co_return failure->error;
  }
  const auto& a = world[job.account.id];
  adapters::preflight_outcome out;
  out.api_calls = 3;
  out.bc_user_role = "ADMIN";
  out.found =
      visible_linked(a) ? adapters::relationship::present : adapters::relationship::already_gone;
  out.active_campaign_ids = a.active_campaigns;
  co_return out;
}

asio::awaitable<adapters::api_result<adapters::backup_outcome>> fake_platform::backup(
    const adapters::call_context& ctx, const adapters::account_job& job,
    const std::vector<std::string>& /*campaigns*/) {
  const auto failure = co_await begin(ctx, job.account.id, pipeline_step::backup);
  if (failure) {
    co_return failure->error;
  }
  adapters::backup_outcome out;
  out.api_calls = 5;
  out.folder = "/backups/" + job.batch + "/" + job.account.id;
  out.digest = "digest-of-" + job.account.id;
  out.files = 5;
  co_return out;
}

asio::awaitable<adapters::api_result<adapters::pause_outcome>> fake_platform::pause_campaigns(
    const adapters::call_context& ctx, const adapters::account_job& job,
    const std::vector<std::string>& campaign_ids) {
  const auto failure = co_await begin(ctx, job.account.id, pipeline_step::pause);
  if (failure) {
    co_return failure->error;
  }
  auto& a = world[job.account.id];
  adapters::pause_outcome out;
  out.api_calls = static_cast<std::uint32_t>((campaign_ids.size() + 19) / 20);
  for (const auto& id : campaign_ids) {
    std::erase(a.active_campaigns, id);
    out.paused_campaign_ids.push_back(id);
  }
  co_return out;
}

asio::awaitable<adapters::api_result<adapters::unlink_outcome>> fake_platform::unlink(
    const adapters::call_context& ctx, const adapters::account_job& job) {
  const auto failure = co_await begin(ctx, job.account.id, pipeline_step::unlink);
  auto& a = world[job.account.id];
  ++a.unlink_calls;
  a.unlink_resend_only.push_back(job.resend_only);
  if (failure && !failure->apply_first) {
    co_return failure->error;
  }
  if (!a.linked) {
    co_return api_error(adapters::error_class::permanent, 40002, "Asset is not shared");
  }
  a.linked = false;
  ++a.unlinks_applied;
  a.unlinked_visible_at = clock::now() + visibility_delay;
  if (failure) {
    co_return failure->error;  // applied, and the reply lost
  }
  co_return adapters::unlink_outcome{{1}};
}

asio::awaitable<adapters::api_result<adapters::verify_outcome>> fake_platform::verify(
    const adapters::call_context& ctx, const adapters::account_job& job) {
  const auto failure = co_await begin(ctx, job.account.id, pipeline_step::verify);
  if (failure) {
    co_return failure->error;
  }
  adapters::verify_outcome out;
  out.api_calls = 1;
  out.found = visible_linked(world[job.account.id]) ? adapters::relationship::present
                                                    : adapters::relationship::already_gone;
  if (out.found == adapters::relationship::present) {
    out.still_listed = {job.account.id};
  }
  co_return out;
}

}  // namespace unlinkd::scheduler::test
