#include "export/part_committer.hpp"

namespace splitship {

PartCommitter::PartCommitter(std::function<void()> on_failure) : on_failure_(std::move(on_failure)) {}

PartCommitter::~PartCommitter() {
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return !busy_; });
}

std::exception_ptr PartCommitter::wait_for_previous() {
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return !busy_; });
  return error_;
}

void PartCommitter::submit(std::function<void()> commit) {
  if (std::exception_ptr e = wait_for_previous()) std::rethrow_exception(e);
  {
    std::lock_guard lock(mutex_);
    busy_ = true;
  }
  thread_.submit([this, commit = std::move(commit)] { run(commit); });
}

void PartCommitter::run(const std::function<void()>& commit) noexcept {
  std::exception_ptr error;
  try {
    commit();
  } catch (...) {
    error = std::current_exception();
  }
  if (error && on_failure_) {
    try {
      on_failure_();
    } catch (...) {
    }
  }
  {
    std::lock_guard lock(mutex_);
    if (error && !error_) error_ = error;
    busy_ = false;
  }
  done_.notify_all();
}

void PartCommitter::finish() {
  if (std::exception_ptr e = wait_for_previous()) std::rethrow_exception(e);
}

void PartCommitter::rethrow_cause(std::exception_ptr writer_error) {
  if (std::exception_ptr e = wait_for_previous()) std::rethrow_exception(e);
  std::rethrow_exception(writer_error);
}

}  // namespace splitship
