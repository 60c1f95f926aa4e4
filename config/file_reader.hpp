#pragma once
// Reads a whole configuration or manifest file, refusing what is not a
// regular file (a FIFO would block forever) and what is larger than a limit,
// without reading more than the limit.

#include <cstddef>
#include <optional>
#include <string>

#include <sys/types.h>

namespace unlinkd::config {

struct file_contents {
  std::string bytes;
  uid_t owner = 0;
  mode_t mode = 0;  // permission bits
};

struct file_read_result {
  std::optional<file_contents> value;
  std::string error;  // a sentence, set when `value` is empty
  bool too_large = false;
};

file_read_result read_regular_file(const std::string& path, std::size_t max_bytes);

}  // namespace unlinkd::config
