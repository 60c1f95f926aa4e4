#include "tests/sandbox/sandbox_process.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace unlinkd::test {

namespace http = boost::beast::http;

pid_t spawn(std::vector<std::string> args, int out_fd, int err_fd) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_fd, STDOUT_FILENO);
    if (err_fd >= 0) {
      ::dup2(err_fd, STDERR_FILENO);
    }
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

sandbox_process::sandbox_process(std::vector<std::string> extra_args) {
  std::string pattern = std::filesystem::temp_directory_path() / "sandbox-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  dir_ = pattern;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> args{UNLINKD_SANDBOX_BIN, "--listen", "127.0.0.1:0", "--port-file",
                                dir_ + "/port"};
  for (auto& a : extra_args) {
    if (const auto at = a.find("{dir}"); at != std::string::npos) {
      a.replace(at, 5, dir_);
    }
    args.push_back(a);
  }
  pid_ = spawn(args, out[1], -1);
  ::close(out[1]);
  // The first line says the port; wait for it with a bound, never a sleep.
  pollfd pfd{out[0], POLLIN, 0};
  char c = 0;
  while (first_line_.size() < 200) {
    if (::poll(&pfd, 1, 10'000) != 1 || ::read(out[0], &c, 1) != 1 || c == '\n') {
      break;
    }
    first_line_ += c;
  }
  ::close(out[0]);
  const auto colon = first_line_.rfind(':');
  if (colon == std::string::npos) {
    stop();
    throw std::runtime_error("sandbox did not start: '" + first_line_ + "'");
  }
  port_ = static_cast<unsigned short>(std::stoi(first_line_.substr(colon + 1)));
}

int sandbox_process::stop() {
  if (pid_ <= 0) {
    return -1;
  }
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

sandbox_process::~sandbox_process() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

boost::json::value http_reply::json() const { return boost::json::parse(body); }

http_client::http_client(unsigned short port) : stream_(io_) {
  stream_.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
}

http_reply http_client::get(const std::string& target, const std::string& token) {
  return send(http::verb::get, target, {}, token);
}

http_reply http_client::post(const std::string& target, const std::string& body,
                             const std::string& token) {
  return send(http::verb::post, target, body, token);
}

http_reply http_client::put(const std::string& target, const std::string& body) {
  return send(http::verb::put, target, body, {});
}

http_reply http_client::send(http::verb verb, const std::string& target, const std::string& body,
                             const std::string& token) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) {
    req.set("Access-Token", token);
  }
  if (verb != http::verb::get) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.keep_alive(true);
  req.prepare_payload();
  stream_.expires_after(std::chrono::seconds(10));
  http::write(stream_, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream_, buffer, res);
  return {static_cast<unsigned>(res.result_int()), res.body()};
}

}  // namespace unlinkd::test
