// The one place that owns worker threads: a fixed pool running submitted tasks in order.
// Destruction waits for queued and running tasks; callers cancel through their own tokens.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace splitship {

class TaskPool {
 public:
  explicit TaskPool(int threads);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Tasks must not throw (wrap and record errors yourself).
  void submit(std::function<void()> task);

 private:
  void run();
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Fixed set of equally sized byte buffers; acquire() blocks while all are in use, which is
// what bounds memory: producers wait for uploads instead of buffering more.
class BufferPool {
 public:
  BufferPool(std::size_t count, std::size_t buffer_size) : free_count_(count), buffer_size_(buffer_size) {}
  // Returns an empty buffer with capacity ≥ buffer_size; nullptr once cancelled() says so.
  std::vector<char>* acquire(const std::function<bool()>& cancelled);
  void release(std::vector<char>* buffer);
  std::size_t buffer_size() const { return buffer_size_; }

 private:
  std::mutex mutex_;
  std::condition_variable available_;
  std::size_t free_count_;
  std::size_t buffer_size_;
  std::vector<std::unique_ptr<std::vector<char>>> idle_;
  std::vector<std::unique_ptr<std::vector<char>>> lent_;
};

}  // namespace splitship
