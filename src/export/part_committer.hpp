// Commits one split's part files in order, on a thread of its own, while the split's writer
// goes on to the next file. Committing a file waits until its last parts have crossed the link
// (up to `concurrency` parts of 16 MiB: many seconds on a slow link); a writer that waited too
// would stop the reading for every split and leave the link idle once those parts are gone.
// At most one commit waits at a time: memory stays bounded by the store's part buffers.
#pragma once
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>

#include "util/task_pool.hpp"

namespace splitship {

class PartCommitter {
 public:
  // `on_failure` runs (on the committer's thread) when a commit throws: it should stop the
  // writer, whose next submit() or finish() then throws that commit's error.
  explicit PartCommitter(std::function<void()> on_failure);
  // Waits for the commit in progress: what it uses must outlive it.
  ~PartCommitter();
  PartCommitter(const PartCommitter&) = delete;
  PartCommitter& operator=(const PartCommitter&) = delete;

  // Runs `commit` once the previous one is done; throws the previous one's error instead.
  void submit(std::function<void()> commit);
  // Waits for the last commit; throws its error.
  void finish();
  // For the writer's catch block: once the commit in progress is done, rethrows its error when
  // it failed (the writer was stopped because of it), or else `writer_error`.
  [[noreturn]] void rethrow_cause(std::exception_ptr writer_error);

 private:
  void run(const std::function<void()>& commit) noexcept;
  std::exception_ptr wait_for_previous();

  std::function<void()> on_failure_;
  std::mutex mutex_;
  std::condition_variable done_;
  bool busy_ = false;
  std::exception_ptr error_;
  TaskPool thread_{1};  // last: destroyed first, so the running commit ends before the rest goes
};

}  // namespace splitship
