#pragma once
// What the Credentials scenario asks of the daemon's control socket beyond
// unix_get (tests/reliability/unix_http.hpp): a POST (resume a batch) and the
// event log read to its end.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "tests/reliability/unix_http.hpp"

namespace unlinkd::reliability {

// POST `target` with an empty body over the Unix socket; Connection: close,
// the whole exchange within `deadline`. nullopt when the socket does not
// answer in time or the answer is malformed.
std::optional<unix_reply> unix_post(const std::string& socket_path, const std::string& target,
                                    std::chrono::milliseconds deadline = std::chrono::seconds(10));

// Every event of the log (GET /v1/events?follow=false, page after page), in
// `seq` order; nullopt when a page does not answer or does not parse.
std::optional<std::vector<boost::json::object>> read_events(const std::string& socket_path);

// The events of one kind.
std::vector<boost::json::object> events_of_kind(const std::vector<boost::json::object>& events,
                                                const std::string& kind);

}  // namespace unlinkd::reliability
