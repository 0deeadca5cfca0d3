// Logging (text or one JSON object per line) and the terminal progress display.
#pragma once
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace splitship {

enum class LogLevel { Quiet = 0, Info = 1, Debug = 2 };
enum class LogFormat { Text, Json };

using LogFields = std::vector<std::pair<std::string, std::string>>;

class Logger {
 public:
  Logger(LogFormat format, LogLevel level, std::FILE* out) : format_(format), level_(level), out_(out) {}
  void debug(const std::string& msg, const LogFields& fields = {}) { emit(LogLevel::Debug, "debug", msg, fields); }
  void info(const std::string& msg, const LogFields& fields = {}) { emit(LogLevel::Info, "info", msg, fields); }
  // Warnings and errors print even with -q.
  void warn(const std::string& msg, const LogFields& fields = {}) { emit(LogLevel::Quiet, "warn", msg, fields); }
  void error(const std::string& msg, const LogFields& fields = {}) { emit(LogLevel::Quiet, "error", msg, fields); }
  LogFormat format() const { return format_; }
  LogLevel level() const { return level_; }
  // While a progress display owns the terminal, log lines clear it first.
  void set_clear_line_hook(bool on) { clear_line_ = on; }

 private:
  void emit(LogLevel min_level, const char* level_name, const std::string& msg, const LogFields& fields);
  LogFormat format_;
  LogLevel level_;
  std::FILE* out_;
  std::mutex mutex_;
  bool clear_line_ = false;
};

// Cooperative cancellation: set by a signal handler or a failing worker, polled by the rest.
struct CancelToken {
  std::atomic<bool> requested{false};
  bool cancelled() const { return requested.load(std::memory_order_relaxed); }
  void cancel() { requested.store(true, std::memory_order_relaxed); }
};

// What the exporter reports while it runs; the CLI renders it.
struct SplitProgress {
  std::string name;
  std::uint64_t rows_total = 0, rows_done = 0;  // rows_total 0 with rows_known false: streamed, known at the end
  std::uint64_t bytes_done = 0;
  std::uint64_t parts_done = 0;
  bool rows_known = true;
};
// Files of `cp`: bytes handed to the store so far.
struct TransferProgress {
  std::uint64_t files_total = 0, files_done = 0;
  std::uint64_t bytes_total = 0, bytes_done = 0;
};
struct ProgressSnapshot {
  std::string phase;         // "reading", "writing", "publishing"; "uploading" for cp
  double phase_fraction = -1;  // 0..1 of the input read (while reading or streaming), when DuckDB knows
  double elapsed_s = 0;
  std::vector<SplitProgress> splits;
  TransferProgress transfer;  // cp
};

class ProgressListener {
 public:
  virtual ~ProgressListener() = default;
  virtual void update(const ProgressSnapshot& snapshot) = 0;
  virtual void finish() = 0;
};

// Renders one line per split (rows, bytes, rate, ETA) on a terminal, redrawn in place.
class TerminalProgress final : public ProgressListener {
 public:
  explicit TerminalProgress(std::FILE* out) : out_(out) {}
  void update(const ProgressSnapshot& snapshot) override;
  void finish() override;

 private:
  std::FILE* out_;
  std::size_t lines_drawn_ = 0;
  std::mutex mutex_;
};

std::string json_escape(std::string_view s);
std::string utc_now_iso8601();
// "2026-11-24T03:34:11.381Z" for a point in time (e.g. a file's mtime).
std::string iso8601_utc(const timespec& ts);
// "20261124T031500Z": run ids and SigV4's x-amz-date.
std::string utc_now_basic();

}  // namespace splitship
