// numpy multidirectional broadcasting, planned once at prepare time.
//
// The plan drops size-1 output dimensions and merges neighbouring dimensions that every input
// treats alike (all present, or all broadcast), so the common batch-1 cases collapse to one or
// two dimensions: same shape -> [n]; tensor op scalar -> [n] with stride 0; [m, n] + [n] bias ->
// [m, n]; NCHW + [C, 1, 1] -> [C, HW]. run() then walks rows of the innermost dimension, where
// every input's stride is 0 or 1, without allocating.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/elementwise/types.h"
#include "runtime/kernel.h"

namespace softdpu::kernels::ew {

inline constexpr int kMaxBroadcastInputs = 3;  // Where has three
inline constexpr int kMaxBroadcastRank = 12;   // after merging

struct BroadcastPlan {
  int rank = 1;
  int num_inputs = 0;
  int64_t numel = 0;
  int64_t dims[kMaxBroadcastRank] = {};
  // Element strides of each input over dims; 0 where the input is broadcast.
  int64_t strides[kMaxBroadcastInputs][kMaxBroadcastRank] = {};

  int64_t inner() const { return dims[rank - 1]; }
  // Whether input i advances along the innermost dimension (else it repeats one element).
  bool inner_vec(int i) const { return strides[i][rank - 1] != 0; }
};

// Plans inputs of the given shapes broadcast to `out` (already validated as their broadcast, e.g.
// by broadcast_shapes). Fails with ctx.unsupported past kMaxBroadcastRank merged dimensions.
BroadcastPlan make_broadcast_plan(const runtime::PrepareContext& ctx,
                                  const std::vector<Shape>& inputs, const Shape& out);

// Output shape of broadcasting all of `shapes` together (fails naming the first mismatch).
Shape broadcast_all(const runtime::PrepareContext& ctx, const std::vector<Shape>& shapes);

// Calls fn(offsets, out_offset, len) for each run of the innermost dimension that intersects the
// flat output range [begin, end); offsets[i] is input i's element offset at the run's start.
template <class Fn>
SOFTDPU_EW_INLINE void for_each_row(const BroadcastPlan& p, int64_t begin, int64_t end, Fn&& fn) {
  const int r = p.rank;
  const int ni = p.num_inputs;
  const int64_t inner = p.dims[r - 1];
  int64_t idx[kMaxBroadcastRank];
  int64_t off[kMaxBroadcastInputs] = {};
  int64_t rem = begin;
  for (int d = r - 1; d >= 0; --d) {
    idx[d] = rem % p.dims[d];
    rem /= p.dims[d];
    for (int i = 0; i < ni; ++i) off[i] += idx[d] * p.strides[i][d];
  }
  int64_t pos = begin;
  while (pos < end) {
    int64_t len = std::min(inner - idx[r - 1], end - pos);
    fn(static_cast<const int64_t*>(off), pos, len);
    pos += len;
    idx[r - 1] += len;
    for (int i = 0; i < ni; ++i) off[i] += len * p.strides[i][r - 1];
    if (idx[r - 1] < inner) continue;
    // Carry into the outer dimensions.
    idx[r - 1] = 0;
    for (int i = 0; i < ni; ++i) off[i] -= inner * p.strides[i][r - 1];
    for (int d = r - 2; d >= 0; --d) {
      ++idx[d];
      for (int i = 0; i < ni; ++i) off[i] += p.strides[i][d];
      if (idx[d] < p.dims[d]) break;
      idx[d] = 0;
      for (int i = 0; i < ni; ++i) off[i] -= p.dims[d] * p.strides[i][d];
    }
  }
}

}  // namespace softdpu::kernels::ew
