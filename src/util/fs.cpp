#include "splitship/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <random>

#include "splitship/error.hpp"

namespace splitship {

void UniqueFd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void write_all(int fd, const void* data, std::size_t size, std::string_view path) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(ErrorKind::Store, "cannot write " + std::string(path) + ": " + errno_text(errno),
           errno == ENOSPC ? "free some space on the destination" : "");
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void fsync_or_throw(int fd, std::string_view path) {
  if (::fsync(fd) != 0)
    fail(ErrorKind::Store, "cannot fsync " + std::string(path) + ": " + errno_text(errno));
}

void fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) ::fsync(fd.get());  // best effort: some filesystems refuse directory fsync
}

void make_dirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    fail(ErrorKind::Destination, "cannot create folder " + dir + ": " + ec.message(),
         "check the destination path and its permissions");
}

std::string absolute_path(std::string_view path) {
  return std::filesystem::absolute(std::filesystem::path(path)).lexically_normal().string();
}

std::string random_suffix(std::size_t length) {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::uniform_int_distribution<int> pick(0, 35);
  std::string s(length, 'a');
  for (char& c : s) c = alphabet[pick(rd)];
  return s;
}

}  // namespace splitship
