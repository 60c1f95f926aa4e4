#include "adapters/json_fields.hpp"

#include <cstdint>

#include "config/scalars.hpp"

namespace unlinkd::adapters {

std::optional<std::string> id_text(const boost::json::value& v) {
  if (v.is_string()) {
    std::string text(v.as_string());
    if (!config::is_valid_id(text)) {
      return std::nullopt;
    }
    return text;
  }
  if (v.is_uint64()) {
    return std::to_string(v.as_uint64());
  }
  if (v.is_int64() && v.as_int64() >= 0) {
    return std::to_string(v.as_int64());
  }
  return std::nullopt;
}

std::optional<std::string> id_field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  return id_text(*v);
}

std::optional<std::string> string_field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    return std::nullopt;
  }
  return std::string(v->as_string());
}

const boost::json::array* list_of(const boost::json::value& data) {
  const auto* o = data.if_object();
  if (o == nullptr) {
    return nullptr;
  }
  const auto* list = o->if_contains("list");
  return list == nullptr ? nullptr : list->if_array();
}

std::optional<std::uint64_t> total_pages_of(const boost::json::value& data) {
  const auto* o = data.if_object();
  const auto* info = o == nullptr ? nullptr : o->if_contains("page_info");
  const auto* info_obj = info == nullptr ? nullptr : info->if_object();
  const auto* total = info_obj == nullptr ? nullptr : info_obj->if_contains("total_page");
  if (total == nullptr) {
    return std::nullopt;
  }
  if (total->is_uint64()) {
    return total->as_uint64();
  }
  if (total->is_int64() && total->as_int64() >= 0) {
    return static_cast<std::uint64_t>(total->as_int64());
  }
  return std::nullopt;
}

}  // namespace unlinkd::adapters
