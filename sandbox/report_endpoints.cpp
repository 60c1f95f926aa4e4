// The reporting endpoints: the synchronous report /report/integrated/get/
// and the asynchronous report tasks (create, check, download, cancel).
// Report numbers are never stored: an ad's figures for a day are a hash of
// (ad ID, day, metric), gated by a hash of (ad account ID, day) for days
// without delivery, and summed up to the ad group, campaign or ad account, so
// the same request always gives the same rows. Facts in
// ../shared/reference/tiktok-api.md §2.3 and docs/SANDBOX_API.md §4.17-4.20;
// what the sandbox decided where they are silent: docs/SANDBOX.md.
#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "sandbox/endpoints.hpp"

namespace unlinkd::sandbox {

namespace {

namespace json = boost::json;
namespace chr = std::chrono;

// ---------------------------------------------------------------------------
// The numbers.

// splitmix64's finalizer over FNV-1a: fixed by its definition, so the same
// on every machine and library version.
std::uint64_t hash_of(std::string_view id, std::int64_t slot, std::string_view what) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  const auto eat = [&](std::string_view s) {
    for (const char c : s) {
      h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
    }
    h = (h ^ 0xFFU) * 0x100000001B3ULL;  // a separator: ("ab","c") is not ("a","bc")
  };
  eat(id);
  eat(what);
  std::uint64_t z = h ^ (static_cast<std::uint64_t>(slot) * 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31U);
}

// What the additive metrics add up to, for one ad and day or many.
struct totals {
  std::uint64_t impressions = 0;
  std::uint64_t reach = 0;  // summed like the others: an upper bound of the real reach
  std::uint64_t clicks = 0;
  std::uint64_t conversion = 0;
  std::uint64_t spend_cents = 0;
  bool any = false;  // some ad delivered: otherwise every metric is "-"

  void add(const totals& o) {
    impressions += o.impressions;
    reach += o.reach;
    clicks += o.clicks;
    conversion += o.conversion;
    spend_cents += o.spend_cents;
    any = any || o.any;
  }
};

// No delivery: about one day in five for the whole ad account, and one in
// seven of the others for each ad.
constexpr std::uint64_t dark_account_days_percent = 20;
constexpr std::uint64_t dark_ad_days_percent = 15;

totals ad_day(const std::string& advertiser_id, const std::string& ad_id, std::int64_t day) {
  if (hash_of(advertiser_id, day, "delivery") % 100 < dark_account_days_percent ||
      hash_of(ad_id, day, "delivery") % 100 < dark_ad_days_percent) {
    return {};
  }
  totals t;
  t.any = true;
  t.impressions = 100 + hash_of(ad_id, day, "impressions") % 9900;
  t.reach = t.impressions * (55 + hash_of(ad_id, day, "reach") % 40) / 100;
  t.clicks = t.impressions * (2 + hash_of(ad_id, day, "clicks") % 40) / 1000;
  const std::uint64_t cpm_cents = 150 + hash_of(ad_id, day, "spend") % 1200;
  t.spend_cents = t.impressions * cpm_cents / 1000;
  t.conversion = t.clicks * (hash_of(ad_id, day, "conversion") % 20) / 100;
  return t;
}

// An hour's share of the day: hash weights, cut so that the 24 hours add up
// to the day exactly.
totals ad_hour(const std::string& advertiser_id, const std::string& ad_id, std::int64_t day,
               unsigned hour) {
  const totals whole = ad_day(advertiser_id, ad_id, day);
  if (!whole.any) {
    return {};
  }
  std::array<std::uint64_t, 25> cumulative{};
  for (unsigned h = 0; h < 24; ++h) {
    cumulative[h + 1] = cumulative[h] + 1 + hash_of(ad_id, day * 24 + h, "hour") % 100;
  }
  const auto part = [&](std::uint64_t value) {
    return value * cumulative[hour + 1] / cumulative[24] -
           value * cumulative[hour] / cumulative[24];
  };
  totals t;
  t.any = true;
  t.impressions = part(whole.impressions);
  t.reach = part(whole.reach);
  t.clicks = part(whole.clicks);
  t.conversion = part(whole.conversion);
  t.spend_cents = part(whole.spend_cents);
  return t;
}

std::string money(std::uint64_t cents) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%llu.%02llu", static_cast<unsigned long long>(cents / 100),
                static_cast<unsigned long long>(cents % 100));
  return buffer;
}

// A ratio with two decimals, or "-" when its denominator is 0.
std::string ratio(double numerator, std::uint64_t denominator, double scale) {
  if (denominator == 0) {
    return "-";
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f",
                numerator * scale / static_cast<double>(denominator));
  return buffer;
}

// ---------------------------------------------------------------------------
// The query.

enum class level : std::uint8_t { advertiser, campaign, adgroup, ad };

struct level_info {
  std::string_view data_level;
  std::string_view id_dimension;
  level value;
};

constexpr std::array<level_info, 4> levels{{
    {"AUCTION_ADVERTISER", "advertiser_id", level::advertiser},
    {"AUCTION_CAMPAIGN", "campaign_id", level::campaign},
    {"AUCTION_ADGROUP", "adgroup_id", level::adgroup},
    {"AUCTION_AD", "ad_id", level::ad},
}};

// A metric: one added up from the ads' figures, or an attribute of the row's
// object, which needs a data level at least as fine as `lowest` and, below
// the ad account, the level's ID among the dimensions.
struct metric_info {
  std::string_view name;
  bool attribute;
  level lowest;
};

constexpr std::array<metric_info, 17> known_metrics{{
    {"spend", false, level::advertiser},
    {"impressions", false, level::advertiser},
    {"reach", false, level::advertiser},
    {"clicks", false, level::advertiser},
    {"ctr", false, level::advertiser},
    {"cpc", false, level::advertiser},
    {"cpm", false, level::advertiser},
    {"conversion", false, level::advertiser},
    {"cost_per_conversion", false, level::advertiser},
    {"conversion_rate", false, level::advertiser},
    {"advertiser_name", true, level::advertiser},
    {"currency", true, level::advertiser},
    {"campaign_name", true, level::campaign},
    {"campaign_id", true, level::adgroup},
    {"adgroup_name", true, level::adgroup},
    {"adgroup_id", true, level::ad},
    {"ad_name", true, level::ad},
}};

const metric_info* find_metric(std::string_view name) {
  for (const auto& m : known_metrics) {
    if (m.name == name) {
      return &m;
    }
  }
  return nullptr;
}

constexpr std::int64_t max_days_by_day = 30;
constexpr std::int64_t max_days_by_hour = 1;
constexpr std::int64_t max_days_otherwise = 365;

// A checked report query: what /report/integrated/get/ and
// /report/task/create/ both take.
struct report_query {
  std::string advertiser_id;
  const level_info* data_level = nullptr;
  std::vector<std::string> dimensions;  // as asked, in order
  bool by_object = false;               // the level's ID is a dimension
  bool by_day = false;                  // stat_time_day is a dimension
  bool by_hour = false;                 // stat_time_hour is a dimension
  std::vector<std::string> metrics;     // as asked, in order
  bool lifetime = false;                // query_lifetime: from the account's creation on
  std::string start_text;
  std::string end_text;
  chr::sys_days start;
  chr::sys_days end;  // inclusive
  std::optional<std::string> order_field;
  bool ascending = false;
  std::vector<std::string> campaign_ids;
  std::vector<std::string> adgroup_ids;
  std::vector<std::string> ad_ids;
  bool include_deleted = false;
  json::value filtering;  // as given, for the stored task

  [[nodiscard]] std::int64_t days() const { return (end - start).count() + 1; }
};

std::optional<chr::sys_days> parse_date(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return std::nullopt;
  }
  const auto number = [&](std::size_t from, std::size_t length) -> std::optional<unsigned> {
    unsigned value = 0;
    const char* first = text.data() + from;
    const auto [end, ec] = std::from_chars(first, first + length, value);
    return ec == std::errc{} && end == first + length ? std::optional(value) : std::nullopt;
  };
  const auto y = number(0, 4);
  const auto m = number(5, 2);
  const auto d = number(8, 2);
  if (!y || !m || !d) {
    return std::nullopt;
  }
  const chr::year_month_day date{chr::year{static_cast<int>(*y)}, chr::month{*m}, chr::day{*d}};
  return date.ok() ? std::optional(chr::sys_days{date}) : std::nullopt;
}

std::string time_text(chr::sys_days day, unsigned hour) {
  const chr::year_month_day date{day};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u %02u:00:00", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), hour);
  return buffer;
}

// A JSON array of strings, or the 40002 answer.
std::optional<std::vector<std::string>> string_list(const json::value& v, const std::string& name,
                                                    api_outcome& out) {
  if (!v.is_array()) {
    out = invalid_param(name, "Not a valid list.");
    return std::nullopt;
  }
  std::vector<std::string> list;
  for (const auto& item : v.as_array()) {
    if (!item.is_string()) {
      out = invalid_param(name, "Not a valid list of strings.");
      return std::nullopt;
    }
    list.emplace_back(item.get_string());
  }
  return list;
}

// A JSON-array parameter as strings: nothing when absent, or the answer.
bool read_list(const request_params& params, const std::string& name,
               std::optional<std::vector<std::string>>& list, api_outcome& out) {
  std::string error;
  const auto value = params.structured(name, error);
  if (!error.empty()) {
    out = api_outcome::error(40002, error);
    return false;
  }
  if (value) {
    list = string_list(*value, name, out);
    return list.has_value();
  }
  return true;
}

// A boolean parameter, false when absent.
bool read_flag(const request_params& params, const std::string& name, bool& flag,
               api_outcome& out) {
  const auto text = params.text(name);
  if (text && *text != "true" && *text != "false") {
    out = invalid_param(name, "Not a valid boolean.");
    return false;
  }
  flag = text == "true";
  return true;
}

// An ID as the API takes it: 1-19 digits, no leading zero.
bool valid_id(const std::string& id) {
  return !id.empty() && id.size() <= 19 && id[0] != '0' &&
         id.find_first_not_of("0123456789") == std::string::npos &&
         (id.size() < 19 || id <= "9223372036854775807");
}

// `filtering`: [{field_name, filter_type, filter_value}], filter_value a
// string holding a JSON array (an array itself is taken too). Applied:
// campaign_ids, adgroup_ids, ad_ids, and campaign_status, adgroup_status,
// ad_status with ["STATUS_ALL"] (deleted objects too) or
// ["STATUS_NOT_DELETE"] (the default); all with filter_type IN.
bool read_filtering(const request_params& params, report_query& q, api_outcome& out) {
  std::string error;
  const auto filtering = params.structured("filtering", error);
  if (!error.empty()) {
    out = api_outcome::error(40002, error);
    return false;
  }
  if (!filtering) {
    return true;
  }
  q.filtering = *filtering;
  if (!filtering->is_array()) {
    out = invalid_param("filtering", "Not a valid list.");
    return false;
  }
  for (const auto& f : filtering->as_array()) {
    const auto* o = f.if_object();
    const auto* name = o == nullptr ? nullptr : o->if_contains("field_name");
    const auto* type = o == nullptr ? nullptr : o->if_contains("filter_type");
    const auto* value = o == nullptr ? nullptr : o->if_contains("filter_value");
    if (name == nullptr || !name->is_string() || type == nullptr || !type->is_string() ||
        value == nullptr) {
      out = invalid_param("filtering",
                          "Every filter needs field_name, filter_type and filter_value.");
      return false;
    }
    const std::string field(name->get_string());
    const std::string where = "filtering." + field;
    const bool campaigns = field == "campaign_ids";
    const bool adgroups = field == "adgroup_ids";
    const bool ads = field == "ad_ids";
    const bool status =
        field == "campaign_status" || field == "adgroup_status" || field == "ad_status";
    if (!campaigns && !adgroups && !ads && !status) {
      out = invalid_param(where,
                          "unlinkd-sandbox filters only by campaign_ids, adgroup_ids, ad_ids, "
                          "campaign_status, adgroup_status and ad_status.");
      return false;
    }
    if (type->get_string() != "IN") {
      out = invalid_param(where, "filter_type must be IN.");
      return false;
    }
    json::value parsed = *value;
    if (value->is_string()) {
      boost::system::error_code ec;
      parsed = json::parse(value->get_string(), ec);
      if (ec) {
        out = invalid_param(where, "filter_value must hold a JSON list.");
        return false;
      }
    }
    auto values = string_list(parsed, where, out);
    if (!values) {
      return false;
    }
    if (status) {
      for (const auto& v : *values) {
        if (v != "STATUS_ALL" && v != "STATUS_NOT_DELETE") {
          out = invalid_param(where, "Must be one of: STATUS_ALL, STATUS_NOT_DELETE.");
          return false;
        }
        q.include_deleted = q.include_deleted || v == "STATUS_ALL";
      }
      continue;
    }
    const level needs = campaigns ? level::campaign : adgroups ? level::adgroup : level::ad;
    if (q.data_level->value < needs) {
      out = invalid_param(
          where, "Not available at data_level " + std::string(q.data_level->data_level) + ".");
      return false;
    }
    if (values->empty() || values->size() > 100) {
      out = invalid_param(where, "Length must be between 1 and 100.");
      return false;
    }
    auto& target = campaigns ? q.campaign_ids : adgroups ? q.adgroup_ids : q.ad_ids;
    target.insert(target.end(), values->begin(), values->end());
  }
  return true;
}

bool read_dimensions(const request_params& params, report_query& q, api_outcome& out) {
  std::optional<std::vector<std::string>> dims;
  if (!read_list(params, "dimensions", dims, out)) {
    return false;
  }
  if (!dims) {
    out = missing_param("dimensions");
    return false;
  }
  if (dims->empty()) {
    out = invalid_param("dimensions", "Length must be between 1 and 2.");
    return false;
  }
  for (const auto& d : *dims) {
    const bool id = d == q.data_level->id_dimension;
    if (!id && d != "stat_time_day" && d != "stat_time_hour") {
      out = invalid_param("dimensions", "'" + d + "' is not available at data_level " +
                                            std::string(q.data_level->data_level) +
                                            "; unlinkd-sandbox offers " +
                                            std::string(q.data_level->id_dimension) +
                                            ", stat_time_day and stat_time_hour.");
      return false;
    }
    if ((id && q.by_object) || (!id && (q.by_day || q.by_hour))) {
      out = invalid_param("dimensions", "At most one ID and one time dimension.");
      return false;
    }
    (id ? q.by_object : d == "stat_time_day" ? q.by_day : q.by_hour) = true;
  }
  q.dimensions = std::move(*dims);
  return true;
}

bool read_metrics(const request_params& params, report_query& q, api_outcome& out) {
  std::optional<std::vector<std::string>> metrics;
  if (!read_list(params, "metrics", metrics, out)) {
    return false;
  }
  q.metrics = metrics && !metrics->empty() ? std::move(*metrics)
                                           : std::vector<std::string>{"spend", "impressions"};
  for (const auto& m : q.metrics) {
    const auto* info = find_metric(m);
    if (info == nullptr) {
      out = invalid_param("metrics", "Invalid metric " + m + ".");
      return false;
    }
    const bool needs_object = info->attribute && info->lowest != level::advertiser;
    if (q.data_level->value < info->lowest || (needs_object && !q.by_object)) {
      out = invalid_param("metrics", m +
                                         " needs a data_level at least as fine as its object "
                                         "and the dimension " +
                                         std::string(q.data_level->id_dimension) + ".");
      return false;
    }
  }
  return true;
}

bool read_dates(const request_params& params, report_query& q, api_outcome& out) {
  if (!read_flag(params, "query_lifetime", q.lifetime, out)) {
    return false;
  }
  if (q.lifetime) {
    if (q.by_day || q.by_hour) {
      out =
          api_outcome::error(40002, "query_lifetime and time dimensions cannot be used together.");
      return false;
    }
    return true;  // the range is the account's life, known once it is reached
  }
  for (const std::string name : {"start_date", "end_date"}) {
    const auto text = params.text(name);
    if (!text || text->empty()) {
      out = missing_param(name);
      return false;
    }
    const auto day = parse_date(*text);
    if (!day) {
      out = invalid_param(name, "Not a valid date.");
      return false;
    }
    (name == "start_date" ? q.start : q.end) = *day;
    (name == "start_date" ? q.start_text : q.end_text) = *text;
  }
  if (q.end < q.start) {
    out = api_outcome::error(40002, "start_date must not be later than end_date");
    return false;
  }
  if (q.by_day && q.days() > max_days_by_day) {
    out = api_outcome::error(40002, "max time span is 30 days when use stat_time_day");
    return false;
  }
  if (q.by_hour && q.days() > max_days_by_hour) {
    out = api_outcome::error(40002, "max time span is 1 day when use stat_time_hour");
    return false;
  }
  if (q.days() > max_days_otherwise) {
    out = api_outcome::error(40002, "max time span is 365 days");
    return false;
  }
  return true;
}

bool read_order(const request_params& params, report_query& q, api_outcome& out) {
  if (const auto field = params.text("order_field")) {
    const auto* info = find_metric(*field);
    if (info == nullptr || info->attribute ||
        std::find(q.metrics.begin(), q.metrics.end(), *field) == q.metrics.end()) {
      out = invalid_param("order_field", "Must be one of the requested metrics.");
      return false;
    }
    q.order_field = *field;
  }
  if (const auto type = params.text("order_type")) {
    if (*type != "ASC" && *type != "DESC") {
      out = invalid_param("order_type", "Must be one of: ASC, DESC.");
      return false;
    }
    q.ascending = *type == "ASC";
  }
  return true;
}

// Every parameter of a report query, in the order of docs/SANDBOX_API.md
// §4.17; whether the caller reaches the ad account is checked afterwards.
std::optional<report_query> read_report_query(const request_params& params, api_outcome& out) {
  report_query q;
  const auto report_type = params.text("report_type");
  if (!report_type || report_type->empty()) {
    out = missing_param("report_type");
    return std::nullopt;
  }
  if (*report_type != "BASIC") {
    out = invalid_param("report_type", *report_type + " is not supported by unlinkd-sandbox.");
    return std::nullopt;
  }
  const auto advertiser_id = params.text("advertiser_id");
  std::string error;
  if (params.structured("advertiser_ids", error) || !error.empty()) {
    out = invalid_param("advertiser_ids",
                        "Not supported by unlinkd-sandbox; give one advertiser_id.");
    return std::nullopt;
  }
  if (!advertiser_id || advertiser_id->empty()) {
    out = missing_param("advertiser_id");
    return std::nullopt;
  }
  if (!valid_id(*advertiser_id)) {
    out = invalid_param("advertiser_id", "Not a valid ID.");
    return std::nullopt;
  }
  q.advertiser_id = *advertiser_id;
  if (params.text("bc_id")) {
    out = invalid_param("bc_id", "Only with report_type BC.");
    return std::nullopt;
  }
  if (const auto service = params.text("service_type"); service && *service != "AUCTION") {
    out = invalid_param("service_type", "Must be one of: AUCTION.");
    return std::nullopt;
  }
  const auto data_level = params.text("data_level");
  if (!data_level || data_level->empty()) {
    out = missing_param("data_level");
    return std::nullopt;
  }
  for (const auto& l : levels) {
    if (l.data_level == *data_level) {
      q.data_level = &l;
    }
  }
  if (q.data_level == nullptr) {
    out = invalid_param("data_level",
                        "Must be one of: AUCTION_ADVERTISER, AUCTION_CAMPAIGN, AUCTION_ADGROUP, "
                        "AUCTION_AD.");
    return std::nullopt;
  }
  if (!read_dimensions(params, q, out) || !read_metrics(params, q, out) ||
      !read_dates(params, q, out) || !read_order(params, q, out) ||
      !read_filtering(params, q, out)) {
    return std::nullopt;
  }
  if (const auto mode = params.text("query_mode"); mode && *mode != "REGULAR") {
    out = invalid_param("query_mode", "Must be one of: REGULAR.");
    return std::nullopt;
  }
  return q;
}

// A lifetime query covers the account's life: from the day it was created
// to yesterday (UTC), the only part of the sandbox that moves with the clock.
void resolve_lifetime(const advertiser& account, report_query& q) {
  if (!q.lifetime) {
    return;
  }
  q.start = chr::floor<chr::days>(chr::sys_seconds{chr::seconds{account.create_time}});
  q.end = chr::floor<chr::days>(chr::system_clock::now()) - chr::days{1};
}

// ---------------------------------------------------------------------------
// The rows.

// One object of the data level (the ad account itself at AUCTION_ADVERTISER)
// and the ads whose figures add up to its own.
struct report_object {
  std::string id;
  std::string name;
  std::string campaign_id;
  std::string campaign_name;
  std::string adgroup_id;
  std::string adgroup_name;
  std::vector<const ad*> ads;
};

bool wanted(const std::vector<std::string>& ids, const std::string& id) {
  return ids.empty() || std::find(ids.begin(), ids.end(), id) != ids.end();
}

// IDs ascending as numbers: shorter first, then by digits.
bool id_less(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

// The objects of the query's level in ascending ID order; deleted ones (or
// under a deleted parent) only with a *_status filter of STATUS_ALL.
std::vector<report_object> report_objects(const sandbox_state& state, const report_query& q) {
  const auto* account = state.find_advertiser(q.advertiser_id);
  std::unordered_map<std::string_view, const campaign*> campaigns;
  for (const auto& c : state.campaigns) {
    if (c.advertiser_id == q.advertiser_id) {
      campaigns.emplace(c.campaign_id, &c);
    }
  }
  std::unordered_map<std::string_view, const adgroup*> adgroups;
  for (const auto& g : state.adgroups) {
    if (g.advertiser_id == q.advertiser_id) {
      adgroups.emplace(g.adgroup_id, &g);
    }
  }
  const auto deleted = [](const auto& index, const std::string& id) {
    const auto it = index.find(id);
    return it != index.end() && it->second->status == operation_status::del;
  };
  const auto name = [](const auto& index, const std::string& id) {
    const auto it = index.find(id);
    return it == index.end() ? std::string() : it->second->name;
  };

  std::vector<report_object> objects;
  const level lvl = q.data_level->value;
  if (lvl == level::advertiser) {
    objects.push_back(
        {q.advertiser_id, account == nullptr ? std::string() : account->name, {}, {}, {}, {}, {}});
  } else if (lvl == level::campaign) {
    for (const auto& c : state.campaigns) {
      if (c.advertiser_id == q.advertiser_id && wanted(q.campaign_ids, c.campaign_id) &&
          (q.include_deleted || c.status != operation_status::del)) {
        objects.push_back({c.campaign_id, c.name, c.campaign_id, c.name, {}, {}, {}});
      }
    }
  } else if (lvl == level::adgroup) {
    for (const auto& g : state.adgroups) {
      if (g.advertiser_id == q.advertiser_id && wanted(q.campaign_ids, g.campaign_id) &&
          wanted(q.adgroup_ids, g.adgroup_id) &&
          (q.include_deleted ||
           (g.status != operation_status::del && !deleted(campaigns, g.campaign_id)))) {
        objects.push_back({g.adgroup_id,
                           g.name,
                           g.campaign_id,
                           name(campaigns, g.campaign_id),
                           g.adgroup_id,
                           g.name,
                           {}});
      }
    }
  } else {
    for (const auto& a : state.ads) {
      if (a.advertiser_id == q.advertiser_id && wanted(q.campaign_ids, a.campaign_id) &&
          wanted(q.adgroup_ids, a.adgroup_id) && wanted(q.ad_ids, a.ad_id) &&
          (q.include_deleted ||
           (a.status != operation_status::del && !deleted(campaigns, a.campaign_id) &&
            !deleted(adgroups, a.adgroup_id)))) {
        objects.push_back({a.ad_id,
                           a.name,
                           a.campaign_id,
                           name(campaigns, a.campaign_id),
                           a.adgroup_id,
                           name(adgroups, a.adgroup_id),
                           {}});
      }
    }
  }
  std::sort(objects.begin(), objects.end(),
            [](const report_object& a, const report_object& b) { return id_less(a.id, b.id); });
  std::unordered_map<std::string_view, std::size_t> index;  // object ID -> position
  for (std::size_t i = 0; i < objects.size(); ++i) {
    index.emplace(objects[i].id, i);
  }
  // Every ad of the account counts towards its ad group, campaign and the
  // account, deleted or not: what was spent was spent.
  for (const auto& a : state.ads) {
    if (a.advertiser_id != q.advertiser_id) {
      continue;
    }
    const std::string& key = lvl == level::advertiser ? a.advertiser_id
                             : lvl == level::campaign ? a.campaign_id
                             : lvl == level::adgroup  ? a.adgroup_id
                                                      : a.ad_id;
    if (const auto it = index.find(key); it != index.end()) {
      objects[it->second].ads.push_back(&a);
    }
  }
  return objects;
}

// A time slot of the rows: a day, an hour of a day, or the whole range.
struct slot {
  chr::sys_days from;
  chr::sys_days to;
  std::optional<unsigned> hour;
};

std::vector<slot> slots_of(const report_query& q) {
  std::vector<slot> slots;
  if (q.by_hour) {
    for (unsigned h = 0; h < 24; ++h) {
      slots.push_back({q.start, q.start, h});
    }
  } else if (q.by_day) {
    for (auto day = q.start; day <= q.end; day += chr::days{1}) {
      slots.push_back({day, day, std::nullopt});
    }
  } else {
    slots.push_back({q.start, q.end, std::nullopt});
  }
  return slots;
}

totals sum(const report_query& q, const std::vector<const ad*>& ads, const slot& s) {
  totals t;
  for (auto day = s.from; day <= s.to; day += chr::days{1}) {
    const std::int64_t n = day.time_since_epoch().count();
    for (const ad* a : ads) {
      t.add(s.hour ? ad_hour(q.advertiser_id, a->ad_id, n, *s.hour)
                   : ad_day(q.advertiser_id, a->ad_id, n));
    }
  }
  return t;
}

std::string metric_value(std::string_view name, const totals& t) {
  if (!t.any) {
    return "-";
  }
  const double spend = static_cast<double>(t.spend_cents) / 100.0;
  if (name == "spend") {
    return money(t.spend_cents);
  }
  if (name == "impressions") {
    return std::to_string(t.impressions);
  }
  if (name == "reach") {
    return std::to_string(t.reach);
  }
  if (name == "clicks") {
    return std::to_string(t.clicks);
  }
  if (name == "conversion") {
    return std::to_string(t.conversion);
  }
  if (name == "ctr") {
    return ratio(static_cast<double>(t.clicks), t.impressions, 100.0);
  }
  if (name == "cpc") {
    return ratio(spend, t.clicks, 1.0);
  }
  if (name == "cpm") {
    return ratio(spend, t.impressions, 1000.0);
  }
  if (name == "cost_per_conversion") {
    return ratio(spend, t.conversion, 1.0);
  }
  return ratio(static_cast<double>(t.conversion), t.clicks, 100.0);  // conversion_rate
}

json::object metrics_of(const report_query& q, const advertiser& account,
                        const report_object* object, const totals& t) {
  json::object metrics;
  for (const auto& m : q.metrics) {
    if (!find_metric(m)->attribute) {
      metrics[m] = metric_value(m, t);
    } else if (m == "advertiser_name") {
      metrics[m] = account.name;
    } else if (m == "currency") {
      metrics[m] = account.currency;
    } else if (object != nullptr) {
      metrics[m] = m == "campaign_name"  ? object->campaign_name
                   : m == "campaign_id"  ? object->campaign_id
                   : m == "adgroup_name" ? object->adgroup_name
                   : m == "adgroup_id"   ? object->adgroup_id
                                         : object->name;
    }
  }
  return metrics;
}

// The rows of a query: per object (ID ascending) and time slot (ascending),
// or per time slot over every object; ordered by `order_field` when given
// (stable, "-" below every number).
struct report_rows {
  std::uint64_t total = 0;
  json::array list;  // the asked page
};

report_rows rows_of(const sandbox_state& state, const report_query& q, const paging& p) {
  const auto& account = *state.find_advertiser(q.advertiser_id);
  const auto objects = report_objects(state, q);
  const auto slots = slots_of(q);
  std::vector<const ad*> all_ads;
  if (!q.by_object) {
    for (const auto& o : objects) {
      all_ads.insert(all_ads.end(), o.ads.begin(), o.ads.end());
    }
  }
  report_rows rows;
  rows.total = (q.by_object ? objects.size() : 1) * slots.size();
  const auto row = [&](std::uint64_t i) {
    const report_object* object = q.by_object ? &objects[i / slots.size()] : nullptr;
    const slot& s = slots[i % slots.size()];
    json::object dimensions;
    for (const auto& d : q.dimensions) {
      dimensions[d] =
          d == q.data_level->id_dimension ? object->id : time_text(s.from, s.hour.value_or(0));
    }
    const totals t = sum(q, object != nullptr ? object->ads : all_ads, s);
    return json::object{{"dimensions", std::move(dimensions)},
                        {"metrics", metrics_of(q, account, object, t)}};
  };
  const std::uint64_t first = (p.page - 1) * p.page_size;
  const std::uint64_t last = std::min(rows.total, first + p.page_size);
  if (!q.order_field) {
    for (std::uint64_t i = first; i < last; ++i) {
      rows.list.push_back(row(i));
    }
    return rows;
  }
  std::vector<std::pair<double, json::object>> all;
  for (std::uint64_t i = 0; i < rows.total; ++i) {
    auto r = row(i);
    const auto& v = r.at("metrics").at(*q.order_field).as_string();
    all.emplace_back(v == "-" ? -1.0 : std::stod(std::string(v)), std::move(r));
  }
  std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
    return q.ascending ? a.first < b.first : a.first > b.first;
  });
  for (std::uint64_t i = first; i < last; ++i) {
    rows.list.push_back(std::move(all[i].second));
  }
  return rows;
}

// ---------------------------------------------------------------------------
// The endpoints.

api_outcome report_integrated_get(api_call& call) {
  api_outcome out;
  auto q = read_report_query(call.params, out);
  if (!q) {
    return out;
  }
  bool with_totals = false;
  if (!read_flag(call.params, "enable_total_metrics", with_totals, out)) {
    return out;
  }
  const auto p = read_paging(call.params, 1000, out);
  if (!p) {
    return out;
  }
  if (auto refused = advertiser_refusal(call, q->advertiser_id)) {
    return *refused;
  }
  resolve_lifetime(*call.state.find_advertiser(q->advertiser_id), *q);
  auto rows = rows_of(call.state, *q, *p);
  json::object data{{"list", std::move(rows.list)}, {"page_info", page_info(*p, rows.total)}};
  if (with_totals) {
    totals t;
    for (const auto& o : report_objects(call.state, *q)) {
      t.add(sum(*q, o.ads, {q->start, q->end, std::nullopt}));
    }
    json::object metrics;
    for (const auto& m : q->metrics) {
      if (!find_metric(m)->attribute) {
        metrics[m] = metric_value(m, t);
      }
    }
    data["total_metrics"] = std::move(metrics);
  }
  return api_outcome::ok(std::move(data));
}

// Task IDs: 73 (a kind no other ID uses), the five seed digits every ID of
// a generated world carries, and the task's number.
std::string next_task_id(const sandbox_state& state) {
  std::string seed = "00000";
  if (!state.apps.empty() && state.apps[0].app_id.size() == 19) {
    seed = state.apps[0].app_id.substr(2, 5);
  }
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "73%s%012llu", seed.c_str(),
                static_cast<unsigned long long>(state.report_tasks.size()) + 1ULL);
  return buffer;
}

// The body a task keeps: its query, such that it reads back the same.
std::string stored_query(const report_query& q) {
  json::array dimensions(q.dimensions.begin(), q.dimensions.end());
  json::array metrics(q.metrics.begin(), q.metrics.end());
  json::object query{{"advertiser_id", q.advertiser_id},
                     {"report_type", "BASIC"},
                     {"data_level", q.data_level->data_level},
                     {"dimensions", std::move(dimensions)},
                     {"metrics", std::move(metrics)}};
  if (q.lifetime) {
    query["query_lifetime"] = true;
  } else {
    query["start_date"] = q.start_text;
    query["end_date"] = q.end_text;
  }
  if (q.order_field) {
    query["order_field"] = *q.order_field;
    query["order_type"] = q.ascending ? "ASC" : "DESC";
  }
  if (!q.filtering.is_null()) {
    query["filtering"] = q.filtering;
  }
  return json::serialize(query);
}

api_outcome report_task_create(api_call& call) {
  api_outcome out;
  const auto q = read_report_query(call.params, out);
  if (!q) {
    return out;
  }
  report_task task;
  task.advertiser_id = q->advertiser_id;
  if (const auto format = call.params.text("output_format")) {
    if (*format == "XLSX_DOWNLOAD") {
      return invalid_param("output_format", "XLSX_DOWNLOAD is not supported by unlinkd-sandbox.");
    }
    if (*format != "CSV_STRING" && *format != "CSV_DOWNLOAD") {
      return invalid_param("output_format",
                           "Must be one of: CSV_STRING, CSV_DOWNLOAD, XLSX_DOWNLOAD.");
    }
    task.output_format = *format;
  }
  const auto file_name = call.params.text("file_name");
  if (file_name && file_name->size() > 255) {
    return invalid_param("file_name", "Longer than maximum length 255.");
  }
  bool translate = false;
  if (!read_flag(call.params, "enable_report_title_translation", translate, out)) {
    return out;
  }
  if (auto refused = advertiser_refusal(call, q->advertiser_id)) {
    return *refused;
  }
  task.task_id = next_task_id(call.state);
  const bool unnamed = !file_name || file_name->find_first_not_of(' ') == std::string::npos;
  task.file_name = unnamed ? task.task_id + ".csv" : *file_name;
  task.query = stored_query(*q);
  call.state.report_tasks.push_back(task);
  return api_outcome::ok(json::object{{"task_id", task.task_id}});
}

// The task a check, download or cancel names: 40002 when advertiser_id or
// task_id is missing or not an ID, 40001 when the caller does not reach the
// ad account, 40002 "does not exist" when that ad account has no such task.
report_task* named_task(api_call& call, api_outcome& out) {
  std::optional<std::string> ids[2];
  const std::array<const char*, 2> names{"advertiser_id", "task_id"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    ids[i] = call.params.text(names[i]);
    if (!ids[i] || ids[i]->empty()) {
      out = missing_param(names[i]);
      return nullptr;
    }
    if (!valid_id(*ids[i])) {
      out = invalid_param(names[i], "Not a valid ID.");
      return nullptr;
    }
  }
  const std::string& advertiser_id = *ids[0];
  const std::string& task_id = *ids[1];
  if (auto refused = advertiser_refusal(call, advertiser_id)) {
    out = *refused;
    return nullptr;
  }
  for (auto& t : call.state.report_tasks) {
    if (t.task_id == task_id && t.advertiser_id == advertiser_id) {
      return &t;
    }
  }
  out = api_outcome::error(40002, "Task " + task_id + " does not exist.");
  return nullptr;
}

bool running(const report_task& t) { return t.status == "QUEUING" || t.status == "PROCESSING"; }

// Each check moves a running task on: the first answers QUEUING, the second
// PROCESSING, the third and later SUCCESS. Never 40201: the state is data.
api_outcome report_task_check(api_call& call) {
  api_outcome out;
  auto* task = named_task(call, out);
  if (task == nullptr) {
    return out;
  }
  ++task->checks;
  if (running(*task)) {
    task->status = task->checks <= 1 ? "QUEUING" : task->checks == 2 ? "PROCESSING" : "SUCCESS";
  }
  json::object data{{"status", task->status}};
  if (task->status == "FAILED") {
    data["message"] = "The report could not be generated.";
  }
  return api_outcome::ok(std::move(data));
}

api_outcome report_task_download(api_call& call) {
  api_outcome out;
  const auto* task = named_task(call, out);
  if (task == nullptr) {
    return out;
  }
  if (running(*task)) {
    return api_outcome::error(40201, "Task is not ready, please try again later.");
  }
  if (task->status == "CANCELED") {
    return invalid_param("task_id", "Task " + task->task_id + " was canceled; it has no file.");
  }
  if (task->status != "SUCCESS") {
    return api_outcome::error(40200, "Task failed: the report could not be generated.");
  }
  const std::string base = call.state.base_url.empty() ? "http://127.0.0.1" : call.state.base_url;
  return api_outcome::ok(
      json::object{{"download_url", base + "/_sandbox/report-files/" + task->task_id},
                   {"file_name", task->file_name},
                   {"output_format", task->output_format}});
}

// A running task becomes CANCELED; canceling it again answers the same; a
// finished one cannot be canceled (40002).
api_outcome report_task_cancel(api_call& call) {
  api_outcome out;
  auto* task = named_task(call, out);
  if (task == nullptr) {
    return out;
  }
  if (running(*task)) {
    task->status = "CANCELED";
  }
  if (task->status != "CANCELED") {
    return invalid_param("task_id", "Task " + task->task_id + " has already finished (" +
                                        task->status + ") and cannot be canceled.");
  }
  return api_outcome::ok(json::object{{"status", "CANCELED"}});
}

constexpr std::array<endpoint, 5> reports{{
    {"/report/integrated/get/", http_method::get, report_integrated_get},
    {"/report/task/create/", http_method::post, report_task_create},
    {"/report/task/check/", http_method::get, report_task_check},
    {"/report/task/download/", http_method::get, report_task_download},
    {"/report/task/cancel/", http_method::post, report_task_cancel},
}};

}  // namespace

std::span<const endpoint> report_endpoints() { return reports; }

}  // namespace unlinkd::sandbox
