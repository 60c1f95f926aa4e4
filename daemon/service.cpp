#include "daemon/service.hpp"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "adapters/http_api_client.hpp"
#include "adapters/tiktok_platform.hpp"
#include "config/credentials.hpp"
#include "daemon/batch_notifier.hpp"
#include "daemon/batch_report.hpp"
#include "daemon/caller.hpp"
#include "daemon/control_api.hpp"
#include "daemon/control_server.hpp"
#include "daemon/inbox_watcher.hpp"
#include "daemon/logging.hpp"
#include "daemon/manifest_intake.hpp"
#include "daemon/metrics.hpp"
#include "daemon/metrics_listener.hpp"
#include "daemon/state_layout.hpp"
#include "daemon/systemd_notifier.hpp"
#include "scheduler/budget_gate.hpp"
#include "scheduler/clock.hpp"
#include "scheduler/engine.hpp"
#include "store/store.hpp"

namespace unlinkd::daemon {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Where the credentials are: systemd's LoadCredential= copy wins.
std::string credentials_path(const config::daemon_config& c) {
  if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir != nullptr && *dir != '\0') {
    return std::string(dir) + "/credentials.yaml";
  }
  return c.credentials_file;
}

std::optional<config::daemon_config> load_config(const service_options& o, std::ostream& err) {
  auto loaded = config::load_daemon_config(o.config_path);
  if (!loaded.problems.empty()) {
    err << loaded.problems.to_text();
    return std::nullopt;
  }
  if (o.log_level) {
    loaded.value.level = *o.log_level;
  }
  return loaded.value;
}

class service {
 public:
  service(service_options options, config::daemon_config config,
          std::shared_ptr<spdlog::logger> log)
      : options_(std::move(options)), config_(std::move(config)), log_(std::move(log)) {}

  int run();

 private:
  bool load_credentials();
  void reload();
  void begin_stop();
  asio::awaitable<void> write_report(std::filesystem::path reports, std::int64_t batch_id);
  void report_status();
  void tick_watchdog(std::chrono::microseconds interval);
  [[nodiscard]] std::optional<std::vector<std::string>> profile_names() const {
    if (!credentials_) {
      return std::nullopt;
    }
    std::vector<std::string> names;
    for (const auto& p : credentials_->profiles) {
      names.push_back(p.name);
    }
    return names;
  }
  [[nodiscard]] std::optional<adapters::call_context> context_for(
      const store::batch_record& b) const;
  // GET /metrics, on the socket and on metrics_listen.
  [[nodiscard]] std::string metrics_text() const {
    metrics_sources m;
    m.store = store_.get();
    m.engine = engine_.get();
    m.client = client_.get();
    m.gate = gate_.get();
    m.intake = intake_.get();
    m.started = started_;
    return render_metrics(m);
  }

  service_options options_;
  config::daemon_config config_;
  std::shared_ptr<spdlog::logger> log_;
  // Every credentials generation stays alive: a step in flight keeps the
  // profile it started with across a reload. Reloads are rare and small.
  std::vector<std::shared_ptr<const config::credentials>> generations_;
  std::shared_ptr<const config::credentials> credentials_;
  asio::io_context io_;
  systemd_notifier notify_;
  std::unique_ptr<store::store> store_;
  std::unique_ptr<scheduler::budget_gate> gate_;
  std::unique_ptr<adapters::http_api_client> client_;
  std::unique_ptr<adapters::tiktok_platform> platform_;
  std::unique_ptr<scheduler::engine> engine_;
  std::unique_ptr<manifest_intake> intake_;
  std::unique_ptr<inbox_watcher> watcher_;
  std::unique_ptr<control_api> api_;
  std::unique_ptr<control_server> server_;
  std::unique_ptr<notifications> notifications_;  // webhooks; destroyed before the store
  std::unique_ptr<metrics_listener> metrics_;     // metrics_listen, when set
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
  std::unique_ptr<asio::steady_timer> drain_timer_;
  std::unique_ptr<asio::steady_timer> status_timer_;
  std::unique_ptr<asio::steady_timer> watchdog_timer_;
  std::uint64_t last_turns_ = 0;
  std::chrono::steady_clock::time_point last_turn_seen_ = std::chrono::steady_clock::now();
  bool engine_running_ = false;
  bool stopping_ = false;
};

bool service::load_credentials() {
  const std::string path = credentials_path(config_);
  config::credentials_file_checks checks;
  if (std::getenv("CREDENTIALS_DIRECTORY") == nullptr) {
    checks.required_owner = ::geteuid();  // systemd's copy belongs to whoever systemd says
  }
  auto loaded = config::load_credentials(path, checks);
  if (!loaded.problems.empty()) {
    log_->error("credentials: {} cannot be used: {}", path, loaded.problems.to_text());
    return false;
  }
  auto next = std::make_shared<const config::credentials>(std::move(loaded.value));
  generations_.push_back(next);
  credentials_ = std::move(next);
  if (gate_) {
    for (const auto& p : credentials_->profiles) {
      gate_->set_limits(p.app_id, p.limits);
    }
  }
  log_->info("credentials: {} profiles from {}", credentials_->profiles.size(), path);
  return true;
}

std::optional<adapters::call_context> service::context_for(const store::batch_record& b) const {
  if (!credentials_) {
    return std::nullopt;
  }
  const config::credential_profile* p = credentials_->find(b.credentials);
  if (p == nullptr) {
    return std::nullopt;
  }
  adapters::call_context ctx;
  ctx.batch = b.name;
  ctx.credential = p;
  ctx.base_url = p->base_url.empty() ? config_.api_base_url : p->base_url;
  ctx.dry_run = b.dry_run;
  return ctx;
}

void service::reload() {
  notify_.reloading();
  log_->info("SIGHUP: reloading {} and the credentials", options_.config_path);
  auto loaded = config::load_daemon_config(options_.config_path);
  if (!loaded.problems.empty()) {
    log_->error("reload: {} has problems; the running config stays:\n{}", options_.config_path,
                loaded.problems.to_text());
  } else {
    config::daemon_config fresh = std::move(loaded.value);
    if (options_.log_level) {
      fresh.level = *options_.log_level;
    }
    // Folders, the socket, limits and the scheduler's sizes are set up once:
    // they change at the next start. The rest applies now.
    if (fresh.state_dir != config_.state_dir || fresh.inbox_dir != config_.inbox_dir ||
        fresh.socket != config_.socket || fresh.concurrency != config_.concurrency ||
        fresh.max_manifest_bytes != config_.max_manifest_bytes ||
        fresh.max_accounts_per_manifest != config_.max_accounts_per_manifest ||
        fresh.retry.max_attempts != config_.retry.max_attempts ||
        fresh.retry.initial_backoff != config_.retry.initial_backoff ||
        fresh.retry.max_backoff != config_.retry.max_backoff) {
      log_->warn(
          "reload: state_dir, inbox_dir, socket, concurrency, the manifest limits and "
          "retry take effect at the next start (systemctl restart unlinkd)");
    }
    config_.api_base_url = fresh.api_base_url;
    config_.credentials_file = fresh.credentials_file;
    config_.drain_timeout = fresh.drain_timeout;
    config_.level = fresh.level;
    config_.webhook_secret_file = fresh.webhook_secret_file;
    notifications_->reload_secret(config_.webhook_secret_file);
    log_->set_level(to_spdlog(fresh.level));
  }
  if (load_credentials()) {
    engine_->reload_contexts();
  } else {
    log_->error("reload: the previous credentials stay in use");
  }
  notify_.ready();
}

asio::awaitable<void> service::write_report(std::filesystem::path reports, std::int64_t batch_id) {
  const std::optional<std::string> no_name;
  auto loaded = co_await load_batch(*store_, no_name, batch_id);
  if (!loaded || !*loaded) {
    log_->error("report: cannot read batch {}: {}", batch_id,
                loaded ? std::string("gone") : loaded.error().message);
    co_return;
  }
  if (auto e = write_report_files(reports, **loaded)) {
    log_->error("report: {}", *e);
    co_return;
  }
  log_->info("batch {}: report written to {}/{}.json and .csv", (*loaded)->batch.name,
             reports.string(), (*loaded)->batch.name);
}

void service::begin_stop() {
  if (stopping_) {
    return;
  }
  stopping_ = true;
  notify_.stopping();
  log_->info("stopping: no new work; steps in flight get {} ms to finish",
             config_.drain_timeout.count());
  if (watcher_) {
    watcher_->stop();
  }
  if (server_) {
    server_->stop();
  }
  if (notifications_) {
    notifications_->stop();
  }
  if (metrics_) {
    metrics_->stop();
  }
  engine_->stop();
  drain_timer_ = std::make_unique<asio::steady_timer>(io_, config_.drain_timeout);
  drain_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      log_->warn(
          "stopping: drain_timeout passed with {} accounts in flight; they resume at the "
          "next start",
          engine_->stats().in_flight);
      io_.stop();
    }
  });
}

void service::report_status() {
  std::int64_t done = 0;
  std::int64_t failed = 0;
  std::int64_t waiting = 0;
  std::int64_t attention = 0;
  for (const auto& [key, n] : store_->counts()) {
    switch (key.state) {
      case store::account_state::done:
        done += n;
        break;
      case store::account_state::failed:
        failed += n;
        break;
      case store::account_state::needs_attention:
        attention += n;
        break;
      case store::account_state::cancelled:
        break;
      default:
        waiting += n;
    }
  }
  notify_.status(std::to_string(engine_->stats().in_flight) + " in flight, " +
                 std::to_string(waiting) + " waiting, " + std::to_string(done) + " done, " +
                 std::to_string(failed) + " failed, " + std::to_string(attention) +
                 " need attention");
  status_timer_->expires_after(5s);
  status_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping_) {
      report_status();
    }
  });
}

void service::tick_watchdog(std::chrono::microseconds interval) {
  // Alive means the scheduler's loop turned since the last tick (it turns at
  // least once a second when idle) and the store still commits (a failed
  // commit stops the process outright).
  const auto now = std::chrono::steady_clock::now();
  const auto turns = engine_->stats().loop_turns;
  if (turns != last_turns_) {
    last_turns_ = turns;
    last_turn_seen_ = now;
  }
  if (now - last_turn_seen_ < interval) {
    notify_.watchdog();
  } else {
    // No ping: systemd restarts a daemon whose scheduler is stuck.
    log_->error(
        "watchdog: the scheduler loop has not turned for {} ms",
        std::chrono::duration_cast<std::chrono::milliseconds>(now - last_turn_seen_).count());
  }
  watchdog_timer_->expires_after(interval / 2);
  watchdog_timer_->async_wait([this, interval](const boost::system::error_code& ec) {
    if (!ec) {
      tick_watchdog(interval);
    }
  });
}

int service::run() {
  const state_layout layout{config_.state_dir, config_.inbox_dir};
  if (auto r = prepare(layout); !r) {
    log_->critical("cannot start: {}", r.error());
    return 1;
  }
  store::store_options so;
  so.clock = [] { return scheduler::clock::utc_now(); };
  so.gather = std::chrono::milliseconds(1);
  auto opened = store::store::open(layout.database().string(), so, *log_);
  if (!opened) {
    log_->critical("cannot start: {}", opened.error().message);
    return 1;
  }
  store_ = std::move(*opened);
  // Before the engine runs, so a first start's history ends before any new event.
  auto notifying = start_notifications(io_.get_executor(), *store_, config_, *log_);
  if (!notifying) {
    log_->critical("cannot start: {}", notifying.error());
    return 1;
  }
  notifications_ = std::move(*notifying);
  gate_ = std::make_unique<scheduler::budget_gate>(io_.get_executor());
  if (!load_credentials()) {
    log_->error(
        "starting without credentials: batches wait in needs_attention until the file "
        "is fixed and unlinkd reloaded (systemctl reload unlinkd)");
  }
  client_ = std::make_unique<adapters::http_api_client>(io_.get_executor(), *gate_, *log_);
  platform_ = std::make_unique<adapters::tiktok_platform>(*client_, layout.backups());
  scheduler::engine_options eo;
  eo.concurrency = config_.concurrency;
  eo.max_attempts = config_.retry.max_attempts;
  eo.initial_backoff = config_.retry.initial_backoff;
  eo.max_backoff = config_.retry.max_backoff;
  eo.on_batch_ended = [this, reports = layout.reports()](std::int64_t batch_id) {
    asio::co_spawn(io_, write_report(reports, batch_id), [this](const std::exception_ptr& e) {
      if (e) {
        log_->error("report: writing failed unexpectedly");
      }
    });
  };
  engine_ = std::make_unique<scheduler::engine>(
      io_.get_executor(), *store_, *platform_,
      [this](const store::batch_record& b) { return context_for(b); }, eo, *log_);
  intake_ = std::make_unique<manifest_intake>(
      layout,
      intake_limits{static_cast<std::size_t>(config_.max_manifest_bytes),
                    static_cast<std::size_t>(config_.max_accounts_per_manifest)},
      *store_, [this] { return profile_names(); }, *log_);
  // Recovery before READY: manifests a crash left half-way are finished.
  for (const auto& r : intake_->recover()) {
    log_->info("inbox: recovered {}: {}", r.name, r.reason);
  }
  watcher_ = std::make_unique<inbox_watcher>(
      io_.get_executor(), layout.inbox_dir, *intake_, 2s,
      [this](const intake_result& r) {
        if (r.verdict == intake_verdict::accepted) {
          engine_->poke();
        }
      },
      *log_);
  if (auto r = watcher_->start(); !r) {
    log_->critical("cannot start: {}", r.error());
    return 1;
  }

  control_settings cs;
  cs.groups = {group_id(config_.socket_group), group_id(config_.admin_group)};
  cs.max_manifest_bytes = static_cast<std::size_t>(config_.max_manifest_bytes);
  cs.max_accounts = static_cast<std::size_t>(config_.max_accounts_per_manifest);
  cs.profiles = [this] { return profile_names(); };
  cs.metrics = [this] { return metrics_text(); };
  api_ = std::make_unique<control_api>(*store_, *engine_, cs);
  control_server_options so_server;
  so_server.max_body_bytes = static_cast<std::size_t>(config_.max_manifest_bytes) + 4096;
  server_ = std::make_unique<control_server>(io_.get_executor(), *api_, so_server, *log_);
  if (auto r = server_->open(config_.socket, cs.groups.socket_group); !r) {
    log_->critical("cannot start: {}", r.error());
    return 1;
  }

  asio::signal_set signals(io_, SIGTERM, SIGINT, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int number) {
        if (ec) {
          return;
        }
        if (number == SIGHUP) {
          reload();
        } else {
          begin_stop();
        }
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  const auto rethrow = [](const std::exception_ptr& e) {
    if (e) {
      std::rethrow_exception(e);
    }
  };
  if (!config_.metrics_listen.empty()) {
    metrics_ = std::make_unique<metrics_listener>(
        io_.get_executor(), [this] { return metrics_text(); }, metrics_listener_options{}, *log_);
    if (auto r = metrics_->open(config_.metrics_listen); !r) {
      log_->critical("cannot start: {}", r.error());
      return 1;
    }
    asio::co_spawn(io_, metrics_->run(), rethrow);
    log_->info("metrics on http://{}/metrics", config_.metrics_listen);
  }
  engine_running_ = true;
  asio::co_spawn(io_, engine_->run(), [this](const std::exception_ptr& e) {
    engine_running_ = false;
    if (e) {
      std::rethrow_exception(e);
    }
    if (stopping_) {
      log_->info("stopped: every step in flight finished");
      io_.stop();
    }
  });
  asio::co_spawn(io_, watcher_->run(), rethrow);
  asio::co_spawn(io_, server_->run(), rethrow);

  status_timer_ = std::make_unique<asio::steady_timer>(io_);
  report_status();
  if (const auto interval = systemd_notifier::watchdog_interval()) {
    watchdog_timer_ = std::make_unique<asio::steady_timer>(io_);
    tick_watchdog(*interval);
  }
  notify_.ready();
  log_->info("unlinkd ready: state in {}, inbox {}, control socket {}", config_.state_dir,
             config_.inbox_dir,
             server_->from_systemd() ? std::string("from systemd") : config_.socket);

  try {
    io_.run();
  } catch (const std::exception& e) {
    log_->critical("stopping on an unexpected failure: {}", e.what());
    return 1;
  }
  watcher_.reset();  // joins the intake thread
  server_.reset();
  notifications_.reset();  // joins its file thread; before the store it reads
  metrics_.reset();
  store_.reset();  // commits what is queued
  return 0;
}

}  // namespace

int run_service(const service_options& options) {
  auto config = load_config(options, std::cerr);
  if (!config) {
    return 1;
  }
  auto log = make_logger(config->level);
  service s(options, std::move(*config), log);
  return s.run();
}

int check_database(const service_options& options) {
  auto config = load_config(options, std::cerr);
  if (!config) {
    return 1;
  }
  const std::string path = state_layout{config->state_dir, config->inbox_dir}.database().string();
  auto result = store::check_integrity(path);
  if (!result) {
    std::cerr << "unlinkd: " << result.error().message << '\n';
    return 1;
  }
  std::cout << path << ": " << *result << '\n';
  return *result == "ok" ? 0 : 1;
}

}  // namespace unlinkd::daemon
