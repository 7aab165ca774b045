#include "runtime/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace softdpu::runtime {
namespace {
constexpr size_t kAlign = 64;
size_t align_up(size_t n) {
  return (n + kAlign - 1) / kAlign * kAlign;
}
}  // namespace

MemoryPlan plan_memory(const std::vector<BufferRequest>& requests) {
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return requests[a].bytes > requests[b].bytes; });
  struct Placed {
    size_t offset, size;
    int first, last;
  };
  std::vector<Placed> placed;
  for (size_t idx : order) {
    const BufferRequest& r = requests[idx];
    size_t size = align_up(std::max<size_t>(r.bytes, 1));
    // Conflicting buffers sorted by offset; take the first gap that fits.
    std::vector<Placed> conflicts;
    for (const Placed& p : placed) {
      if (p.first <= r.last_step && r.first_step <= p.last) conflicts.push_back(p);
    }
    std::sort(conflicts.begin(), conflicts.end(),
              [](const Placed& a, const Placed& b) { return a.offset < b.offset; });
    size_t offset = 0;
    for (const Placed& c : conflicts) {
      if (offset + size <= c.offset) break;
      offset = std::max(offset, c.offset + c.size);
    }
    plan.offsets[idx] = offset;
    placed.push_back({offset, size, r.first_step, r.last_step});
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
  }
  return plan;
}

}  // namespace softdpu::runtime
