#include "util/task_pool.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>

namespace splitship {

void* allocate_huge_page_aware(std::size_t bytes) {
  constexpr std::size_t kHuge = 2 << 20;
  if (bytes < kHuge) {
    void* p = std::malloc(bytes ? bytes : 1);
    if (!p) throw std::bad_alloc();
    return p;
  }
  const std::size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
  void* p = std::aligned_alloc(kHuge, rounded);
  if (!p) throw std::bad_alloc();
  ::madvise(p, rounded, MADV_HUGEPAGE);  // best effort: a kernel without THP ignores it
  return p;
}

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
      ++running_;
    }
    task();
    {
      std::lock_guard lock(mutex_);
      --running_;
    }
    idle_changed_.notify_all();
  }
}

bool TaskPool::idle() {
  std::lock_guard lock(mutex_);
  return queue_.empty() && running_ == 0;
}

void TaskPool::wait_idle_for(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  idle_changed_.wait_for(lock, timeout, [this] { return queue_.empty() && running_ == 0; });
}

PartBuffer* BufferPool::acquire(const std::function<bool()>& cancelled) {
  std::unique_lock lock(mutex_);
  while (free_count_ == 0) {
    if (cancelled && cancelled()) return nullptr;
    available_.wait_for(lock, std::chrono::milliseconds(50));
  }
  --free_count_;
  std::unique_ptr<PartBuffer> buffer;
  if (!idle_.empty()) {
    buffer = std::move(idle_.back());
    idle_.pop_back();
  } else {
    buffer = std::make_unique<PartBuffer>();
    buffer->reserve(buffer_size_);
  }
  buffer->clear();
  lent_.push_back(std::move(buffer));
  return lent_.back().get();
}

void BufferPool::release(PartBuffer* buffer) {
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
