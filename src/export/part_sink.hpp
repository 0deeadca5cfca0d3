// Streams one Parquet part from DuckDB to the store: DuckDB COPYs into a named pipe, a reader
// thread takes the bytes and hands them to the store's writer, which hashes them once as they
// enter its buffers. No spool file, no second read.
#pragma once
#include <atomic>
#include <exception>
#include <string>
#include <thread>

#include "splitship/store.hpp"

namespace splitship {

class FifoPartSink {
 public:
  // Creates the named pipe at fifo_path and starts the reader thread.
  FifoPartSink(std::string fifo_path, ObjectWriter& writer, std::atomic<std::uint64_t>& bytes_counter);
  ~FifoPartSink();
  FifoPartSink(const FifoPartSink&) = delete;
  FifoPartSink& operator=(const FifoPartSink&) = delete;

  // After the producer finished successfully: waits for the reader. Rethrows whatever the
  // reader hit (e.g. the store failed).
  void finish();
  // After the producer failed: unblocks and joins the reader, discarding its result.
  void abandon() noexcept;
  // True once the reader failed; the producer should be interrupted.
  bool failed() const { return failed_.load(); }

 private:
  void run() noexcept;
  void join_reader() noexcept;

  std::string path_;
  ObjectWriter& writer_;
  std::atomic<std::uint64_t>& bytes_;
  std::atomic<bool> opened_{false};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace splitship
