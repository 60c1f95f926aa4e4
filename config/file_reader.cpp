#include "config/file_reader.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace unlinkd::config {

namespace {

class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

file_read_result read_regular_file(const std::string& path, std::size_t max_bytes) {
  file_read_result out;
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then
  // refuses it before any read.
  const fd_guard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) {
    out.error = std::string("cannot open it: ") + std::strerror(errno);
    return out;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    out.error = std::string("cannot stat it: ") + std::strerror(errno);
    return out;
  }
  if (S_ISDIR(st.st_mode)) {
    out.error = "it is a directory, not a file";
    return out;
  }
  if (!S_ISREG(st.st_mode)) {
    out.error = "it is not a regular file (a FIFO, socket or device); give a plain file";
    return out;
  }
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    out.too_large = true;
    out.error = "the file is " + std::to_string(st.st_size) + " bytes, over the limit of " +
                std::to_string(max_bytes) + " bytes";
    return out;
  }
  file_contents contents;
  contents.owner = st.st_uid;
  contents.mode = st.st_mode & 07777;
  // One byte more than the size seen: a file that did not grow is read
  // without ever growing (and so doubling) the buffer.
  contents.bytes.resize(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t done = 0;
  // Read up to one byte past the size seen, so a file that grew meanwhile
  // is still held to the limit.
  while (true) {
    if (done == contents.bytes.size()) {
      if (done > max_bytes) {
        out.too_large = true;
        out.error = "the file grew past the limit of " + std::to_string(max_bytes) +
                    " bytes while it was read";
        return out;
      }
      contents.bytes.resize(done + 4096);
    }
    const ssize_t n = ::read(fd.get(), contents.bytes.data() + done, contents.bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      out.error = std::string("cannot read it: ") + std::strerror(errno);
      return out;
    }
    if (n == 0) {
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  contents.bytes.resize(done);
  if (done > max_bytes) {
    out.too_large = true;
    out.error = "the file is over the limit of " + std::to_string(max_bytes) + " bytes";
    return out;
  }
  out.value = std::move(contents);
  return out;
}

}  // namespace unlinkd::config
