// Plan-time helpers shared by the reduce family: the layout of a reduction over a set of axes,
// axis-range extents, and the work split used with ThreadPool::parallel_for.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/kernel.h"

namespace softdpu::kernels {

// A reduction of `shape` over some axes, reduced to what the loops need. Size-1 dimensions are
// dropped and neighbours with the same role (kept or reduced) merged, so e.g. NCHW over {2, 3}
// becomes outer = N*C, red = H*W, inner = 1. Strides are in elements of the (contiguous) input.
struct ReduceLayout {
  std::vector<int64_t> kept_dims, kept_strides;  // merged kept groups, outermost first
  std::vector<int64_t> red_dims, red_strides;    // merged reduced groups, outermost first
  int64_t out_count = 1;                         // elements of the result
  int64_t red_count = 1;                         // elements reduced into each result
  // True when the reduced groups form at most one block: input = outer x red_count x inner and
  // result o * inner + i reduces x[(o * red_count + r) * inner + i] over r.
  bool single_block = true;
  int64_t outer = 1;
  int64_t inner = 1;
};

// `reduced[d]` tells whether dimension d is reduced.
ReduceLayout make_reduce_layout(const Shape& shape, const std::vector<bool>& reduced);

// Input offset of result index `o` (row-major over the kept groups).
inline int64_t kept_offset(const ReduceLayout& l, int64_t o) {
  int64_t off = 0;
  for (size_t d = l.kept_dims.size(); d-- > 0;) {
    off += (o % l.kept_dims[d]) * l.kept_strides[d];
    o /= l.kept_dims[d];
  }
  return off;
}

// Calls f(offset) for every element of the reduced set of a result at input offset `base`, in
// row-major order. Recursion depth is the number of reduced groups (at most rank / 2 + 1).
template <typename F>
inline void for_each_reduced(const int64_t* dims, const int64_t* strides, size_t nd, int64_t base,
                             F& f) {
  if (nd == 0) {
    f(base);
    return;
  }
  if (nd == 1) {
    for (int64_t i = 0; i < dims[0]; ++i) f(base + i * strides[0]);
    return;
  }
  for (int64_t i = 0; i < dims[0]; ++i) {
    for_each_reduced(dims + 1, strides + 1, nd - 1, base + i * strides[0], f);
  }
}

template <typename F>
inline void for_each_reduced(const ReduceLayout& l, int64_t base, F& f) {
  for_each_reduced(l.red_dims.data(), l.red_strides.data(), l.red_dims.size(), base, f);
}

// Product of shape[begin, end).
int64_t extent(const Shape& shape, size_t begin, size_t end);

// parallel_for grain so that a chunk holds at least ~16K elements of work (below that a thread
// hand-off costs more than it saves).
inline int64_t grain_for(int64_t work_per_item) {
  constexpr int64_t kMinChunkWork = 16384;
  return work_per_item >= kMinChunkWork ? 1
                                        : kMinChunkWork / (work_per_item > 0 ? work_per_item : 1);
}

// double -> T for results computed in double: saturates integers and maps NaN to 0, so an
// integer output never goes through an undefined conversion.
template <typename T>
inline T from_double(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (std::isnan(v)) return T(0);
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) {
      return std::numeric_limits<T>::lowest();
    }
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) {
      return std::numeric_limits<T>::max();
    }
    return static_cast<T>(v);
  }
}

// Reads attribute `reduction` of the loss ops: "none", "sum" or "mean".
enum class LossReduction { kNone, kSum, kMean };
LossReduction loss_reduction(const runtime::PrepareContext& ctx);

// "input 2 ('scale')": how messages name an input.
std::string input_label(const runtime::PrepareContext& ctx, int i);

}  // namespace softdpu::kernels
