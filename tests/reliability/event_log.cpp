#include "tests/reliability/event_log.hpp"

#include <sstream>

#include <boost/json.hpp>

#include "tests/reliability/unix_http.hpp"

namespace unlinkd::reliability {

namespace json = boost::json;

std::optional<std::vector<json::object>> read_events(const std::string& socket_path) {
  constexpr std::size_t page = 1000;
  std::vector<json::object> events;
  std::int64_t since = 0;
  for (;;) {
    const auto reply = unix_get(
        socket_path,
        "/v1/events?since=" + std::to_string(since) + "&follow=false&limit=" + std::to_string(page),
        std::chrono::seconds(10));
    if (!reply || reply->status != 200) {
      return std::nullopt;
    }
    std::istringstream lines(reply->body);
    std::size_t read = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) {
        continue;
      }
      std::error_code ec;
      auto v = json::parse(line, ec);
      if (ec || !v.is_object() || !v.as_object().contains("seq")) {
        return std::nullopt;
      }
      since = v.as_object().at("seq").to_number<std::int64_t>();
      events.push_back(std::move(v.as_object()));
      ++read;
    }
    if (read < page) {
      return events;
    }
  }
}

std::vector<json::object> events_of_kind(const std::vector<json::object>& events,
                                         const std::string& kind) {
  std::vector<json::object> out;
  for (const auto& e : events) {
    if (const auto* k = e.if_contains("kind");
        k != nullptr && k->is_string() && k->as_string() == kind) {
      out.push_back(e);
    }
  }
  return out;
}

}  // namespace unlinkd::reliability
