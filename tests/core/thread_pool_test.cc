// ThreadPool's counters: every chunk runs once, and a chunk counts as late only when the calling
// thread ran it for a worker.
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace softdpu {
namespace {

TEST(ThreadPool, InlineJobsAreNotCounted) {
  ThreadPool pool(1);
  int64_t covered = 0;
  pool.parallel_for(100, 1, [&](int64_t b, int64_t e) { covered += e - b; });
  EXPECT_EQ(covered, 100);
  EXPECT_EQ(pool.jobs(), 0);
  EXPECT_EQ(pool.late_chunks(), 0);
}

// Chunk 0 (the caller's) does not finish before chunk 1 has run, so the worker must have taken
// chunk 1: no late chunk. Then jobs whose timing is free: every chunk still runs once, and the
// caller never counts more than the workers' chunks.
TEST(ThreadPool, LateChunksCountOnlyChunksTheCallerTookOver) {
  ThreadPool pool(2);
  for (int i = 0; i < 50; ++i) {
    std::atomic<bool> second_done{false};
    pool.parallel_for(2, 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        if (c == 0) {
          while (!second_done.load()) {
          }
        } else {
          second_done.store(true);
        }
      }
    });
  }
  EXPECT_EQ(pool.jobs(), 50);
  EXPECT_EQ(pool.late_chunks(), 0);

  std::vector<std::atomic<int>> runs(2);
  for (int i = 0; i < 200; ++i) {
    pool.parallel_for(2, 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) runs[static_cast<size_t>(c)].fetch_add(1);
    });
  }
  EXPECT_EQ(runs[0].load(), 200);
  EXPECT_EQ(runs[1].load(), 200);
  EXPECT_EQ(pool.jobs(), 250);
  EXPECT_LE(pool.late_chunks(), 200);
}

}  // namespace
}  // namespace softdpu
