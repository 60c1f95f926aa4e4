#pragma once
// What an endpoint gets and gives back: its parameters (from the query of a
// GET, with arrays and objects JSON-encoded as the real API wants them, or
// from the JSON body of a POST), the caller, and an API code with data.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "sandbox/sandbox_state.hpp"

namespace unlinkd::sandbox {

// The API-level outcome of a call; HTTP is 200 either way.
struct api_outcome {
  int code = 0;
  std::string message = "OK";
  boost::json::value data = boost::json::object{};

  static api_outcome ok(boost::json::value data) { return {0, "OK", std::move(data)}; }
  static api_outcome error(int code, std::string message) {
    return {code, std::move(message), boost::json::object{}};
  }
};

class request_params {
 public:
  static request_params from_query(std::map<std::string, std::string> query);
  static request_params from_body(boost::json::object body);

  // A scalar parameter as text (a JSON number in a body counts).
  [[nodiscard]] std::optional<std::string> text(const std::string& name) const;
  // An array or object parameter: JSON-decoded from the query, or taken
  // from the body. Sets `error` (40002 text) when it is not valid JSON.
  [[nodiscard]] std::optional<boost::json::value> structured(const std::string& name,
                                                             std::string& error) const;

 private:
  std::map<std::string, std::string> query_;
  boost::json::object body_;
  bool from_body_ = false;
};

struct api_call {
  sandbox_state& state;
  const access_token& caller;
  const request_params& params;
  mutation_stats& mutations;
};

// Page-number paging as the API does it: `page` from 1, `page_size` from 1 to
// the endpoint's maximum (default 10).
struct paging {
  std::uint64_t page = 1;
  std::uint64_t page_size = 10;
};
// Nothing, with `out` set to the 40002 answer, when a value is out of range.
std::optional<paging> read_paging(const request_params& params, std::uint64_t max_page_size,
                                  api_outcome& out);
boost::json::object page_info(const paging& p, std::uint64_t total);

// The items of page `p`, each turned into JSON by `to_json`.
template <class T, class F>
boost::json::array page_of(const std::vector<const T*>& items, const paging& p, F to_json) {
  boost::json::array list;
  const std::uint64_t first = (p.page - 1) * p.page_size;
  for (std::uint64_t i = first; i < items.size() && i < first + p.page_size; ++i) {
    list.push_back(to_json(*items[i]));
  }
  return list;
}

// An ID given as a JSON string or number, as text.
std::string id_text(const boost::json::value& v);

// The list answer of a paged read: {list, page_info}.
template <class T, class F>
api_outcome paged_list(const std::vector<const T*>& items, const paging& p, F to_json) {
  return api_outcome::ok(boost::json::object{{"list", page_of(items, p, to_json)},
                                             {"page_info", page_info(p, items.size())}});
}

// 40001 for an ad account that does not exist ("doesn't exist or has been
// deleted", the real wording) or that the caller does not reach; nothing when
// the call may go on. Call it after the parameters were checked
// (docs/SANDBOX_API.md §1.4).
std::optional<api_outcome> advertiser_refusal(const api_call& call,
                                              const std::string& advertiser_id);

// 40002 answers in the API's wording.
api_outcome missing_param(const std::string& name);
api_outcome invalid_param(const std::string& name, const std::string& why);

}  // namespace unlinkd::sandbox
