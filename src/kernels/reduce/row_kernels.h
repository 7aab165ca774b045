// Float32 microkernels behind the reduce family's hot paths: softmax and log-softmax over a row or
// along a strided axis, layer-norm rows, per-channel scale-and-shift, and row reductions. Each
// exists as a scalar reference twin (row_kernels_scalar.cc) and as AVX2 and AVX-512 versions
// (row_kernels_simd.cc); ops fetch the table for active_isa() once per run.
//
// All functions are pure: they read their inputs, write their outputs, never allocate. Where a
// row holds NaN, max/min (and so softmax) results are unspecified and may differ between ISAs.
#pragma once

#include <cstdint>

#include "core/cpu.h"

namespace softdpu::kernels {

struct RowKernels {
  // Reductions of x[0..n); max/min of an empty row are -inf/+inf, sums are 0.
  float (*max)(const float* x, int64_t n);
  float (*min)(const float* x, int64_t n);
  float (*sum)(const float* x, int64_t n);
  float (*sum_abs)(const float* x, int64_t n);
  float (*sum_sq)(const float* x, int64_t n);
  // sum of exp(x[i] - shift), shift usually max(x) (ReduceLogSumExp).
  float (*sum_exp)(const float* x, int64_t n, float shift);
  // Mean and population variance of a row (two passes, so no cancellation); n > 0.
  void (*mean_var)(const float* x, int64_t n, float* mean, float* var);
  // y = x * a + b.
  void (*scale_shift)(const float* x, float* y, int64_t n, float a, float b);
  // y = (x - mean) * inv_std * gamma + beta; beta may be null (no shift).
  void (*normalize)(const float* x, float* y, int64_t n, float mean, float inv_std,
                    const float* gamma, const float* beta);
  // Softmax / log-softmax of one contiguous row (n > 0).
  void (*softmax)(const float* x, float* y, int64_t n);
  void (*log_softmax)(const float* x, float* y, int64_t n);
  // The same along an axis of n elements `stride` floats apart, for `count` adjacent positions
  // (x[k + j * stride] for j < n, k < count): the vectors run along the contiguous positions.
  void (*softmax_strided)(const float* x, float* y, int64_t n, int64_t stride, int64_t count);
  void (*log_softmax_strided)(const float* x, float* y, int64_t n, int64_t stride, int64_t count);
};

// The table for one ISA; asking for an ISA above the CPU's returns the best supported one.
const RowKernels& row_kernels(Isa isa);
inline const RowKernels& active_row_kernels() {
  return row_kernels(active_isa());
}

// Per ISA (defined next to the implementations).
const RowKernels& row_kernels_scalar();
const RowKernels& row_kernels_avx2();
const RowKernels& row_kernels_avx512();

}  // namespace softdpu::kernels
