// usable_cpu_count follows the affinity mask (what taskset or a container's cpuset allows), not
// the machine's CPU total.
#include "core/cpu_count.h"

#include <gtest/gtest.h>
#include <sched.h>

namespace softdpu {
namespace {

TEST(CpuCount, FollowsTheAffinityMask) {
  cpu_set_t original;
  ASSERT_EQ(sched_getaffinity(0, sizeof(original), &original), 0);
  EXPECT_EQ(usable_cpu_count(), CPU_COUNT(&original));
  int first = -1;
  for (int c = 0; c < CPU_SETSIZE && first < 0; ++c)
    if (CPU_ISSET(c, &original)) first = c;
  ASSERT_GE(first, 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const int pinned = usable_cpu_count();
  ASSERT_EQ(sched_setaffinity(0, sizeof(original), &original), 0);
  EXPECT_EQ(pinned, 1);
}

}  // namespace
}  // namespace softdpu
