#include "daemon/webhook_payload.hpp"

#include <array>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include <boost/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

namespace unlinkd::daemon {

namespace json = boost::json;

namespace {

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4U];
    out += digits[bytes[i] & 0x0FU];
  }
  return out;
}

}  // namespace

std::string_view to_string(webhook_event e) {
  switch (e) {
    case webhook_event::started:
      return "batch.started";
    case webhook_event::needs_attention:
      return "batch.needs_attention";
    case webhook_event::ended:
      return "batch.ended";
  }
  return "batch.unknown";
}

std::string_view to_string(attention_cause c) {
  switch (c) {
    case attention_cause::credential_hold:
      return "credential_hold";
    case attention_cause::unknown_profile:
      return "unknown_profile";
    case attention_cause::circuit_breaker:
      return "circuit_breaker";
    case attention_cause::accounts:
      return "accounts";
  }
  return "unknown";
}

std::string delivery_id_for(std::string_view batch, std::int64_t event_seq, std::string_view url) {
  // NUL separators: no batch name or URL contains one, so no two inputs collide.
  std::string input;
  input.append(batch).push_back('\0');
  input.append(std::to_string(event_seq)).push_back('\0');
  input.append(url);
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  const std::string h = hex(digest.data(), 16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms / 1000);
  auto frac = ms % 1000;
  if (frac < 0) {  // before 1970: floor, not truncate
    frac += 1000;
    --secs;
  }
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char tail[8];
  std::snprintf(tail, sizeof tail, ".%03dZ", static_cast<int>(frac));
  return std::string(text, n) + tail;
}

std::string webhook_body(const webhook_notification& n, std::string_view delivery_id) {
  json::object counts;
  std::int64_t total = 0;
  for (const auto& [state, count] : n.counts) {
    counts[state] = count;
    total += count;
  }
  counts["total"] = total;
  json::object body;
  body["schema_version"] = webhook_schema_version;
  body["event"] = to_string(n.event);
  body["delivery_id"] = delivery_id;
  body["timestamp"] = iso8601_utc(n.at);
  body["event_seq"] = n.event_seq;
  body["batch"] = n.batch;
  body["state"] = n.state;
  body["reason"] = n.reason;
  body["cause"] = n.cause ? json::value(to_string(*n.cause)) : json::value(nullptr);
  body["counts"] = std::move(counts);
  body["dry_run"] = n.dry_run;
  if (n.reports) {
    body["reports"] = json::object{{"json", n.reports->json_path}, {"csv", n.reports->csv_path}};
  } else {
    body["reports"] = nullptr;
  }
  return json::serialize(body);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  // The one-shot HMAC() is not deprecated in OpenSSL 3 (HMAC_CTX is).
  const unsigned char* out = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                  reinterpret_cast<const unsigned char*>(message.data()),
                                  message.size(), mac.data(), &length);
  if (out == nullptr) {
    // Only an allocation failure inside OpenSSL gets here.
    throw std::runtime_error("HMAC-SHA256 failed inside OpenSSL");
  }
  return hex(mac.data(), length);
}

std::string webhook_signature(std::string_view key, std::string_view timestamp,
                              std::string_view body) {
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).push_back('.');
  message.append(body);
  return "sha256=" + hmac_sha256_hex(key, message);
}

bool verify_webhook_signature(std::string_view key, std::string_view timestamp,
                              std::string_view body, std::string_view signature_header) {
  const std::string expected = webhook_signature(key, timestamp, body);
  return expected.size() == signature_header.size() &&
         CRYPTO_memcmp(expected.data(), signature_header.data(), expected.size()) == 0;
}

}  // namespace unlinkd::daemon
