// The inbox (PRODUCT.md §7) on real folders, files and inotify: a dropped
// manifest is stored and moved to accepted/; every kind of rejection leaves
// the file and its reasons in rejected/; nothing is ever deleted; a crash
// between claim and move recovers; a file written slowly is not read early.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/inbox_watcher.hpp"
#include "daemon/manifest_intake.hpp"

namespace unlinkd::daemon {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace std::chrono_literals;

std::string manifest_text(const std::string& batch,
                          const std::string& account = "7123456789012345678") {
  return "version: 1\nbatch: " + batch +
         "\ncredentials: acme-bc\nbusiness_center_id: \"7012345678901234567\"\n"
         "defaults:\n  unlink: partner_share\n  partner_id: \"7099999999999999999\"\n"
         "accounts:\n  - id: \"" +
         account + "\"\n    type: advertiser\n";
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class inbox_test : public ::testing::Test {
 protected:
  inbox_test() {
    std::string pattern = (fs::temp_directory_path() / "unlinkd-inbox-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    root_ = pattern;
    layout_ = {root_ / "state", root_ / "state" / "inbox"};
    EXPECT_TRUE(prepare(layout_).has_value());
    auto s = store::store::open(layout_.database().string(), {}, log_);
    EXPECT_TRUE(s.has_value());
    store_ = std::move(*s);
    intake_ = std::make_unique<manifest_intake>(layout_, intake_limits{4096, 100}, *store_, nullptr,
                                                log_);
  }
  ~inbox_test() override {
    intake_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

 public:
  inbox_test(const inbox_test&) = delete;
  inbox_test& operator=(const inbox_test&) = delete;

 protected:
  void drop(const std::string& name, const std::string& text) {
    const auto staging = root_ / ("staging-" + name);
    std::ofstream(staging) << text;
    fs::rename(staging, layout_.inbox_dir / name);
  }

  std::size_t batches() {
    std::size_t n = 0;
    for (const auto& [key, count] : store_->counts()) {
      n += static_cast<std::size_t>(count);
    }
    return n;  // accounts, one per test manifest
  }

  fs::path root_;
  state_layout layout_;
  spdlog::logger log_{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  std::unique_ptr<store::store> store_;
  std::unique_ptr<manifest_intake> intake_;
};

TEST_F(inbox_test, a_valid_manifest_is_stored_and_moved_to_accepted) {
  drop("acme.yaml", manifest_text("acme-1"));
  const auto r = intake_->take("acme.yaml");
  EXPECT_EQ(r.verdict, intake_verdict::accepted) << r.reason;
  EXPECT_TRUE(r.batch_id.has_value());
  EXPECT_TRUE(fs::exists(layout_.accepted() / "acme.yaml"));
  EXPECT_FALSE(fs::exists(layout_.inbox_dir / "acme.yaml"));
  EXPECT_TRUE(fs::is_empty(layout_.processing()));
  EXPECT_EQ(batches(), 1U);
}

TEST_F(inbox_test, an_invalid_manifest_is_rejected_with_its_positions) {
  drop("bad.yaml", "version: 1\nbatch: Bad Name\n");
  const auto r = intake_->take("bad.yaml");
  EXPECT_EQ(r.verdict, intake_verdict::rejected);
  EXPECT_TRUE(fs::exists(layout_.rejected() / "bad.yaml"));
  const auto text = read(layout_.rejected() / "bad.yaml.error.txt");
  EXPECT_NE(text.find("bad.yaml:2:8: error: batch"), std::string::npos) << text;
  const auto json = boost::json::parse(read(layout_.rejected() / "bad.yaml.error.json"));
  EXPECT_EQ(json.at("file").as_string(), "bad.yaml");
  bool batch_problem_listed = false;
  for (const auto& p : json.at("problems").as_array()) {
    batch_problem_listed =
        batch_problem_listed || (p.at("line").as_int64() == 2 && p.at("column").as_int64() == 8);
  }
  EXPECT_TRUE(batch_problem_listed) << json;
  EXPECT_EQ(batches(), 0U) << "nothing half-stored";
}

TEST_F(inbox_test, symlinks_fifos_directories_and_oversized_files_are_rejected_never_deleted) {
  std::ofstream(root_ / "target.yaml") << manifest_text("linked");
  fs::create_symlink(root_ / "target.yaml", layout_.inbox_dir / "link.yaml");
  ASSERT_EQ(::mkfifo((layout_.inbox_dir / "pipe.yaml").c_str(), 0600), 0);
  fs::create_directory(layout_.inbox_dir / "folder.yaml");
  drop("huge.yaml", manifest_text("huge") + std::string(5000, '#'));
  for (const auto* name : {"link.yaml", "pipe.yaml", "folder.yaml", "huge.yaml"}) {
    const auto r = intake_->take(name);
    EXPECT_EQ(r.verdict, intake_verdict::rejected) << name;
    EXPECT_TRUE(fs::exists(fs::symlink_status(layout_.rejected() / name))) << name;
    EXPECT_TRUE(fs::exists(layout_.rejected() / (std::string(name) + ".error.txt"))) << name;
  }
  EXPECT_NE(read(layout_.rejected() / "link.yaml.error.txt").find("symbolic link"),
            std::string::npos);
  EXPECT_NE(read(layout_.rejected() / "pipe.yaml.error.txt").find("FIFO"), std::string::npos);
  EXPECT_NE(read(layout_.rejected() / "huge.yaml.error.txt").find("max_manifest_bytes"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(root_ / "target.yaml")) << "the link's target is untouched";
  EXPECT_EQ(batches(), 0U);
}

TEST_F(inbox_test, the_same_content_twice_is_accepted_once) {
  drop("a.yaml", manifest_text("twice"));
  EXPECT_EQ(intake_->take("a.yaml").verdict, intake_verdict::accepted);
  drop("a.yaml", manifest_text("twice"));  // the same name and bytes again
  const auto r = intake_->take("a.yaml");
  EXPECT_EQ(r.verdict, intake_verdict::rejected);
  EXPECT_NE(r.reason.find("already accepted as batch 'twice'"), std::string::npos) << r.reason;
  EXPECT_TRUE(fs::exists(layout_.accepted() / "a.yaml"));
  EXPECT_TRUE(fs::exists(layout_.rejected() / "a.yaml"));
  EXPECT_EQ(batches(), 1U);
}

TEST_F(inbox_test, the_owner_is_recorded_as_the_submitter) {
  drop("mine.yaml", manifest_text("mine"));
  ASSERT_EQ(intake_->take("mine.yaml").verdict, intake_verdict::accepted);
  asio::io_context io;
  std::vector<store::batch_record> records;
  asio::co_spawn(io, store_->batches(),
                 [&](const std::exception_ptr&, auto r) { records = std::move(r.value()); });
  io.run();
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].submitter_uid, ::getuid());
  EXPECT_EQ(records[0].source_file, "mine.yaml");
}

TEST_F(inbox_test, hidden_and_partial_names_are_left_alone) {
  for (const auto* name : {".hidden.yaml", "a.yaml.tmp", "b.yaml.part"}) {
    drop(name, manifest_text("x"));
    EXPECT_EQ(intake_->take(name).verdict, intake_verdict::ignored) << name;
    EXPECT_TRUE(fs::exists(layout_.inbox_dir / name));
  }
}

TEST_F(inbox_test, a_crash_between_claim_and_move_is_finished_at_start) {
  // Claimed, not stored.
  std::ofstream(layout_.processing() / "claimed.yaml") << manifest_text("claimed");
  // Claimed and stored, not moved: found stored again, it is that batch's file.
  drop("stored.yaml", manifest_text("stored", "7123456789012345679"));
  ASSERT_EQ(intake_->take("stored.yaml").verdict, intake_verdict::accepted);
  fs::rename(layout_.accepted() / "stored.yaml", layout_.processing() / "stored.yaml");
  const auto results = intake_->recover();
  ASSERT_EQ(results.size(), 2U);
  for (const auto& r : results) {
    EXPECT_EQ(r.verdict, intake_verdict::accepted) << r.name << ": " << r.reason;
  }
  EXPECT_TRUE(fs::exists(layout_.accepted() / "claimed.yaml"));
  EXPECT_TRUE(fs::exists(layout_.accepted() / "stored.yaml"));
  EXPECT_TRUE(fs::is_empty(layout_.processing()));
  EXPECT_EQ(batches(), 2U);
}

TEST(state_layout, the_inbox_on_another_filesystem_is_refused) {
  if (!fs::exists("/dev/shm") || !fs::exists("/tmp")) {
    GTEST_SKIP() << "no second filesystem to try";
  }
  struct stat shm {};
  struct stat tmp {};
  ::stat("/dev/shm", &shm);
  ::stat(fs::temp_directory_path().c_str(), &tmp);
  if (shm.st_dev == tmp.st_dev) {
    GTEST_SKIP() << "/dev/shm and the temp folder share a filesystem here";
  }
  std::string a = (fs::temp_directory_path() / "unlinkd-fs-XXXXXX").string();
  std::string b = "/dev/shm/unlinkd-fs-XXXXXX";
  ASSERT_NE(::mkdtemp(a.data()), nullptr);
  ASSERT_NE(::mkdtemp(b.data()), nullptr);
  const auto r = prepare({a, b});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("different filesystems"), std::string::npos);
  fs::remove_all(a);
  fs::remove_all(b);
}

// The watcher, with inotify on the real folder.
class watcher_test : public inbox_test {
 protected:
  void start(std::chrono::milliseconds quiet) {
    watcher_ = std::make_unique<inbox_watcher>(
        io_.get_executor(), layout_.inbox_dir, *intake_, quiet,
        [this](const intake_result& r) { results_.push_back(r); }, log_);
    ASSERT_TRUE(watcher_->start().has_value());
    asio::co_spawn(io_, watcher_->run(), [](const std::exception_ptr& e) {
      if (e) {
        std::rethrow_exception(e);
      }
    });
  }
  // Runs the io_context until `n` results came or the deadline passed.
  bool wait_results(std::size_t n, std::chrono::seconds deadline = 10s) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (results_.size() < n && std::chrono::steady_clock::now() < end) {
      io_.run_for(20ms);
    }
    return results_.size() >= n;
  }
  ~watcher_test() override {
    if (watcher_) {
      watcher_->stop();
      io_.run_for(50ms);
      watcher_.reset();
    }
  }
  watcher_test() = default;

 public:
  watcher_test(const watcher_test&) = delete;
  watcher_test& operator=(const watcher_test&) = delete;

 protected:
  asio::io_context io_;
  std::unique_ptr<inbox_watcher> watcher_;
  std::vector<intake_result> results_;
};

TEST_F(watcher_test, files_waiting_at_start_and_renamed_in_later_are_taken) {
  drop("early.yaml", manifest_text("early"));
  fs::last_write_time(layout_.inbox_dir / "early.yaml",
                      fs::file_time_type::clock::now() - std::chrono::hours(1));
  start(200ms);
  ASSERT_TRUE(wait_results(1));
  drop("later.yaml", manifest_text("later", "7123456789012345679"));
  ASSERT_TRUE(wait_results(2));
  for (const auto& r : results_) {
    EXPECT_EQ(r.verdict, intake_verdict::accepted) << r.name << ": " << r.reason;
  }
}

TEST_F(watcher_test, a_file_written_slowly_in_place_is_taken_only_when_whole) {
  start(1000ms);
  const std::string text = manifest_text("slow");
  const auto path = layout_.inbox_dir / "slow.yaml";
  // Written and closed in three pieces, each within the quiet period of the last.
  std::ofstream(path) << text.substr(0, 40);
  io_.run_for(300ms);
  std::ofstream(path, std::ios::app) << text.substr(40, 40);
  io_.run_for(300ms);
  ASSERT_TRUE(results_.empty()) << "taken while still being written";
  std::ofstream(path, std::ios::app) << text.substr(80);
  ASSERT_TRUE(wait_results(1));
  EXPECT_EQ(results_[0].verdict, intake_verdict::accepted) << results_[0].reason;
}

TEST_F(watcher_test, a_file_renamed_in_while_still_open_for_writing_waits_for_its_close) {
  start(200ms);
  const std::string text = manifest_text("early-rename");
  const auto staging = root_ / "staging-early.yaml";
  std::ofstream out(staging);
  out << text.substr(0, text.size() / 2) << std::flush;
  fs::rename(staging, layout_.inbox_dir / "early.yaml");  // too early: still open
  io_.run_for(800ms);  // four quiet periods: a pause in the writing
  ASSERT_TRUE(results_.empty()) << "taken while its writer still had it open";
  EXPECT_TRUE(fs::exists(layout_.inbox_dir / "early.yaml"));
  out << text.substr(text.size() / 2);
  out.close();
  ASSERT_TRUE(wait_results(1));
  EXPECT_EQ(results_[0].verdict, intake_verdict::accepted) << results_[0].reason;
  EXPECT_EQ(read(layout_.accepted() / "early.yaml"), text);
}

TEST(open_for_writing, tells_a_file_open_for_writing_from_a_closed_one) {
  const auto path = fs::temp_directory_path() / ("unlinkd-lease-" + std::to_string(::getpid()));
  {
    std::ofstream out(path);
    out << "x" << std::flush;
    EXPECT_EQ(open_for_writing(path), write_state::open);
  }
  EXPECT_EQ(open_for_writing(path), write_state::closed);
  {
    std::ifstream reader(path);  // a reader is no writer
    EXPECT_EQ(open_for_writing(path), write_state::closed);
  }
  fs::remove(path);
  EXPECT_EQ(open_for_writing(path), write_state::unknown);
  EXPECT_EQ(open_for_writing(fs::temp_directory_path()), write_state::unknown);
}

}  // namespace
}  // namespace unlinkd::daemon
