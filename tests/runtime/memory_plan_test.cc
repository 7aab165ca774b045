#include "runtime/memory_plan.h"

#include <gtest/gtest.h>

namespace softdpu::runtime {
namespace {

bool overlap(size_t a, size_t as, size_t b, size_t bs) {
  return a < b + bs && b < a + as;
}

TEST(MemoryPlan, DisjointLifetimesShareAndLiveOnesDoNot) {
  std::vector<BufferRequest> r = {{1000, 0, 1}, {1000, 2, 3}, {500, 1, 2}, {64, 0, 3}};
  MemoryPlan p = plan_memory(r);
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(p.offsets[i] % 64, 0u);
    for (size_t j = i + 1; j < r.size(); ++j) {
      bool live_together = r[i].first_step <= r[j].last_step && r[j].first_step <= r[i].last_step;
      if (live_together) {
        EXPECT_FALSE(overlap(p.offsets[i], r[i].bytes, p.offsets[j], r[j].bytes)) << i << "," << j;
      }
    }
  }
  // The two 1000-byte buffers never live together: they share space, so the arena is smaller
  // than the sum of the requests.
  EXPECT_EQ(p.offsets[0], p.offsets[1]);
  EXPECT_LT(p.arena_bytes, 1024u + 1024u + 512u + 64u);
}

}  // namespace
}  // namespace softdpu::runtime
