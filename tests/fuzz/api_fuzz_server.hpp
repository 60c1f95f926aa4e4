#pragma once
// A loopback HTTP/1.1 server for api_response_fuzz: it answers each request
// it reads with the next raw response of a script (status line, headers and
// body exactly as given, so framing is part of the input), then with a
// fallback once the script is spent. It runs on the fuzzer's io_context next
// to the real http_api_client, so the client's own socket code, streaming
// JSON parser and envelope reading are what the fuzzer drives. Beast stays
// in the .cpp.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace unlinkd::fuzz {

class api_fuzz_server {
 public:
  // Listens on 127.0.0.1, a free port, and starts accepting on `io`.
  explicit api_fuzz_server(boost::asio::io_context& io);
  api_fuzz_server(const api_fuzz_server&) = delete;
  api_fuzz_server& operator=(const api_fuzz_server&) = delete;
  ~api_fuzz_server();

  [[nodiscard]] unsigned short port() const;
  // The answers to the next requests, in order; past the end, `fallback`.
  // Resets requests().
  void script(std::vector<std::string> responses, std::string fallback);
  // Requests read since the last script().
  [[nodiscard]] std::size_t requests() const;

  // What the accept loop and the connections share (public only so the
  // .cpp's free coroutines can name it).
  struct state;

 private:
  std::shared_ptr<state> state_;
};

// A raw HTTP/1.1 response around `body`: Content-Length framing, or chunked
// in pieces of `chunk` bytes, or (close_delimited) none, the body ending
// when the server closes the connection.
enum class framing : unsigned char {
  content_length,
  chunked,
  content_length_close,
  close_delimited
};
std::string http_response(unsigned status, std::string_view body, framing f, std::size_t chunk);

}  // namespace unlinkd::fuzz
