#pragma once
// The daemon's event log as a scenario reads it: every event over the
// control socket (GET /v1/events, one page after another), and a filter.

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace unlinkd::reliability {

// Every event of the log (GET /v1/events?follow=false, page after page), in
// `seq` order; nullopt when a page does not answer or does not parse.
std::optional<std::vector<boost::json::object>> read_events(const std::string& socket_path);

// The events of one kind.
std::vector<boost::json::object> events_of_kind(const std::vector<boost::json::object>& events,
                                                const std::string& kind);

}  // namespace unlinkd::reliability
