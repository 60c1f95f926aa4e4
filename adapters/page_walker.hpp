#pragma once
// Walks a page-numbered list endpoint (page_info, tiktok-api.md §1) one page
// at a time, handing each page's `data` to a sink as it arrives, so a long
// list is never held whole. A private helper of the operations; the
// client's own pagination helpers may replace it later.
#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "adapters/api_client.hpp"

namespace unlinkd::adapters {

using page_sink =
    std::function<boost::asio::awaitable<api_result<void>>(const boost::json::value& data)>;
// A page's data.list items as JSON lines (api_request::list_as_lines).
using lines_sink =
    std::function<boost::asio::awaitable<api_result<void>>(std::string lines, std::size_t items)>;

// A bound far beyond any real list, so a server that never says "last page"
// cannot keep a step busy for ever.
inline constexpr std::uint32_t max_pages_per_walk = 100'000;

// Sends `base` with page=1,2,... and page_size until page_info.total_page
// is reached or a page comes back empty. `calls` grows by the calls sent
// (retries included) even when the walk fails.
boost::asio::awaitable<api_result<void>> walk_pages(api_client& client, const call_context& ctx,
                                                    const api_request& base,
                                                    std::uint32_t page_size, const page_sink& sink,
                                                    std::uint32_t& calls);
// The same walk, handing each page's list items as JSON lines: nothing of
// them is built as values (the backup's pages).
boost::asio::awaitable<api_result<void>> walk_page_lines(
    api_client& client, const call_context& ctx, const api_request& base, std::uint32_t page_size,
    const lines_sink& sink, std::uint32_t& calls);

// One call, counted: `calls` grows by its attempts (1 for a failure whose
// attempts are unknown).
boost::asio::awaitable<api_result<api_reply>> counted_call(api_client& client,
                                                           const call_context& ctx,
                                                           api_request request,
                                                           std::uint32_t& calls);

// Our own refusals and checks (no API code): a sentence for an operator.
api_error own_error(error_class kind, std::string message);

}  // namespace unlinkd::adapters
