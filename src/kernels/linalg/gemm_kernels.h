// Internal to the gemm implementation: the block functions each ISA file provides. gemm.cc owns
// threading and dispatch; the ISA files own the register-blocked microkernels.
#pragma once

#include <cstdint>

#include "kernels/activation.h"

namespace softdpu::kernels::detail {

// One product, described for the block functions. Activations that need libm (Sigmoid, Tanh)
// are applied by gemm.cc after the block, so `act` here is only None/Relu/LeakyRelu/Clip.
struct GemmJob {
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int64_t a_rs = 0, a_cs = 1;  // A[i, k] = a[i * a_rs + k * a_cs]
  const float* b = nullptr;    // packed panels (gemm.h layout)
  float* c = nullptr;
  int64_t ldc = 0;
  const float* bias = nullptr;      // per column
  const float* row_bias = nullptr;  // per row
  bool accumulate = false;
  Activation act;
  bool tile_prefetch = true;    // GemmEpilogue::tile_prefetch
  bool reverse_panels = false;  // GemmEpilogue::reverse_panels, when m == 1 (false otherwise)
};

// First panel of group g of the m == 1 loops, which walk [p0, p1) in groups of `width` panels
// (the last one may be short), from the end when job.reverse_panels.
inline int64_t gemv_group(const GemmJob& job, int64_t p0, int64_t p1, int64_t width, int64_t g) {
  const int64_t groups = (p1 - p0 + width - 1) / width;
  return p0 + (job.reverse_panels ? groups - 1 - g : g) * width;
}

// K is processed in slices of this many rows so a 32-column B slice (32 KiB) stays in L1 while
// every row tile of A passes over it.
constexpr int64_t kGemmKc = 256;

// Computes C rows [m0, m1) x panels [p0, p1) of the job (all of K).
void gemm_block_scalar(const GemmJob& job, int64_t m0, int64_t m1, int64_t p0, int64_t p1);
void gemm_block_avx2(const GemmJob& job, int64_t m0, int64_t m1, int64_t p0, int64_t p1);
void gemm_block_avx512(const GemmJob& job, int64_t m0, int64_t m1, int64_t p0, int64_t p1);

// In-register activations share this scalar definition with the reference.
inline bool act_in_register(ActKind k) {
  return k == ActKind::kNone || k == ActKind::kRelu || k == ActKind::kLeakyRelu ||
         k == ActKind::kClip;
}

}  // namespace softdpu::kernels::detail
