// socket_client against a scripted Unix socket server on a thread: a normal
// answer, an answer over the size cap, a server that never answers (the
// deadline), and paths with no daemon behind them.
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/socket_client.hpp"

namespace unlinkd::ctl {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Accepts one connection, reads the request head, then sends `reply` (or
// nothing when empty) and holds the connection until the client closes it
// or the test ends.
class scripted_server {
 public:
  // `close_after`: close the connection right after the reply.
  explicit scripted_server(std::string reply, bool close_after = false)
      : reply_(std::move(reply)), close_after_(close_after) {
    std::string pattern = fs::temp_directory_path() / "ctl-sock-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    dir_ = pattern;
    path_ = dir_ + "/s.sock";
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 4) != 0) {
      throw std::runtime_error("cannot listen on " + path_);
    }
    thread_ = std::thread([this] { serve(); });
  }
  scripted_server(const scripted_server&) = delete;
  scripted_server& operator=(const scripted_server&) = delete;
  ~scripted_server() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
    fs::remove_all(dir_);
  }

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string request() {
    const std::lock_guard lock(mutex_);
    return request_;
  }

 private:
  void serve() {
    pollfd p{fd_, POLLIN, 0};
    while (!stop_ && ::poll(&p, 1, 20) != 1) {
    }
    if (stop_) {
      return;
    }
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    std::string got;
    char buffer[4096];
    pollfd q{c, POLLIN, 0};
    while (!stop_ && got.find("\r\n\r\n") == std::string::npos) {
      if (::poll(&q, 1, 20) == 1) {
        const auto n = ::read(c, buffer, sizeof buffer);
        if (n <= 0) {
          break;
        }
        got.append(buffer, static_cast<std::size_t>(n));
      }
    }
    {
      const std::lock_guard lock(mutex_);
      request_ = got;
    }
    if (!reply_.empty()) {
      std::size_t sent = 0;
      while (sent < reply_.size()) {
        const auto n = ::send(c, reply_.data() + sent, reply_.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
          break;
        }
        sent += static_cast<std::size_t>(n);
      }
    }
    while (!stop_ && !close_after_) {  // until the client closes
      if (::poll(&q, 1, 20) == 1 && ::read(c, buffer, sizeof buffer) <= 0) {
        break;
      }
    }
    ::close(c);
  }

  std::string reply_;
  bool close_after_ = false;
  std::string dir_;
  std::string path_;
  int fd_ = -1;
  std::atomic<bool> stop_ = false;
  std::mutex mutex_;
  std::string request_;  // guarded by mutex_
  std::thread thread_;
};

TEST(ctl_socket_client, a_request_and_its_answer) {
  scripted_server server(
      "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n"
      "{\"id\": 7}\n\n\n");
  const socket_client client(server.path(), 5s);
  const auto r = client.send(
      {"POST", "/v1/batches?dry_run=true", "version: 1\n", "application/yaml", "m.yaml"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 201U);
  EXPECT_EQ(r->content_type, "application/json");
  EXPECT_EQ(r->body, "{\"id\": 7}\n\n\n");
}

TEST(ctl_socket_client, the_request_carries_the_manifest_name) {
  scripted_server server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  const socket_client client(server.path(), 5s);
  ASSERT_TRUE(client.send({"POST", "/v1/validate", "x: 1\n", "application/yaml", "m.yaml"}));
  const std::string head = server.request();
  EXPECT_TRUE(head.starts_with("POST /v1/validate HTTP/1.1\r\n")) << head;
  EXPECT_NE(head.find("X-Manifest-Name: m.yaml\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: application/yaml\r\n"), std::string::npos) << head;
}

TEST(ctl_socket_client, an_answer_over_the_cap_is_refused) {
  scripted_server server("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" +
                         std::string(5000, 'x'));
  const socket_client client(server.path(), 5s, 1000);
  const auto r = client.get("/v1/batches");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what, socket_failure::kind::failed);
  EXPECT_NE(r.error().message.find("the answer is too large"), std::string::npos)
      << r.error().message;
}

TEST(ctl_socket_client, a_silent_server_meets_the_deadline) {
  scripted_server server("");
  const socket_client client(server.path(), 300ms);
  const auto start = std::chrono::steady_clock::now();
  const auto r = client.get("/v1/health");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what, socket_failure::kind::failed);
  EXPECT_NE(r.error().message.find("no answer in time"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(ctl_socket_client, no_daemon_is_unreachable) {
  const socket_client missing("/nonexistent-dir/unlinkd.sock", 1s);
  const auto r = missing.get("/v1/health");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what, socket_failure::kind::unreachable);
  EXPECT_NE(r.error().message.find("/nonexistent-dir/unlinkd.sock"), std::string::npos);

  const std::string long_path = "/tmp/" + std::string(200, 'a') + ".sock";
  const auto too_long = socket_client(long_path, 1s).get("/v1/health");
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().what, socket_failure::kind::unreachable);
  EXPECT_NE(too_long.error().message.find("too long"), std::string::npos);
}

TEST(ctl_socket_client, a_garbled_answer_is_a_failure) {
  scripted_server server("this is not HTTP\r\n\r\n");
  const socket_client client(server.path(), 5s);
  const auto r = client.get("/v1/health");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what, socket_failure::kind::failed);
}

TEST(ctl_socket_client, a_stream_is_handed_over_piece_by_piece_to_its_end) {
  scripted_server server(
      "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nab\ncd\r\n3\r\nef\n\r\n0\r\n\r\n");
  const socket_client client(server.path(), 5s);
  std::string got;
  const auto r = client.stream({"GET", "/v1/events?since=3", {}, {}, {}},
                               [&](std::string_view data) { got += data; });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200U);
  EXPECT_EQ(r->content_type, "application/x-ndjson");
  EXPECT_EQ(r->body, "") << "the body went to on_data";
  EXPECT_EQ(got, "ab\ncdef\n");
  EXPECT_TRUE(server.request().starts_with("GET /v1/events?since=3 HTTP/1.1\r\n"));
}

TEST(ctl_socket_client, a_stream_that_breaks_off_is_a_failure_after_its_data) {
  scripted_server server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab\n\r\n",
                         true);
  const socket_client client(server.path(), 5s);
  std::string got;
  const auto r =
      client.stream({"GET", "/v1/events", {}, {}, {}}, [&](std::string_view data) { got += data; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what, socket_failure::kind::failed);
  EXPECT_NE(r.error().message.find("broke"), std::string::npos) << r.error().message;
  EXPECT_EQ(got, "ab\n");
}

TEST(ctl_socket_client, a_stream_refused_with_an_error_answer_gives_it_whole) {
  scripted_server server(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 28\r\n\r\n"
      "{\"error\":\"too_many_streams\"}");
  const socket_client client(server.path(), 5s);
  bool called = false;
  const auto r =
      client.stream({"GET", "/v1/events", {}, {}, {}}, [&](std::string_view) { called = true; });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 503U);
  EXPECT_EQ(r->body, "{\"error\":\"too_many_streams\"}");
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace unlinkd::ctl
