// The schema's life: created fresh, upgraded from every earlier version with
// the data kept, refused when newer than this binary, checked for integrity.

#include "store/schema.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "store/sqlite_database.hpp"
#include "tests/store/store_test_support.hpp"

namespace unlinkd::store::test {
namespace {

std::int64_t user_version(const std::string& path) {
  auto db = sqlite::database::open(path, sqlite::database::mode::read_only);
  EXPECT_TRUE(db);
  return db->query_int("PRAGMA user_version").value();
}

// A database left at `version`, holding one batch with two accounts and an
// event, written with the statements of that version.
void make_database_at(const std::string& path, std::int64_t version) {
  auto db = sqlite::database::open(path, sqlite::database::mode::read_write_create).value();
  ASSERT_TRUE(schema::configure(db, 1000));
  ASSERT_TRUE(schema::migrate(db, version));
  if (version == 0) {
    return;
  }
  ASSERT_TRUE(db.exec(R"sql(
    INSERT INTO batches (id, name, manifest_sha256, source_file, submitter_uid, requested_by,
      credentials, business_center_id, action, dry_run, notify, state, created_at)
    VALUES (1, 'old-batch', 'abc', 'old.yaml', 1000, '', 'acme-bc', '7012345678901234567',
      'unlink', 0, '', 'running', 1000);
    INSERT INTO manifests VALUES ('abc', 1, 'old.yaml', 1000, 1000);
    INSERT INTO accounts (batch_id, account_id, type, label, mode, partner_id, members,
      advertiser_id, active_campaigns, backup_required, reports_since, reports_until,
      verify_deadline_ms, state, step, next_attempt_at, updated_at)
    VALUES (1, '7100000000000000001', 'advertiser', '', 'partner_share', '7099', '', '', 'fail',
      1, '2025-01-01', '2025-12-31', 1800000, 'backup', 'backup', 0, 0),
           (1, '7100000000000000002', 'advertiser', '', 'partner_share', '7099', '', '', 'fail',
      1, '2025-01-01', '2025-12-31', 1800000, 'done', 'verify', 0, 0);
    INSERT INTO events (at, batch_id, account_id, kind) VALUES (1000, 1, '', 'batch_accepted');
  )sql"));
}

TEST(store_schema, a_new_file_gets_the_latest_schema_in_wal_mode) {
  temp_dir dir;
  captured_log log;
  const auto path = dir.file("unlinkd.db");
  {
    auto s = open_store(path, *log.logger);
    EXPECT_TRUE(s->counts().empty());
  }
  EXPECT_EQ(user_version(path), schema::latest_version);
  auto db = sqlite::database::open(path, sqlite::database::mode::read_only).value();
  auto mode = db.prepare("PRAGMA journal_mode").value();
  ASSERT_TRUE(sqlite::is_row(mode.step()));
  EXPECT_EQ(mode.column_text(0), "wal");
}

TEST(store_schema, every_earlier_version_is_upgraded_and_keeps_its_data) {
  for (std::int64_t from = 0; from < schema::latest_version; ++from) {
    SCOPED_TRACE("from version " + std::to_string(from));
    temp_dir dir;
    captured_log log;
    const auto path = dir.file("unlinkd.db");
    make_database_at(path, from);
    ASSERT_EQ(user_version(path), from);
    {
      boost::asio::io_context io;
      auto s = open_store(path, *log.logger);
      EXPECT_EQ(s->counts(), full_count(path));
      if (from > 0) {
        const count_map expected = {{{1, account_state::backup, pipeline_step::backup}, 1},
                                    {{1, account_state::done, pipeline_step::verify}, 1}};
        EXPECT_EQ(s->counts(), expected);
        auto a = run(io, s->find_account(1, "7100000000000000001")).value();
        ASSERT_TRUE(a);
        EXPECT_EQ(a->state, account_state::backup);
        EXPECT_EQ(a->settings.backup.reports_until,
                  std::chrono::year{2025} / std::chrono::December / std::chrono::day{31});
        // The new version's tables work on the upgraded file.
        ASSERT_TRUE(run(io, s->hold_credential({"acme-bc", "token revoked", 0})));
        ASSERT_TRUE(run(io, s->record_reads({1, "7100000000000000001", pipeline_step::backup, 3})));
        auto holds = run(io, s->credential_holds()).value();
        ASSERT_EQ(holds.size(), 1U);
        EXPECT_EQ(holds[0].profile, "acme-bc");
      }
    }
    EXPECT_EQ(user_version(path), schema::latest_version);
    EXPECT_EQ(check_integrity(path).value(), "ok");
  }
}

TEST(store_schema, a_newer_schema_is_refused_and_left_untouched) {
  temp_dir dir;
  captured_log log;
  const auto path = dir.file("unlinkd.db");
  {
    auto db = sqlite::database::open(path, sqlite::database::mode::read_write_create).value();
    ASSERT_TRUE(schema::migrate(db));
    ASSERT_TRUE(db.exec("PRAGMA user_version=" + std::to_string(schema::latest_version + 1)));
  }
  auto s = store::open(path, {}, *log.logger);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, store_errc::newer_schema);
  EXPECT_NE(s.error().message.find("schema version " + std::to_string(schema::latest_version + 1)),
            std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("newer unlinkd"), std::string::npos) << s.error().message;
  EXPECT_EQ(user_version(path), schema::latest_version + 1);
}

TEST(store_schema, a_file_that_is_not_a_database_is_refused_with_a_message) {
  temp_dir dir;
  captured_log log;
  const auto path = dir.file("unlinkd.db");
  std::ofstream(path) << std::string(8192, 'x');
  auto s = store::open(path, {}, *log.logger);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("not a database"), std::string::npos) << s.error().message;
}

TEST(store_schema, a_missing_directory_cannot_be_opened) {
  temp_dir dir;
  captured_log log;
  auto s = store::open(dir.file("no/such/dir/unlinkd.db"), {}, *log.logger);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, store_errc::cannot_open);
  EXPECT_NE(s.error().message.find("no/such/dir/unlinkd.db"), std::string::npos);
}

TEST(store_schema, integrity_check_reports_ok_and_finds_damage) {
  temp_dir dir;
  captured_log log;
  const auto path = dir.file("unlinkd.db");
  {
    auto s = open_store(path, *log.logger);
    ASSERT_TRUE(s->ingest_blocking(make_request(make_manifest("b1", 2000))));
  }
  EXPECT_EQ(check_integrity(path).value(), "ok");
  EXPECT_FALSE(check_integrity(dir.file("missing.db")));

  // Overwrite a page in the middle of the file (the accounts' index pages):
  // the check must say something other than "ok".
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(path) / 2));
    const std::string junk(4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto damaged = check_integrity(path);
  // Either the check lists problems or SQLite refuses the file outright.
  if (damaged) {
    EXPECT_NE(*damaged, "ok");
  } else {
    EXPECT_FALSE(damaged.error().message.empty());
  }
}

}  // namespace
}  // namespace unlinkd::store::test
