#include "sandbox/api_call.hpp"

#include <charconv>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace unlinkd::sandbox {

request_params request_params::from_query(std::map<std::string, std::string> query) {
  request_params p;
  p.query_ = std::move(query);
  return p;
}

request_params request_params::from_body(boost::json::object body) {
  request_params p;
  p.body_ = std::move(body);
  p.from_body_ = true;
  return p;
}

std::optional<std::string> request_params::text(const std::string& name) const {
  if (!from_body_) {
    const auto it = query_.find(name);
    return it == query_.end() ? std::nullopt : std::optional(it->second);
  }
  const auto* v = body_.if_contains(name);
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  if (v->is_string()) {
    return std::string(v->get_string());
  }
  if (v->is_int64() || v->is_uint64()) {
    return boost::json::serialize(*v);
  }
  return boost::json::serialize(*v);  // a type error the endpoint reports
}

std::optional<boost::json::value> request_params::structured(const std::string& name,
                                                             std::string& error) const {
  if (from_body_) {
    const auto* v = body_.if_contains(name);
    return v == nullptr ? std::nullopt : std::optional(*v);
  }
  const auto it = query_.find(name);
  if (it == query_.end()) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto value = boost::json::parse(it->second, ec);
  if (ec) {
    error = name + ": Invalid JSON format. Arrays and objects in the query string must be JSON.";
    return std::nullopt;
  }
  return value;
}

namespace {

std::optional<std::uint64_t> whole_number(const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<paging> read_paging(const request_params& params, std::uint64_t max_page_size,
                                  api_outcome& out) {
  paging p;
  if (const auto page = params.text("page")) {
    const auto n = whole_number(*page);
    if (!n || *n < 1) {
      out = invalid_param("page", "Param value must be greater than or equal to 1.");
      return std::nullopt;
    }
    p.page = *n;
  }
  if (const auto size = params.text("page_size")) {
    const auto n = whole_number(*size);
    if (!n || *n < 1 || *n > max_page_size) {
      out = invalid_param(
          "page_size", "Param value must be between 1 and " + std::to_string(max_page_size) + ".");
      return std::nullopt;
    }
    p.page_size = *n;
  }
  return p;
}

boost::json::object page_info(const paging& p, std::uint64_t total) {
  return {{"page", p.page},
          {"page_size", p.page_size},
          {"total_number", total},
          {"total_page", (total + p.page_size - 1) / p.page_size}};
}

std::string id_text(const boost::json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
}

std::optional<api_outcome> advertiser_refusal(const api_call& call,
                                              const std::string& advertiser_id) {
  if (call.state.find_advertiser(advertiser_id) == nullptr) {
    return api_outcome::error(
        40001, "The advertiser " + advertiser_id + " doesn't exist or has been deleted.");
  }
  if (!call.state.can_access_advertiser(call.caller, advertiser_id)) {
    return api_outcome::error(40001, "No permission to operate advertiser " + advertiser_id + ".");
  }
  return std::nullopt;
}

api_outcome missing_param(const std::string& name) {
  return api_outcome::error(40002, name + ": Missing data for required field.");
}

api_outcome invalid_param(const std::string& name, const std::string& why) {
  return api_outcome::error(40002, name + ": " + why);
}

}  // namespace unlinkd::sandbox
