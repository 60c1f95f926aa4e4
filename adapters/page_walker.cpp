#include "adapters/page_walker.hpp"

#include <string>
#include <utility>

#include "adapters/json_fields.hpp"

namespace unlinkd::adapters {

api_error own_error(error_class kind, std::string message) {
  api_error e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

boost::asio::awaitable<api_result<api_reply>> counted_call(api_client& client,
                                                           const call_context& ctx,
                                                           api_request request,
                                                           std::uint32_t& calls) {
  auto reply = co_await client.call(ctx, std::move(request));
  const std::uint32_t sent = reply ? std::max<std::uint32_t>(reply->attempts, 1) : 1;
  calls += sent;
  if (ctx.calls_sent != nullptr) {
    *ctx.calls_sent += sent;
  }
  co_return reply;
}

namespace {

// The walk of both: `pages` or `lines` gets each page.
boost::asio::awaitable<api_result<void>> walk(api_client& client, const call_context& ctx,
                                              const api_request& base, std::uint32_t page_size,
                                              const page_sink* pages, const lines_sink* lines,
                                              std::uint32_t& calls) {
  for (std::uint32_t page = 1; page <= max_pages_per_walk; ++page) {
    api_request request = base;
    request.list_as_lines = lines != nullptr;
    request.query.emplace_back("page", std::to_string(page));
    request.query.emplace_back("page_size", std::to_string(page_size));
    auto reply = co_await counted_call(client, ctx, std::move(request), calls);
    if (!reply) {
      co_return reply.error();
    }
    const auto* list = list_of(reply->data);
    if (list == nullptr) {
      api_error e = own_error(error_class::permanent,
                              "The answer of " + base.path + " has no data.list; the API changed?");
      e.request_id = reply->request_id;
      co_return e;
    }
    const std::size_t items = lines != nullptr ? reply->list_items : list->size();
    api_result<void> sunk;  // not `?:`: g++ 12 mishandles co_await inside one
    if (lines != nullptr) {
      sunk = co_await (*lines)(std::move(reply->list_lines), items);
    } else {
      sunk = co_await (*pages)(reply->data);
    }
    if (!sunk) {
      co_return sunk.error();
    }
    const auto total = total_pages_of(reply->data);
    if (items == 0 || !total || page >= *total) {
      co_return api_result<void>{};
    }
  }
  co_return own_error(error_class::permanent, base.path + " kept answering beyond " +
                                                  std::to_string(max_pages_per_walk) +
                                                  " pages; stopped.");
}

}  // namespace

boost::asio::awaitable<api_result<void>> walk_pages(api_client& client, const call_context& ctx,
                                                    const api_request& base,
                                                    std::uint32_t page_size, const page_sink& sink,
                                                    std::uint32_t& calls) {
  co_return co_await walk(client, ctx, base, page_size, &sink, nullptr, calls);
}

boost::asio::awaitable<api_result<void>> walk_page_lines(
    api_client& client, const call_context& ctx, const api_request& base, std::uint32_t page_size,
    const lines_sink& sink, std::uint32_t& calls) {
  co_return co_await walk(client, ctx, base, page_size, nullptr, &sink, calls);
}

}  // namespace unlinkd::adapters
