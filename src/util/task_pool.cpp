#include "util/task_pool.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

namespace splitship {

TaskPool::TaskPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

TaskPool::~TaskPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void TaskPool::submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void TaskPool::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to do
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

std::vector<char>* BufferPool::acquire(const std::function<bool()>& cancelled) {
  std::unique_lock lock(mutex_);
  while (free_count_ == 0) {
    if (cancelled && cancelled()) return nullptr;
    available_.wait_for(lock, std::chrono::milliseconds(50));
  }
  --free_count_;
  std::unique_ptr<std::vector<char>> buffer;
  if (!idle_.empty()) {
    buffer = std::move(idle_.back());
    idle_.pop_back();
  } else {
    buffer = std::make_unique<std::vector<char>>();
    buffer->reserve(buffer_size_);
  }
  buffer->clear();
  lent_.push_back(std::move(buffer));
  return lent_.back().get();
}

void BufferPool::release(std::vector<char>* buffer) {
  {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(lent_.begin(), lent_.end(), [&](const auto& p) { return p.get() == buffer; });
    if (it == lent_.end()) return;
    idle_.push_back(std::move(*it));
    lent_.erase(it);
    ++free_count_;
  }
  available_.notify_one();
}

}  // namespace splitship
