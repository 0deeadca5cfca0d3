// A split's part files are committed in order, one at a time, beside its writer.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "export/part_committer.hpp"
#include "splitship/error.hpp"

using namespace splitship;
using namespace std::chrono_literals;

TEST(PartCommitter, CommitsRunInOrderBesideTheWriter) {
  std::mutex m;
  std::vector<int> order;
  auto record = [&](int n) {
    std::lock_guard lock(m);
    order.push_back(n);
  };
  auto recorded = [&] {
    std::lock_guard lock(m);
    return order;
  };
  std::atomic<bool> release_first{false}, release_second{false}, first_started{false};
  PartCommitter committer(nullptr);
  committer.submit([&] {
    first_started = true;
    while (!release_first) std::this_thread::sleep_for(1ms);
    record(1);
  });
  // submit() returned while the first commit is held: the writer goes on.
  while (!first_started) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(recorded().empty());
  std::thread releaser([&] {
    std::this_thread::sleep_for(20ms);
    release_first = true;
  });
  // The second waits for the first to end: at most one commit is pending.
  committer.submit([&] {
    while (!release_second) std::this_thread::sleep_for(1ms);
    record(2);
  });
  EXPECT_EQ(recorded(), (std::vector<int>{1}));
  release_second = true;
  committer.finish();
  releaser.join();
  EXPECT_EQ(recorded(), (std::vector<int>{1, 2}));
}

TEST(PartCommitter, AFailedCommitStopsTheWriterAndIsWhatItThrows) {
  std::atomic<int> stops{0};
  PartCommitter committer([&] { ++stops; });
  committer.submit([] { fail(ErrorKind::Integrity, "part 3 stored with another ETag"); });
  // The writer, stopped, fails with an echo of the stop; the commit's error is the cause.
  const auto echo = std::make_exception_ptr(Error(ErrorKind::Cancelled, "stopped"));
  try {
    committer.rethrow_cause(echo);
    FAIL() << "rethrow_cause returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Integrity);
  }
  EXPECT_EQ(stops.load(), 1);
  // Nothing more is committed after a failure.
  bool ran = false;
  EXPECT_THROW(committer.submit([&] { ran = true; }), Error);
  EXPECT_THROW(committer.finish(), Error);
  EXPECT_FALSE(ran);
}

TEST(PartCommitter, TheWritersOwnErrorStandsWhenCommitsSucceeded) {
  PartCommitter committer(nullptr);
  bool committed = false;
  committer.submit([&] { committed = true; });
  try {
    committer.rethrow_cause(std::make_exception_ptr(std::runtime_error("bad row in input.jsonl line 7")));
    FAIL() << "rethrow_cause returned";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "bad row in input.jsonl line 7");
  }
  EXPECT_TRUE(committed);  // it waited for the commit in progress first
}
