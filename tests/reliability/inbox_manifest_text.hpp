#pragma once
// The generated manifest (unlinkd-sandbox --manifest-out) cut into its head
// and one text block per account, so the Inbox scenario can write many small
// valid manifests for the same world, each with accounts of its own (an
// account may be in one unfinished batch only), and cut a manifest at an
// account's boundary, where a half-written file is still a valid manifest.
// Pure text: no files.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

namespace unlinkd::reliability {

class inbox_manifest_text {
 public:
  // Splits `text`: the lines before `accounts:` (with one `batch:` line),
  // then each entry of the list (a line "  - " and the lines under it). The
  // error is a sentence.
  static boost::system::result<inbox_manifest_text, std::string> split(std::string_view text);

  [[nodiscard]] std::size_t accounts() const { return blocks_.size(); }

  // A manifest named `batch` holding the accounts [first, first + count).
  [[nodiscard]] std::string with_accounts(const std::string& batch, std::size_t first,
                                          std::size_t count) const;

  // The head alone (no accounts), named `batch`: the start of a file.
  [[nodiscard]] std::string head(const std::string& batch) const;

 private:
  std::string before_batch_;  // up to "batch: "
  std::string after_batch_;   // from the end of the batch line to "accounts:\n" included
  std::vector<std::string> blocks_;
};

}  // namespace unlinkd::reliability
