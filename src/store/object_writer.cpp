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

void ObjectWriter::read_file_slices(int fd, const std::string& path, std::uint64_t offset, std::uint64_t size,
                                    std::vector<char>& slice, const std::function<void(const char*, std::size_t)>& visit) {
  std::uint64_t done = 0;
  while (done < size) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(slice.size(), size - done));
    const ssize_t n = ::pread(fd, slice.data(), want, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(ErrorKind::Input, "cannot read " + path + ": " + errno_text(errno));
    if (n == 0) fail(ErrorKind::Input, path + " changed size while it was being uploaded", "upload it again once it is stable");
    visit(slice.data(), static_cast<std::size_t>(n));
    done += static_cast<std::uint64_t>(n);
  }
}

void ObjectWriter::write_file(int fd, const std::string& path, std::uint64_t size,
                              const std::function<void(std::uint64_t)>& on_read) {
  std::vector<char> slice(kFileSlice);
  read_file_slices(fd, path, 0, size, slice, [&](const char* data, std::size_t n) {
    write(data, n);
    if (on_read) on_read(n);
  });
}

}  // namespace splitship
