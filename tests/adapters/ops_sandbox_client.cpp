#include "tests/adapters/ops_sandbox_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "adapters/answer_parser.hpp"

namespace unlinkd::test {

namespace adapters = unlinkd::adapters;
namespace json = boost::json;

std::string percent_encode(const std::string& text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4U]);
      out.push_back(digits[c & 0x0FU]);
    }
  }
  return out;
}

std::size_t ops_sandbox_client::count(const std::string& path) const {
  std::size_t n = 0;
  for (const auto& r : requests_) {
    n += r.path == path ? 1 : 0;
  }
  return n;
}

void ops_sandbox_client::fail_call(std::uint32_t n, adapters::api_error error) {
  fail_in_ = n;
  fail_with_ = std::move(error);
}

sandbox::api_response ops_sandbox_client::admin(sandbox::http_method method,
                                                const std::string& target,
                                                const std::string& body) {
  sandbox::api_request r;
  r.method = method;
  r.target = target;
  r.body = body;
  return service_.handle(r);
}

boost::asio::awaitable<adapters::api_result<adapters::api_reply>> ops_sandbox_client::call(
    const adapters::call_context& ctx, adapters::api_request request) {
  recorded_request rec{request.method, request.path, request.query,
                       request.mutating() ? json::serialize(request.body) : std::string(), false};
  if (request.mutating() && ctx.dry_run) {
    rec.refused = true;
    requests_.push_back(std::move(rec));
    co_return adapters::api_error{adapters::error_class::permanent,
                                  0,
                                  0,
                                  "Dry run: " + request.path + " refused by the client.",
                                  {}};
  }
  requests_.push_back(std::move(rec));
  if (fail_in_ > 0 && --fail_in_ == 0) {
    co_return fail_with_;
  }
  sandbox::api_request r;
  r.method = request.mutating() ? sandbox::http_method::post : sandbox::http_method::get;
  r.target = "/open_api/v1.3" + request.path;
  char sep = '?';
  for (const auto& [k, v] : request.query) {
    r.target += sep + percent_encode(k) + "=" + percent_encode(v);
    sep = '&';
  }
  if (ctx.credential != nullptr) {
    r.access_token = ctx.credential->access_token.reveal();
  }
  if (request.mutating()) {
    r.body = json::serialize(request.body);
  }
  const auto answer = service_.handle(r);
  if (answer.fault == sandbox::response_fault::close_without_reply) {
    co_return adapters::api_error{request.mutating() ? adapters::error_class::unknown_outcome
                                                     : adapters::error_class::retryable,
                                  0,
                                  0,
                                  "The connection was closed without a reply.",
                                  {}};
  }
  if (answer.status != 200) {
    co_return adapters::api_error{
        answer.status >= 500 ? adapters::error_class::retryable : adapters::error_class::permanent,
        0,
        static_cast<int>(answer.status),
        "HTTP " + std::to_string(answer.status),
        {}};
  }
  // Parsed as the real client parses it (list_as_lines included).
  adapters::answer_parser parser(request.list_as_lines);
  boost::system::error_code ec;
  parser.write(answer.body.data(), answer.body.size(), ec);
  if (!ec) {
    parser.finish(ec);
  }
  json::value parsed = ec ? json::value{} : parser.release();
  if (ec || !parsed.is_object()) {
    co_return adapters::api_error{
        adapters::error_class::permanent, 0, 200, "The answer is not a JSON envelope.", {}};
  }
  auto& env = parsed.as_object();
  const std::int64_t code = env["code"].to_number<std::int64_t>();
  std::string request_id(env["request_id"].as_string());
  if (code != 0) {
    co_return adapters::api_error{adapters::classify_api_code(code, request.scope), code, 200,
                                  std::string(env["message"].as_string()), request_id};
  }
  adapters::api_reply reply;
  reply.data = std::move(env["data"]);
  reply.list_items = parser.line_count();
  reply.list_lines = parser.take_lines();
  reply.request_id = std::move(request_id);
  co_return reply;
}

}  // namespace unlinkd::test
