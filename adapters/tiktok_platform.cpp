#include "adapters/tiktok_platform.hpp"

#include <algorithm>
#include <span>
#include <utility>

#include "adapters/backup.hpp"
#include "adapters/json_fields.hpp"
#include "adapters/page_walker.hpp"
#include "adapters/unlink_request.hpp"

namespace unlinkd::adapters {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using config::unlink_mode;

// The code the API answers when an unlink names a relationship that is not
// there (SANDBOX_API.md §6 item 1): maybe an earlier attempt already took.
constexpr std::int64_t param_error = 40002;

// The unlink's error. A member list cut short after some removals went
// through is partial whatever the error, which the scheduler treats as a
// lost reply (verify, then resend only what is still listed).
api_error unlink_error(api_error e, std::size_t applied, std::size_t of) {
  if (applied == 0) {
    return e;
  }
  e.kind = error_class::unknown_outcome;
  e.message += " (after " + std::to_string(applied) + " of " + std::to_string(of) +
               " removals went through)";
  return e;
}

std::function<std::chrono::steady_clock::time_point()> or_steady(
    std::function<std::chrono::steady_clock::time_point()> clock) {
  if (clock) {
    return clock;
  }
  return [] { return std::chrono::steady_clock::now(); };
}

api_error permanent(std::string message) {
  return own_error(error_class::permanent, std::move(message));
}

std::string quoted_list(const std::vector<std::string>& ids, std::size_t show) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < show; ++i) {
    out += (i == 0 ? "" : ", ") + ids[i];
  }
  if (ids.size() > show) {
    out += ", ...";
  }
  return out;
}

}  // namespace

tiktok_platform::tiktok_platform(api_client& client, std::filesystem::path backups_root,
                                 platform_options options)
    : client_(client),
      backups_root_(std::move(backups_root)),
      options_(std::move(options)),
      user_info_(or_steady(options_.clock)),
      bc_facts_(or_steady(options_.clock)),
      shared_to_us_(or_steady(options_.clock)),
      listings_(or_steady(options_.clock)) {
  options_.clock = or_steady(options_.clock);
  if (!options_.wall_clock) {
    options_.wall_clock = [] { return std::chrono::system_clock::now(); };
  }
}

std::string tiktok_platform::credential_key(const call_context& ctx) const {
  // Profiles are loaded once per process; the name and where it points identify it.
  const auto* c = ctx.credential;
  return (c == nullptr ? std::string() : c->name + "|" + c->app_id) + "|" + ctx.base_url;
}

asio::awaitable<api_result<void>> tiktok_platform::check_credential(const call_context& ctx,
                                                                    const account_job& job,
                                                                    std::uint32_t& calls,
                                                                    std::string& role) {
  const std::string key = credential_key(ctx);
  auto token_works = co_await user_info_.get(
      key, options_.credential_fresh_for, [&]() -> asio::awaitable<api_result<bool>> {
        api_request r;
        r.path = "/user/info/";
        r.scope = call_scope::credential_level;
        auto reply = co_await counted_call(client_, ctx, std::move(r), calls);
        if (!reply) {
          co_return reply.error();
        }
        co_return true;
      });
  if (!token_works) {
    co_return token_works.error();
  }
  const std::string& bc = job.business_center_id;
  auto facts = co_await bc_facts_.get(
      key + "|" + bc, options_.credential_fresh_for,
      [&]() -> asio::awaitable<api_result<bc_facts>> {
        api_request r;
        r.path = "/bc/get/";
        r.scope = call_scope::bc_level;
        r.query.emplace_back("bc_id", bc);
        auto reply = co_await counted_call(client_, ctx, std::move(r), calls);
        if (!reply) {
          co_return reply.error();
        }
        if (const auto* list = list_of(reply->data)) {
          for (const auto& item : *list) {
            const auto* o = item.if_object();
            const auto* info = o == nullptr ? nullptr : o->if_contains("bc_info");
            if (info == nullptr || !info->is_object() ||
                id_field(info->as_object(), "bc_id") != bc) {
              continue;
            }
            co_return bc_facts{string_field(*o, "user_role").value_or("")};
          }
        }
        api_error e =
            own_error(error_class::credential,
                      "Business Center " + bc + " is not reachable with credential profile " +
                          (ctx.credential != nullptr ? ctx.credential->name : std::string("?")) +
                          ": its user is not a member. Check business_center_id or the profile.");
        e.request_id = reply->request_id;
        co_return e;
      });
  if (!facts) {
    co_return facts.error();
  }
  role = facts->user_role;
  // Every unlink call, and the reads of three modes, need ADMIN (SANDBOX_API.md §2.2).
  if (job.account.mode && role != "ADMIN") {
    co_return own_error(
        error_class::credential,
        "Credential profile " +
            (ctx.credential != nullptr ? ctx.credential->name : std::string("?")) +
            " has the role " + (role.empty() ? std::string("(none)") : role) +
            " in Business Center " + bc + "; unlink mode " +
            std::string(config::to_string(*job.account.mode)) +
            " needs ADMIN. Use an admin's token or ask a BC admin to raise the role.");
  }
  co_return api_result<void>{};
}

asio::awaitable<api_result<bool>> tiktok_platform::shared_to_us(const call_context& ctx,
                                                                const account_job& job,
                                                                std::uint32_t& calls) {
  const std::string type = asset_type_of(job);
  auto ids = co_await shared_to_us_.get(
      credential_key(ctx) + "|" + job.business_center_id + "|" + type,
      options_.credential_fresh_for, [&]() -> asio::awaitable<api_result<std::set<std::string>>> {
        std::set<std::string> found;
        auto walked = co_await walk_pages(
            client_, ctx, shared_to_us_listing(job.business_center_id, type), bc_asset_page_size,
            [&](const json::value& data) -> asio::awaitable<api_result<void>> {
              for (const auto& item : *list_of(data)) {
                if (const auto* o = item.if_object()) {
                  if (auto id = id_field(*o, "asset_id")) {
                    found.insert(*id);
                  }
                }
              }
              co_return api_result<void>{};
            },
            calls);
        if (!walked) {
          co_return walked.error();
        }
        co_return found;
      });
  if (!ids) {
    co_return ids.error();
  }
  co_return ids->contains(job.account.id);
}

asio::awaitable<api_result<tiktok_platform::relationship_state>> tiktok_platform::read_relationship(
    const call_context& ctx, const account_job& job, std::uint32_t& calls) {
  relationship_state state;
  const unlink_mode mode = job.account.mode.value_or(unlink_mode::bc_asset);
  auto walked = co_await walk_pages(
      client_, ctx, relationship_read(job), relationship_page_size(mode),
      [&](const json::value& data) -> asio::awaitable<api_result<void>> {
        for (const auto& item : *list_of(data)) {
          const auto* o = item.if_object();
          if (o == nullptr) {
            continue;
          }
          auto key = relationship_key(job, *o);
          if (key.empty()) {
            continue;
          }
          if (mode == unlink_mode::bc_asset) {
            state.relation_type = string_field(*o, "relation_type").value_or("");
          }
          if (std::find(state.listed.begin(), state.listed.end(), key) == state.listed.end()) {
            state.listed.push_back(std::move(key));
          }
        }
        co_return api_result<void>{};
      },
      calls);
  if (!walked) {
    co_return walked.error();
  }
  co_return state;
}

asio::awaitable<api_result<std::vector<std::string>>> tiktok_platform::active_campaigns(
    const call_context& ctx, const account_job& job, std::uint32_t& calls) {
  std::vector<std::string> active;
  auto walked = co_await walk_pages(
      client_, ctx, campaigns_request(job.account.id), campaign_page_size,
      [&](const json::value& data) -> asio::awaitable<api_result<void>> {
        for (const auto& item : *list_of(data)) {
          const auto* o = item.if_object();
          if (o == nullptr || string_field(*o, "operation_status") != "ENABLE") {
            continue;
          }
          if (auto id = id_field(*o, "campaign_id")) {
            active.push_back(std::move(*id));
          }
        }
        co_return api_result<void>{};
      },
      calls);
  if (!walked) {
    co_return walked.error();
  }
  co_return active;
}

asio::awaitable<api_result<preflight_outcome>> tiktok_platform::preflight(const call_context& ctx,
                                                                          const account_job& job) {
  preflight_outcome out;
  if (auto problem = job_problem(job); !problem.empty()) {
    co_return permanent(problem);  // copied: clang-analyzer misreads a move in co_return
  }
  if (auto ok = co_await check_credential(ctx, job, out.api_calls, out.bc_user_role); !ok) {
    co_return ok.error();
  }
  const auto& a = job.account;
  if (a.mode) {
    if (*a.mode != unlink_mode::bc_asset) {
      auto shared = co_await shared_to_us(ctx, job, out.api_calls);
      if (!shared) {
        co_return shared.error();
      }
      if (*shared) {
        co_return permanent("Account " + a.id + " is shared to Business Center " +
                            job.business_center_id +
                            " by a partner (OWNER_PARTNER): only its owner can remove it, and "
                            "unlinkd must not touch it. Leave it out of the manifest.");
      }
    }
    auto rel = co_await read_relationship(ctx, job, out.api_calls);
    if (!rel) {
      co_return rel.error();
    }
    if (rel->relation_type == "OWNER_PARTNER") {
      co_return permanent("Account " + a.id + " is shared to Business Center " +
                          job.business_center_id +
                          " by a partner (OWNER_PARTNER): unlinkd must not touch it.");
    }
    // /bc/asset/admin/delete/ removes only assets the BC owns; asking for
    // another would come back as 40001, which reads as a credential problem.
    if (*a.mode == unlink_mode::bc_asset && !rel->listed.empty() &&
        rel->relation_type != "OWNER_BC") {
      co_return permanent(
          "TikTok account " + a.id + " is in Business Center " + job.business_center_id + " as " +
          (rel->relation_type.empty() ? std::string("(unknown)") : rel->relation_type) +
          ", not owned by it: mode bc_asset can only remove an asset the BC "
          "owns. Its owner must remove it.");
    }
    out.found = rel->listed.empty() ? relationship::already_gone : relationship::present;
  }
  // An account already out of its relationship goes straight to verify.
  if (out.found == relationship::present && a.type == config::account_type::advertiser) {
    auto active = co_await active_campaigns(ctx, job, out.api_calls);
    if (!active) {
      co_return active.error();
    }
    out.active_campaign_ids = std::move(*active);
    if (a.active_campaigns == config::campaign_policy::fail && !out.active_campaign_ids.empty()) {
      co_return permanent("Account " + a.id + " has " +
                          std::to_string(out.active_campaign_ids.size()) + " active campaign(s) (" +
                          quoted_list(out.active_campaign_ids, 5) +
                          ") and the manifest says active_campaigns: fail. Pause or finish them, "
                          "or set active_campaigns: pause.");
    }
  }
  co_return out;
}

asio::awaitable<api_result<backup_outcome>> tiktok_platform::backup(
    const call_context& ctx, const account_job& job, const std::vector<std::string>& campaigns) {
  backup_settings settings;
  settings.root = backups_root_;
  settings.min_free_bytes = options_.min_free_bytes;
  settings.file_executor = options_.file_executor;
  settings.created_at = options_.wall_clock();
  co_return co_await run_backup(client_, ctx, job, campaigns, settings);
}

asio::awaitable<api_result<pause_outcome>> tiktok_platform::pause_campaigns(
    const call_context& ctx, const account_job& job, const std::vector<std::string>& campaign_ids) {
  pause_outcome out;
  if (campaign_ids.empty()) {
    co_return out;
  }
  if (job.account.type != config::account_type::advertiser) {
    co_return permanent("Account " + job.account.id +
                        " is a TikTok account; it has no campaigns to pause.");
  }
  const std::span<const std::string> all(campaign_ids);
  for (std::size_t at = 0; at < all.size(); at += campaigns_per_status_update) {
    const auto chunk = all.subspan(at, std::min(campaigns_per_status_update, all.size() - at));
    auto reply =
        co_await counted_call(client_, ctx, pause_request(job.account.id, chunk), out.api_calls);
    if (!reply) {
      co_return reply.error();
    }
    // The answer names the campaigns it changed; IDs may come as numbers (BUB types them so).
    const auto* data = reply->data.if_object();
    const auto* ids = data == nullptr ? nullptr : data->if_contains("campaign_ids");
    if (ids != nullptr && ids->is_array()) {
      for (const auto& v : ids->as_array()) {
        if (auto id = id_text(v)) {
          out.paused_campaign_ids.push_back(std::move(*id));
        }
      }
    } else {
      out.paused_campaign_ids.insert(out.paused_campaign_ids.end(), chunk.begin(), chunk.end());
    }
  }
  co_return out;
}

asio::awaitable<api_result<unlink_outcome>> tiktok_platform::unlink(const call_context& ctx,
                                                                    const account_job& job) {
  unlink_outcome out;
  if (auto problem = job_problem(job); !problem.empty()) {
    co_return permanent(problem);  // copied: clang-analyzer misreads a move in co_return
  }
  if (!job.account.mode) {
    co_return permanent("Account " + job.account.id +
                        " has no unlink mode (action: pause); nothing to unlink.");
  }
  const auto keys = wanted_keys(job);
  auto requests = unlink_requests(job);
  std::size_t applied = 0;  // removals of this attempt the API accepted
  const bool resend = job.resend_only.has_value();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const std::string& key = keys.at(i < keys.size() ? i : 0);
    if (resend && std::find(job.resend_only->begin(), job.resend_only->end(), key) ==
                      job.resend_only->end()) {
      continue;  // gone when verify read: the unanswered send removed it
    }
    auto reply = co_await counted_call(client_, ctx, std::move(requests[i]), out.api_calls);
    if (reply) {
      ++applied;
      continue;
    }
    if (reply.error().code != param_error) {
      co_return unlink_error(reply.error(), applied, requests.size());
    }
    if (resend) {
      // Verify read it still listed, the API says it is not there: the
      // unanswered send took and the read lagged. Verify settles it.
      continue;
    }
    // "Not there": an earlier attempt (whose reply was lost) may have taken.
    // Only the read can tell; if it no longer lists this relationship the
    // unlink is done, otherwise the API's own words stand.
    auto rel = co_await read_relationship(ctx, job, out.api_calls);
    if (rel && std::find(rel->listed.begin(), rel->listed.end(), key) == rel->listed.end()) {
      ++applied;
      continue;
    }
    co_return unlink_error(reply.error(), applied, requests.size());
  }
  co_return out;
}

asio::awaitable<api_result<tiktok_platform::asset_listing>> tiktok_platform::fetch_listing(
    const call_context& ctx, const std::string& bc_id, std::uint32_t& calls) {
  asset_listing listing;
  std::optional<std::uint64_t> first_total;
  for (std::uint32_t page = 1;; ++page) {
    api_request r = bc_asset_listing(bc_id, "TT_ACCOUNT");
    r.query.emplace_back("page", std::to_string(page));
    r.query.emplace_back("page_size", std::to_string(bc_asset_page_size));
    auto reply = co_await counted_call(client_, ctx, std::move(r), calls);
    if (!reply) {
      co_return reply.error();
    }
    const auto* list = list_of(reply->data);
    const auto pages = total_pages_of(reply->data);
    if (list == nullptr || !pages) {
      co_return permanent("The answer of /bc/asset/admin/get/ has no list or page_info.");
    }
    if (*pages > options_.max_listing_pages) {
      co_return listing;  // too long to share: each verify reads its own asset
    }
    // Items shift between pages when the state changes mid-walk, so a
    // listing whose size changed could miss an asset: not trusted.
    const auto* info = reply->data.as_object().if_contains("page_info");
    const auto* total = info != nullptr && info->is_object()
                            ? info->as_object().if_contains("total_number")
                            : nullptr;
    const auto number = total != nullptr && total->is_int64() ? total->as_int64()
                        : total != nullptr && total->is_uint64()
                            ? static_cast<std::int64_t>(total->as_uint64())
                            : -1;
    if (first_total && static_cast<std::int64_t>(*first_total) != number) {
      co_return asset_listing{};
    }
    first_total = static_cast<std::uint64_t>(number);
    for (const auto& item : *list) {
      if (const auto* o = item.if_object()) {
        if (auto id = id_field(*o, "asset_id")) {
          listing.ids.insert(*id);
        }
      }
    }
    if (list->empty() || page >= *pages) {
      listing.complete = true;
      co_return listing;
    }
  }
}

asio::awaitable<api_result<verify_outcome>> tiktok_platform::verify(const call_context& ctx,
                                                                    const account_job& job) {
  verify_outcome out;
  if (auto problem = job_problem(job); !problem.empty()) {
    co_return permanent(problem);  // copied: clang-analyzer misreads a move in co_return
  }
  if (!job.account.mode) {
    co_return permanent("Account " + job.account.id + " has no unlink mode; nothing to verify.");
  }
  if (*job.account.mode == unlink_mode::bc_asset) {
    auto listing = co_await listings_.get(
        credential_key(ctx) + "|" + job.business_center_id, options_.listing_fresh_for,
        [&]() -> asio::awaitable<api_result<asset_listing>> {
          co_return co_await fetch_listing(ctx, job.business_center_id, out.api_calls);
        });
    if (!listing) {
      co_return listing.error();
    }
    if (listing->complete) {
      if (listing->ids.contains(job.account.id)) {
        out.still_listed = {job.account.id};
      }
      out.found = out.still_listed.empty() ? relationship::already_gone : relationship::present;
      co_return out;
    }
  }
  auto rel = co_await read_relationship(ctx, job, out.api_calls);
  if (!rel) {
    co_return rel.error();
  }
  out.still_listed = std::move(rel->listed);
  out.found = out.still_listed.empty() ? relationship::already_gone : relationship::present;
  co_return out;
}

}  // namespace unlinkd::adapters
