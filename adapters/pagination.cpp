#include "adapters/pagination.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

namespace unlinkd::adapters {

namespace json = boost::json;

namespace {

bool is_decimal_id(std::string_view s) {
  return !s.empty() && s.size() <= 20 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

std::optional<std::uint64_t> read_count(const json::value& v) {
  if (v.is_uint64()) {
    return v.get_uint64();
  }
  if (v.is_int64()) {
    return v.get_int64() >= 0
               ? std::optional<std::uint64_t>{static_cast<std::uint64_t>(v.get_int64())}
               : std::nullopt;
  }
  if (v.is_string()) {
    const json::string& s = v.get_string();
    std::uint64_t out = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc{} && end == s.data() + s.size() && !s.empty()) {
      return out;
    }
  }
  return std::nullopt;
}

std::optional<page_info> read_page_info(const json::value& data) {
  const auto* obj = data.if_object();
  const auto* pi = obj != nullptr ? obj->if_contains("page_info") : nullptr;
  const auto* p = pi != nullptr ? pi->if_object() : nullptr;
  if (p == nullptr) {
    return std::nullopt;
  }
  page_info out;
  const auto field = [&](std::string_view name, std::uint64_t& into) {
    const auto* v = p->if_contains(name);
    const auto n = v != nullptr ? read_count(*v) : std::nullopt;
    if (n) {
      into = *n;
    }
    return n.has_value();
  };
  if (!field("page", out.page) || !field("total_page", out.total_page)) {
    return std::nullopt;
  }
  field("page_size", out.page_size);
  field("total_number", out.total_number);
  return out;
}

std::optional<cursor_info> read_cursor(const json::value& data) {
  const auto* obj = data.if_object();
  const auto* more = obj != nullptr ? obj->if_contains("has_more") : nullptr;
  if (more == nullptr) {
    return std::nullopt;
  }
  cursor_info out;
  if (more->is_bool()) {
    out.has_more = more->get_bool();
  } else if (const auto n = read_count(*more)) {
    out.has_more = *n != 0;
  } else {
    return std::nullopt;
  }
  if (const auto* c = obj->if_contains("cursor")) {
    if (c->is_string()) {
      out.cursor = std::string{c->get_string()};
    } else if (const auto n = read_count(*c)) {
      out.cursor = std::to_string(*n);
    }
  }
  return out;
}

std::optional<std::string> id_string(const json::value& v) {
  if (v.is_string()) {
    const std::string_view s = v.get_string();
    return is_decimal_id(s) ? std::optional<std::string>{std::string{s}} : std::nullopt;
  }
  if (v.is_uint64()) {
    return std::to_string(v.get_uint64());
  }
  if (v.is_int64() && v.get_int64() >= 0) {
    return std::to_string(v.get_int64());
  }
  return std::nullopt;
}

}  // namespace unlinkd::adapters
