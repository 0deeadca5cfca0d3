#include "export/part_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "splitship/error.hpp"
#include "splitship/fs.hpp"

namespace splitship {

namespace {
constexpr std::size_t kChunk = 1 << 20;
}

FifoPartSink::FifoPartSink(std::string fifo_path, ObjectWriter& writer, std::atomic<std::uint64_t>& bytes_counter)
    : path_(std::move(fifo_path)), writer_(writer), bytes_(bytes_counter) {
  ::unlink(path_.c_str());
  if (::mkfifo(path_.c_str(), 0600) != 0)
    fail(ErrorKind::Store, "cannot create pipe " + path_ + ": " + errno_text(errno));
  thread_ = std::thread([this] { run(); });
}

FifoPartSink::~FifoPartSink() {
  abandon();
  ::unlink(path_.c_str());
}

void FifoPartSink::run() noexcept {
  try {
    UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));  // blocks until DuckDB opens it
    opened_ = true;
    if (!fd) fail(ErrorKind::Store, "cannot open pipe " + path_ + ": " + errno_text(errno));
    ::fcntl(fd.get(), F_SETPIPE_SZ, static_cast<int>(kChunk));  // fewer, larger reads; best effort
    std::vector<char> buf(kChunk);
    for (;;) {
      const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        fail(ErrorKind::Store, "cannot read pipe " + path_ + ": " + errno_text(errno));
      }
      writer_.write(buf.data(), static_cast<std::size_t>(n));
      bytes_ += static_cast<std::uint64_t>(n);
    }
  } catch (...) {
    error_ = std::current_exception();
    failed_ = true;
    // Returning closes our end: DuckDB's next write gets EPIPE and its COPY fails.
  }
}

void FifoPartSink::join_reader() noexcept {
  if (thread_.joinable()) thread_.join();
}

void FifoPartSink::finish() {
  join_reader();
  if (error_) std::rethrow_exception(error_);
}

void FifoPartSink::abandon() noexcept {
  if (!thread_.joinable()) return;
  if (!opened_) {
    // The reader may still block in open(): open the write end ourselves so it sees EOF.
    UniqueFd unblock(::open(path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    while (!opened_ && !unblock) {  // ENXIO until the reader thread sits in open()
      ::usleep(10000);
      unblock = UniqueFd(::open(path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    }
  }
  join_reader();
}

}  // namespace splitship
