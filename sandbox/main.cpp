// unlinkd-sandbox: a local emulator of the TikTok API slice unlinkd uses.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fcntl.h>
#include <unistd.h>

#include "config/scalars.hpp"
#include "sandbox/api_service.hpp"
#include "sandbox/fixture_loader.hpp"
#include "sandbox/http_server.hpp"
#include "sandbox/state_generator.hpp"

namespace {

namespace asio = boost::asio;

constexpr const char* usage = R"(usage: unlinkd-sandbox [OPTIONS]

Serves /open_api/v1.3/... like the TikTok API for Business, on a world it
generates or reads from a fixture, for unlinkd's demo, tests and benchmarks.
Admin paths (no token): GET /_sandbox/stats, POST /_sandbox/reset,
GET /_sandbox/state?asset_id=ID,
POST /_sandbox/tokens/revoke and POST /_sandbox/tokens/restore with
{"token": T} or {"app_id": A}, PUT /_sandbox/limits with
{"app_id": A, "qps": N, "qpm": N, "qpd": N} (any subset; without app_id the
default of every app; 409 with --no-limits), PUT /_sandbox/faults with a
fault profile (YAML or JSON; an empty body switches faults off). Reset
restores tokens, limits and the --faults profile.
See docs/SANDBOX.md "Runtime controls" and "Faults".

Options:
  --listen 127.0.0.1:PORT   address to listen on; port 0 picks a free one
                            (default 127.0.0.1:0)
  --port-file PATH          write the bound port to PATH once listening
  --accounts N              ad accounts and TikTok accounts to generate (default 100)
  --seed S                  seed of the generated world (default 1)
  --fixture FILE            serve the hand-written world in FILE (YAML, see
                            docs/SANDBOX.md "Fixtures") instead of generating
                            one; not with --accounts or --seed
  --credentials-out PATH    write a credentials file for the world's tokens
                            (mode 0600, base_url pointing here)
  --manifest-out PATH       write a valid manifest covering the accounts of
                            our BC (the first), every unlink mode included
  --batch NAME              the batch name in that manifest (default
                            sandbox-SEED, or sandbox-fixture with --fixture)
  --qps N                   admitted calls per app in any sliding 1-second
                            window (default 10, the Basic tier)
  --qpm N                   the same in any sliding 60-second window (default 600)
  --qpd N                   admitted calls per app per UTC day (default 864000)
  --no-limits               no budget: never answer 40100 (engine benchmarks)
  --faults FILE             inject faults (API codes, HTTP 5xx, connection
                            resets, latency) as the YAML profile in FILE says,
                            reproducibly for a --seed; see docs/SANDBOX.md
                            "Faults" and examples/sandbox-faults.yaml
  --visibility-delay D      reads see a write only D after it was applied
                            (e.g. 2s, 500ms; MIN..MAX draws each write's
                            delay from the range, reproducibly for a --seed);
                            the write's own answer is immediate (default 0)
  -h, --help                show this text

Over a limit a call gets HTTP 200, code 40100 and is not processed;
/report/task/create/ is also limited to 2 per second per app. A refused call
counts in no window. See docs/SANDBOX.md "Budget".

The first line on standard output is "listening on 127.0.0.1:PORT".
SIGTERM or SIGINT stops it.
)";

struct options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string port_file;
  unlinkd::sandbox::generator_options world;
  bool world_options = false;  // --accounts or --seed given
  std::string fixture;
  std::string credentials_out;
  std::string manifest_out;
  std::string batch;
  std::string faults;
  unlinkd::sandbox::service_options service;
};

bool parse_number(const std::string& text, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

// `2s`, or `1s..5s` with MIN <= MAX.
std::optional<unlinkd::sandbox::visibility_delay> parse_delay_range(const std::string& text) {
  const auto dots = text.find("..");
  const auto min = unlinkd::config::parse_duration(text.substr(0, dots));
  const auto max =
      dots == std::string::npos ? min : unlinkd::config::parse_duration(text.substr(dots + 2));
  if (!min || !max || *max < *min) {
    return std::nullopt;
  }
  return unlinkd::sandbox::visibility_delay{*min, *max};
}

bool parse_args(const std::vector<std::string>& args, options& o) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    const auto value = [&]() -> const std::string* {
      if (i + 1 >= args.size()) {
        std::cerr << "unlinkd-sandbox: " << a << " needs a value\n";
        return nullptr;
      }
      return &args[++i];
    };
    std::uint64_t n = 0;
    const std::string* v = nullptr;
    if (a == "--listen") {
      if ((v = value()) == nullptr) {
        return false;
      }
      const auto colon = v->rfind(':');
      if (colon == std::string::npos || !parse_number(v->substr(colon + 1), n) || n > 65535) {
        std::cerr << "unlinkd-sandbox: --listen wants HOST:PORT, e.g. 127.0.0.1:0\n";
        return false;
      }
      o.host = v->substr(0, colon);
      o.port = static_cast<unsigned short>(n);
    } else if (a == "--port-file" || a == "--credentials-out" || a == "--manifest-out" ||
               a == "--batch" || a == "--fixture" || a == "--faults") {
      if ((v = value()) == nullptr) {
        return false;
      }
      (a == "--port-file"         ? o.port_file
       : a == "--credentials-out" ? o.credentials_out
       : a == "--manifest-out"    ? o.manifest_out
       : a == "--fixture"         ? o.fixture
       : a == "--faults"          ? o.faults
                                  : o.batch) = *v;
    } else if (a == "--accounts" || a == "--seed") {
      if ((v = value()) == nullptr) {
        return false;
      }
      if (!parse_number(*v, n) || (a == "--accounts" && (n == 0 || n > 10'000'000))) {
        std::cerr << "unlinkd-sandbox: " << a << " wants a whole number"
                  << (a == "--accounts" ? " from 1 to 10000000" : "") << '\n';
        return false;
      }
      (a == "--accounts" ? o.world.accounts : o.world.seed) = n;
      o.world_options = true;
    } else if (a == "--qps" || a == "--qpm" || a == "--qpd") {
      if ((v = value()) == nullptr) {
        return false;
      }
      if (!parse_number(*v, n) || n == 0) {
        std::cerr << "unlinkd-sandbox: " << a << " wants a whole number of at least 1\n";
        return false;
      }
      auto& limits = o.service.limits;
      (a == "--qps" ? limits.qps : a == "--qpm" ? limits.qpm : limits.qpd) = n;
    } else if (a == "--visibility-delay") {
      if ((v = value()) == nullptr) {
        return false;
      }
      const auto range = parse_delay_range(*v);
      if (!range) {
        std::cerr << "unlinkd-sandbox: --visibility-delay wants a duration such as 2s or 500ms, "
                     "or a range MIN..MAX such as 1s..5s\n";
        return false;
      }
      o.service.visibility = *range;
    } else if (a == "--no-limits") {
      o.service.limits_enabled = false;
    } else {
      std::cerr << "unlinkd-sandbox: unknown option '" << a << "'\n" << usage;
      return false;
    }
  }
  if (!o.fixture.empty() && o.world_options) {
    std::cerr << "unlinkd-sandbox: --fixture cannot be combined with --accounts or --seed: the "
                 "fixture is the whole world; give one or the other\n";
    return false;
  }
  return true;
}

// Written beside, then renamed: a reader never sees half a file.
bool write_file(const std::string& path, const std::string& text, mode_t mode) {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    std::perror(("unlinkd-sandbox: " + temporary).c_str());
    return false;
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool closed = ::close(fd) == 0;
  if (!written || !closed || ::rename(temporary.c_str(), path.c_str()) != 0) {
    std::perror(("unlinkd-sandbox: " + path).c_str());
    return false;
  }
  return true;
}

int run(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "-h" || a == "--help") {
      std::cout << usage;
      return 0;
    }
  }
  options o;
  if (!parse_args(args, o)) {
    return 1;
  }
  if (o.batch.empty()) {
    o.batch = o.fixture.empty() ? "sandbox-" + std::to_string(o.world.seed) : "sandbox-fixture";
  }
  unlinkd::sandbox::sandbox_state world;
  std::vector<std::string> profiles;  // of a fixture's tokens; empty for a generated world
  if (o.fixture.empty()) {
    world = unlinkd::sandbox::generate_state(o.world);
  } else {
    auto loaded = unlinkd::sandbox::load_fixture_file(o.fixture);
    if (!loaded.problems.empty()) {
      std::cerr << loaded.problems.to_text();
      return 1;
    }
    world = std::move(loaded.state);
    profiles = std::move(loaded.profiles);
  }
  if (!o.faults.empty()) {
    auto loaded = unlinkd::sandbox::load_fault_profile_file(o.faults);
    if (!loaded.problems.empty()) {
      std::cerr << loaded.problems.to_text();
      return 1;
    }
    o.service.faults = std::move(loaded.profile);
  }

  asio::io_context io;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(o.host, ec);
  if (ec) {
    std::cerr << "unlinkd-sandbox: --listen: '" << o.host << "' is not an IP address\n";
    return 1;
  }
  asio::ip::tcp::acceptor acceptor(io);
  const asio::ip::tcp::endpoint where(address, o.port);
  acceptor.open(where.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    acceptor.bind(where, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    std::cerr << "unlinkd-sandbox: cannot listen on " << o.host << ':' << o.port << ": "
              << ec.message() << '\n';
    return 1;
  }
  const auto port = acceptor.local_endpoint().port();
  const std::string base_url = "http://" + o.host + ":" + std::to_string(port);
  if ((!o.credentials_out.empty() &&
       !write_file(o.credentials_out, unlinkd::sandbox::credentials_yaml(world, base_url, profiles),
                   0600)) ||
      (!o.manifest_out.empty() &&
       !write_file(o.manifest_out, unlinkd::sandbox::manifest_yaml(world, o.batch), 0644)) ||
      (!o.port_file.empty() && !write_file(o.port_file, std::to_string(port) + "\n", 0644))) {
    return 1;
  }

  world.base_url = base_url;  // for the download URLs of report tasks
  unlinkd::sandbox::api_service service(std::move(world), o.world.seed, o.service);
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    io.stop();
  });
  // The server's failure is the process's: rethrow, exit non-zero.
  asio::co_spawn(io, unlinkd::sandbox::serve(acceptor, service, {}),
                 [](const std::exception_ptr& e) {
                   if (e) {
                     std::rethrow_exception(e);
                   }
                 });
  std::cout << "listening on " << o.host << ':' << port << std::endl;
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Startup failures and broken invariants end the process with a message;
  // expected problems (bad options, a bad fixture) are answered in run().
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "unlinkd-sandbox: " << e.what() << '\n';
    return 1;
  }
}
