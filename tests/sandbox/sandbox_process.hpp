#pragma once
// Runs the real unlinkd-sandbox executable for a test: on port 0, in its own
// temporary directory, stopped with SIGTERM when the test ends. Also a small
// blocking HTTP client over one keep-alive connection.

#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <sys/types.h>

namespace unlinkd::test {

// Starts `args` (args[0] is the executable) with its standard output on
// `out_fd` and, when err_fd >= 0, its standard error on `err_fd`.
pid_t spawn(std::vector<std::string> args, int out_fd, int err_fd);

class sandbox_process {
 public:
  // `{dir}` in an argument stands for the process's temporary directory.
  explicit sandbox_process(std::vector<std::string> extra_args = {});
  sandbox_process(const sandbox_process&) = delete;
  sandbox_process& operator=(const sandbox_process&) = delete;
  ~sandbox_process();

  [[nodiscard]] unsigned short port() const { return port_; }
  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] const std::string& first_line() const { return first_line_; }
  // Sends SIGTERM and returns the exit status (-1 when it did not exit cleanly).
  int stop();

 private:
  std::string dir_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
  std::string first_line_;
};

struct http_reply {
  unsigned status = 0;
  std::string body;
  boost::json::value json() const;
};

class http_client {
 public:
  explicit http_client(unsigned short port);
  http_reply get(const std::string& target, const std::string& token = {});
  http_reply post(const std::string& target, const std::string& body,
                  const std::string& token = {});
  http_reply put(const std::string& target, const std::string& body);

 private:
  http_reply send(boost::beast::http::verb verb, const std::string& target, const std::string& body,
                  const std::string& token);
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
};

}  // namespace unlinkd::test
