// Small POSIX file helpers with errors that name the path.
#pragma once
#include <string>
#include <string_view>

namespace splitship {

// RAII file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept { if (this != &o) { reset(); fd_ = o.release(); } return *this; }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { int f = fd_; fd_ = -1; return f; }
  void reset();

 private:
  int fd_ = -1;
};

void write_all(int fd, const void* data, std::size_t size, std::string_view path);
void fsync_or_throw(int fd, std::string_view path);
void fsync_dir(const std::string& dir);
void make_dirs(const std::string& dir);
// The path made absolute (against the working folder) and normalised, without touching disk.
std::string absolute_path(std::string_view path);
// A random lowercase alphanumeric string (for temp names and run ids).
std::string random_suffix(std::size_t length);

}  // namespace splitship
