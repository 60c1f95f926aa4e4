#include "tests/store/store_test_support.hpp"

#include <cstdlib>
#include <stdexcept>

#include "store/account_state.hpp"
#include "store/sqlite_database.hpp"

namespace unlinkd::store::test {

temp_dir::temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "unlinkd-store-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

captured_log::captured_log()
    : stream(std::make_shared<std::ostringstream>()),
      logger(std::make_shared<spdlog::logger>(
          "store-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(*stream))) {
  logger->set_level(spdlog::level::debug);
}

config::manifest make_manifest(const std::string& batch, std::size_t n, std::uint64_t first_id) {
  using namespace std::chrono;
  config::manifest m;
  m.batch = batch;
  m.credentials = "acme-bc";
  m.business_center_id = "7012345678901234567";
  m.requested_by = "ops@agency.example";
  m.notify = {"https://hooks.agency.example/a?x=1,2", "https://hooks.agency.example/b"};
  m.concurrency = 16;
  m.retry.max_attempts = 8;
  m.retry.initial_backoff = milliseconds{2000};
  m.accounts.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    config::account a;
    a.id = std::to_string(first_id + i);
    a.type = config::account_type::advertiser;
    a.label = "Acme #" + std::to_string(i);
    a.mode = config::unlink_mode::partner_share;
    a.partner_id = "7099999999999999999";
    a.active_campaigns = config::campaign_policy::pause;
    a.backup.required = true;
    a.backup.reports_since = year{2025} / January / day{1};
    a.backup.reports_until = year{2026} / October / day{31};
    m.accounts.push_back(std::move(a));
  }
  return m;
}

ingest_request make_request(config::manifest m, const std::string& sha256) {
  ingest_request r;
  r.sha256 = sha256.empty() ? "sha-of-" + m.batch : sha256;
  r.source_file = m.batch + ".yaml";
  r.submitter_uid = 1000;
  r.manifest = std::move(m);
  return r;
}

count_map full_count(const std::string& db_path) {
  auto db = sqlite::database::open(db_path, sqlite::database::mode::read_only);
  if (!db) {
    throw std::runtime_error(db.error().message);
  }
  auto s = db->prepare(
      "SELECT batch_id, state, step, count(*) FROM accounts NOT INDEXED "
      "GROUP BY batch_id, state, step");
  if (!s) {
    throw std::runtime_error(s.error().message);
  }
  count_map out;
  while (sqlite::is_row(s->step())) {
    out[count_key{s->column_int(0), *account_state_from_string(s->column_text(1)),
                  *pipeline_step_from_string(s->column_text(2))}] = s->column_int(3);
  }
  return out;
}

std::unique_ptr<store> open_store(const std::string& path, spdlog::logger& log,
                                  store_options options) {
  auto s = store::open(path, std::move(options), log);
  if (!s) {
    throw std::runtime_error("cannot open the store: " + s.error().message);
  }
  return std::move(*s);
}

}  // namespace unlinkd::store::test
