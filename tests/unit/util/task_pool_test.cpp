// The pool that owns worker threads, and the part buffers' allocator.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "util/task_pool.hpp"

using namespace splitship;

TEST(TaskPool, IdleOnlyOnceEveryTaskRan) {
  TaskPool pool(2);
  EXPECT_TRUE(pool.idle());
  std::atomic<int> ran{0};
  std::atomic<bool> release{false};
  for (int i = 0; i < 5; ++i)
    pool.submit([&] {
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ++ran;
    });
  EXPECT_FALSE(pool.idle());
  pool.wait_idle_for(std::chrono::milliseconds(20));  // times out: the tasks are held
  EXPECT_FALSE(pool.idle());
  release = true;
  while (!pool.idle()) pool.wait_idle_for(std::chrono::milliseconds(100));
  EXPECT_EQ(ran.load(), 5);
}

TEST(HugePageAllocator, LargeBlocksAreAlignedToHugePagesAndUsable) {
  PartBuffer big;
  big.reserve(5 << 20);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(big.data()) % (2 << 20), 0u);
  big.resize(5 << 20, 'x');
  EXPECT_EQ(big[(5 << 20) - 1], 'x');
  PartBuffer small(100, 'y');
  EXPECT_EQ(small[99], 'y');
}
