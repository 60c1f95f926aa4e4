#include "store/account_row.hpp"

#include <charconv>

namespace unlinkd::store::rows {
namespace {

template <class Enum, std::size_t N>
Enum parse_enum(std::string_view text, const Enum (&values)[N], Enum fallback) {
  for (auto v : values) {
    if (config::to_string(v) == text) {
      return v;
    }
  }
  return fallback;
}

constexpr config::account_type account_types[] = {config::account_type::advertiser,
                                                  config::account_type::tiktok_account};
constexpr config::unlink_mode unlink_modes[] = {
    config::unlink_mode::partner_share, config::unlink_mode::member_access,
    config::unlink_mode::bc_asset, config::unlink_mode::tiktok_binding};
constexpr config::campaign_policy campaign_policies[] = {
    config::campaign_policy::pause, config::campaign_policy::fail, config::campaign_policy::ignore};
constexpr config::batch_action batch_actions[] = {config::batch_action::unlink,
                                                  config::batch_action::pause};

std::chrono::year_month_day parse_date(std::string_view text) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  if (text.size() == 10) {
    std::from_chars(text.data(), text.data() + 4, y);
    std::from_chars(text.data() + 5, text.data() + 7, m);
    std::from_chars(text.data() + 8, text.data() + 10, d);
  }
  return std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m},
                                     std::chrono::day{d}};
}

std::optional<time_point> optional_time(const sqlite::statement& s, int index) {
  if (s.column_is_null(index)) {
    return std::nullopt;
  }
  return from_ms(s.column_int(index));
}

}  // namespace

std::int64_t to_ms(time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

time_point from_ms(std::int64_t ms) {
  return time_point{
      std::chrono::duration_cast<time_point::duration>(std::chrono::milliseconds{ms})};
}

std::string join_ids(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) {
    if (!out.empty()) {
      out += ',';
    }
    out += id;
  }
  return out;
}

std::vector<std::string> split_ids(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string to_text(std::chrono::year_month_day d) {
  char buf[16];
  const auto n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                               static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return {buf, static_cast<std::size_t>(n)};
}

const std::string_view account_columns =
    "a.batch_id, a.account_id, a.type, a.label, a.mode, a.partner_id, a.members, "
    "a.advertiser_id, a.active_campaigns, a.backup_required, a.reports_since, a.reports_until, "
    "a.verify_deadline_ms, a.state, a.step, a.attempts, a.next_attempt_at, a.last_error_code, "
    "a.last_error_message, a.last_error_request_id, a.backup_folder, a.backup_digest, "
    "a.campaigns_to_pause, a.campaigns_paused, a.unlink_intent_at, a.unlink_sent_at, "
    "a.unlink_sends, a.api_calls, a.started_at, a.ended_at, a.plan_action, a.plan_api_calls, "
    "a.plan_time_ms";

account_record read_account(const sqlite::statement& s, int first) {
  int i = first;
  account_record r;
  r.batch_id = s.column_int(i++);
  auto& a = r.settings;
  a.id = s.column_text(i++);
  a.type = parse_enum(s.column_text(i++), account_types, config::account_type::advertiser);
  a.label = s.column_text(i++);
  if (!s.column_is_null(i)) {
    a.mode = parse_enum(s.column_text(i), unlink_modes, config::unlink_mode::partner_share);
  }
  ++i;
  a.partner_id = s.column_text(i++);
  a.members = split_ids(s.column_text(i++));
  a.advertiser_id = s.column_text(i++);
  a.active_campaigns =
      parse_enum(s.column_text(i++), campaign_policies, config::campaign_policy::fail);
  a.backup.required = s.column_int(i++) != 0;
  a.backup.reports_since = parse_date(s.column_text(i++));
  a.backup.reports_until = parse_date(s.column_text(i++));
  a.verify_deadline = std::chrono::milliseconds{s.column_int(i++)};
  r.state = account_state_from_string(s.column_text(i++)).value_or(account_state::needs_attention);
  r.step = pipeline_step_from_string(s.column_text(i++)).value_or(pipeline_step::preflight);
  r.attempts = static_cast<std::uint32_t>(s.column_int(i++));
  r.next_attempt_at = from_ms(s.column_int(i++));
  if (!s.column_is_null(i)) {
    r.last_error = account_error{s.column_int(i), s.column_text(i + 1), s.column_text(i + 2)};
  }
  i += 3;
  if (!s.column_is_null(i)) {
    r.backup = backup_record{s.column_text(i), s.column_text(i + 1)};
  }
  i += 2;
  r.campaigns_to_pause = split_ids(s.column_text(i++));
  r.campaigns_paused = split_ids(s.column_text(i++));
  r.unlink_intent_at = optional_time(s, i++);
  r.unlink_sent_at = optional_time(s, i++);
  r.unlink_sends = static_cast<std::uint32_t>(s.column_int(i++));
  r.api_calls = static_cast<std::uint64_t>(s.column_int(i++));
  r.started_at = optional_time(s, i++);
  r.ended_at = optional_time(s, i++);
  if (!s.column_is_null(i)) {
    r.plan = account_plan{s.column_text(i), static_cast<std::uint32_t>(s.column_int(i + 1)),
                          std::chrono::milliseconds{s.column_int(i + 2)}};
  }
  return r;  // the plan's three columns are the last
}

const std::string_view batch_columns =
    "b.id, b.name, b.manifest_sha256, b.source_file, b.submitter_uid, b.requested_by, "
    "b.credentials, b.business_center_id, b.action, b.dry_run, b.notify, b.concurrency, "
    "b.max_attempts, b.initial_backoff_ms, b.max_backoff_ms, b.state, b.state_reason, "
    "b.created_at, b.finished_at";

batch_record read_batch(const sqlite::statement& s, int first) {
  int i = first;
  batch_record b;
  b.id = s.column_int(i++);
  b.name = s.column_text(i++);
  b.manifest_sha256 = s.column_text(i++);
  b.source_file = s.column_text(i++);
  b.submitter_uid = static_cast<std::uint32_t>(s.column_int(i++));
  b.requested_by = s.column_text(i++);
  b.credentials = s.column_text(i++);
  b.business_center_id = s.column_text(i++);
  b.action = parse_enum(s.column_text(i++), batch_actions, config::batch_action::unlink);
  b.dry_run = s.column_int(i++) != 0;
  // Webhook URLs may contain commas, so they are stored one per line.
  const std::string notify = s.column_text(i++);
  std::string_view rest = notify;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    b.notify.emplace_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(nl + 1);
  }
  if (auto c = s.column_optional_int(i++)) {
    b.concurrency = static_cast<std::uint32_t>(*c);
  }
  if (auto m = s.column_optional_int(i++)) {
    b.retry.max_attempts = static_cast<std::uint32_t>(*m);
  }
  if (auto v = s.column_optional_int(i++)) {
    b.retry.initial_backoff = std::chrono::milliseconds{*v};
  }
  if (auto v = s.column_optional_int(i++)) {
    b.retry.max_backoff = std::chrono::milliseconds{*v};
  }
  b.state = batch_state_from_string(s.column_text(i++)).value_or(batch_state::paused);
  b.state_reason = s.column_text(i++);
  b.created_at = from_ms(s.column_int(i++));
  b.finished_at = optional_time(s, i++);
  return b;
}

const std::string_view event_columns =
    "e.seq, e.at, e.batch_id, e.account_id, e.uid, e.kind, e.from_state, e.to_state, e.step, "
    "e.detail";

event_record read_event(const sqlite::statement& s, int first) {
  int i = first;
  event_record e;
  e.seq = s.column_int(i++);
  e.at = from_ms(s.column_int(i++));
  e.batch_id = s.column_optional_int(i++);
  e.account_id = s.column_text(i++);
  if (auto uid = s.column_optional_int(i++)) {
    e.uid = static_cast<std::uint32_t>(*uid);
  }
  e.kind = s.column_text(i++);
  e.from_state = s.column_text(i++);
  e.to_state = s.column_text(i++);
  e.step = s.column_text(i++);
  e.detail = s.column_text(i++);
  return e;
}

}  // namespace unlinkd::store::rows
