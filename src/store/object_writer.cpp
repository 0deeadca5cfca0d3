#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "splitship/error.hpp"
#include "splitship/store.hpp"

namespace splitship {

namespace {
constexpr std::size_t kFileSlice = 1 << 20;
}

void ObjectWriter::write_file(int fd, const std::string& path, std::uint64_t size,
                              const std::function<void(std::uint64_t)>& on_read) {
  std::vector<char> slice(kFileSlice);
  std::uint64_t offset = 0;
  while (offset < size) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(slice.size(), size - offset));
    const ssize_t n = ::pread(fd, slice.data(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(ErrorKind::Input, "cannot read " + path + ": " + errno_text(errno));
    if (n == 0) fail(ErrorKind::Input, path + " changed size while it was being uploaded", "upload it again once it is stable");
    write(slice.data(), static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
    if (on_read) on_read(static_cast<std::uint64_t>(n));
  }
}

}  // namespace splitship
