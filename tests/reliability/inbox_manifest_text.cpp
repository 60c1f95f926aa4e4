#include "tests/reliability/inbox_manifest_text.hpp"

namespace unlinkd::reliability {

boost::system::result<inbox_manifest_text, std::string> inbox_manifest_text::split(
    std::string_view text) {
  inbox_manifest_text out;
  const auto batch_at = text.find("\nbatch: ");
  const auto list_at = text.find("\naccounts:\n");
  if (batch_at == std::string_view::npos || list_at == std::string_view::npos ||
      list_at < batch_at) {
    return {boost::system::in_place_error,
            "the manifest has no top-level `batch:` line before `accounts:`"};
  }
  const auto batch_end = text.find('\n', batch_at + 1);
  out.before_batch_ = std::string(text.substr(0, batch_at + 8));
  const std::size_t list_start = list_at + 11;
  out.after_batch_ = std::string(text.substr(batch_end, list_start - batch_end));
  std::size_t at = list_start;
  while (at < text.size()) {
    // The next entry starts at the next line beginning with "  - ".
    auto next = text.find("\n  - ", at);
    const std::size_t end = next == std::string_view::npos ? text.size() : next + 1;
    if (!text.substr(at).starts_with("  - ")) {
      return {boost::system::in_place_error,
              "an account entry does not start with \"  - \" at byte " + std::to_string(at)};
    }
    out.blocks_.emplace_back(text.substr(at, end - at));
    if (!out.blocks_.back().ends_with('\n')) {
      out.blocks_.back() += '\n';
    }
    at = end;
  }
  if (out.blocks_.empty()) {
    return {boost::system::in_place_error, "the manifest lists no accounts"};
  }
  return out;
}

std::string inbox_manifest_text::head(const std::string& batch) const {
  return before_batch_ + batch + after_batch_;
}

std::string inbox_manifest_text::with_accounts(const std::string& batch, std::size_t first,
                                               std::size_t count) const {
  std::string out = head(batch);
  for (std::size_t i = first; i < first + count && i < blocks_.size(); ++i) {
    out += blocks_[i];
  }
  return out;
}

}  // namespace unlinkd::reliability
