// Arena layout: every intermediate tensor and every kernel's scratch gets an offset in one buffer,
// reusing space between tensors whose lifetimes (first..last step that touches them) don't
// overlap. Greedy by size, largest first (the TFLite "greedy by size" strategy), 64-byte aligned.
#pragma once

#include <cstddef>
#include <vector>

namespace softdpu::runtime {

struct BufferRequest {
  size_t bytes = 0;
  int first_step = 0;  // inclusive
  int last_step = 0;   // inclusive
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per request
  size_t arena_bytes = 0;
};

MemoryPlan plan_memory(const std::vector<BufferRequest>& requests);

}  // namespace softdpu::runtime
