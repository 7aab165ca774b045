// AVX2+FMA microkernels for the packed GEMM (target attribute per function; see gemm_avx512.cc).
//
//  - m == 1: four panels at a time = 8 ymm accumulators (fewer panels: more K rows in flight),
//    which covers FMA latency at the load rate.
//  - m > 1: a 6 x 16 register tile (12 accumulators, one panel) over K slices of kGemmKc.
#include <immintrin.h>

#include <algorithm>

#include "kernels/linalg/gemm.h"
#include "kernels/linalg/gemm_kernels.h"

#define SOFTDPU_AVX2 __attribute__((target("avx2,fma")))

namespace softdpu::kernels::detail {
namespace {

constexpr int kMr = 6;

struct Epi {
  bool load_c;
  bool last;
  const float* bias;
  const float* row_bias;
  Activation act;
};

SOFTDPU_AVX2 inline __m256 activate(__m256 v, const Activation& act) {
  switch (act.kind) {
    case ActKind::kRelu: return _mm256_max_ps(v, _mm256_setzero_ps());
    case ActKind::kLeakyRelu: {
      __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
      return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(act.alpha)), neg);
    }
    case ActKind::kClip:
      return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(act.alpha)), _mm256_set1_ps(act.beta));
    default: return v;
  }
}

// Lanes [0, cols) of an 8-float vector.
SOFTDPU_AVX2 inline __m256i lane_mask(int64_t cols) {
  const int n = static_cast<int>(std::clamp<int64_t>(cols, 0, 8));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

SOFTDPU_AVX2 inline void finish(__m256 v, float* c, int64_t cols, const Epi& e, const float* bias,
                                float row_bias) {
  if (cols >= 8) {
    if (e.load_c) v = _mm256_add_ps(v, _mm256_loadu_ps(c));
    if (e.last) {
      if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias));
      if (e.row_bias) v = _mm256_add_ps(v, _mm256_set1_ps(row_bias));
      v = activate(v, e.act);
    }
    _mm256_storeu_ps(c, v);
    return;
  }
  if (cols <= 0) return;
  const __m256i mask = lane_mask(cols);
  if (e.load_c) v = _mm256_add_ps(v, _mm256_maskload_ps(c, mask));
  if (e.last) {
    if (bias) v = _mm256_add_ps(v, _mm256_maskload_ps(bias, mask));
    if (e.row_bias) v = _mm256_add_ps(v, _mm256_set1_ps(row_bias));
    v = activate(v, e.act);
  }
  _mm256_maskstore_ps(c, mask, v);
}

template <int MR>
SOFTDPU_AVX2 void tile(int64_t kc, const float* a, int64_t rs, int64_t cs, const float* b, float* c,
                       int64_t ldc, int64_t cols, const Epi& e) {
  __m256 lo[MR], hi[MR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) lo[r] = hi[r] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b + k * 16);
    const __m256 b1 = _mm256_loadu_ps(b + k * 16 + 8);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256 x = _mm256_broadcast_ss(a + r * rs + k * cs);
      lo[r] = _mm256_fmadd_ps(x, b0, lo[r]);
      hi[r] = _mm256_fmadd_ps(x, b1, hi[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    const float rb = e.row_bias ? e.row_bias[r] : 0.f;
    finish(lo[r], c + r * ldc, cols, e, e.bias, rb);
    finish(hi[r], c + r * ldc + 8, cols - 8, e, e.bias ? e.bias + 8 : nullptr, rb);
  }
}

using TileFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, float*, int64_t,
                        int64_t, const Epi&);
constexpr TileFn kTiles[kMr] = {&tile<1>, &tile<2>, &tile<3>, &tile<4>, &tile<5>, &tile<6>};

// y[0, cols) (+)= x . B over NP panels (two ymm each); KU rows of K in flight.
template <int NP, int KU>
SOFTDPU_AVX2 void gemv_panels(int64_t k, const float* x, int64_t cs, const float* b,
                              int64_t pstride, float* c, int64_t cols, const Epi& e) {
  __m256 lo[KU][NP], hi[KU][NP];
#pragma GCC unroll 4
  for (int u = 0; u < KU; ++u)
#pragma GCC unroll 4
    for (int j = 0; j < NP; ++j) lo[u][j] = hi[u][j] = _mm256_setzero_ps();
  int64_t kk = 0;
  for (; kk + KU <= k; kk += KU) {
#pragma GCC unroll 4
    for (int u = 0; u < KU; ++u) {
      const __m256 xv = _mm256_broadcast_ss(x + (kk + u) * cs);
#pragma GCC unroll 4
      for (int j = 0; j < NP; ++j) {
        const float* r = b + j * pstride + (kk + u) * 16;
        lo[u][j] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r), lo[u][j]);
        hi[u][j] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 8), hi[u][j]);
      }
    }
  }
  for (; kk < k; ++kk) {
    const __m256 xv = _mm256_broadcast_ss(x + kk * cs);
#pragma GCC unroll 4
    for (int j = 0; j < NP; ++j) {
      const float* r = b + j * pstride + kk * 16;
      lo[0][j] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r), lo[0][j]);
      hi[0][j] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 8), hi[0][j]);
    }
  }
  const float rb = e.row_bias ? e.row_bias[0] : 0.f;
#pragma GCC unroll 4
  for (int j = 0; j < NP; ++j) {
    __m256 l = lo[0][j], h = hi[0][j];
#pragma GCC unroll 4
    for (int u = 1; u < KU; ++u) l = _mm256_add_ps(l, lo[u][j]), h = _mm256_add_ps(h, hi[u][j]);
    const float* bias = e.bias ? e.bias + j * 16 : nullptr;
    finish(l, c + j * 16, cols - 16 * j, e, bias, rb);
    finish(h, c + j * 16 + 8, cols - 16 * j - 8, e, bias ? bias + 8 : nullptr, rb);
  }
}

using GemvFn = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t,
                        const Epi&);
// By panel count 1..4: 8 chains (6 for three panels).
constexpr GemvFn kGemv[4] = {&gemv_panels<1, 4>, &gemv_panels<2, 2>, &gemv_panels<3, 1>,
                             &gemv_panels<4, 1>};

}  // namespace

SOFTDPU_AVX2 void gemm_block_avx2(const GemmJob& job, int64_t m0, int64_t m1, int64_t p0,
                                  int64_t p1) {
  const int64_t k = job.k;
  const int64_t pstride = k * kGemmPanel;
  if (m1 - m0 == 1) {
    Epi e{job.accumulate, true, nullptr, job.row_bias ? job.row_bias + m0 : nullptr, job.act};
    const float* x = job.a + m0 * job.a_rs;
    float* c = job.c + m0 * job.ldc;
    for (int64_t g = 0; g * 4 < p1 - p0; ++g) {
      const int64_t p = gemv_group(job, p0, p1, 4, g);
      const int64_t np = std::min<int64_t>(4, p1 - p);
      e.bias = job.bias ? job.bias + p * 16 : nullptr;
      kGemv[np - 1](k, x, job.a_cs, job.b + p * pstride, pstride, c + p * 16, job.n - p * 16, e);
    }
    return;
  }
  for (int64_t k0 = 0; k0 < k; k0 += kGemmKc) {
    const int64_t kc = std::min(kGemmKc, k - k0);
    Epi e{job.accumulate || k0 > 0, k0 + kc == k, nullptr, nullptr, job.act};
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t cols = std::min<int64_t>(16, job.n - p * 16);
      const float* b = job.b + p * pstride + k0 * 16;
      e.bias = job.bias ? job.bias + p * 16 : nullptr;
      for (int64_t i = m0; i < m1; i += kMr) {
        const int mr = static_cast<int>(std::min<int64_t>(kMr, m1 - i));
        e.row_bias = job.row_bias ? job.row_bias + i : nullptr;
        kTiles[mr - 1](kc, job.a + i * job.a_rs + k0 * job.a_cs, job.a_rs, job.a_cs, b,
                       job.c + i * job.ldc + p * 16, job.ldc, cols, e);
      }
    }
  }
}

}  // namespace softdpu::kernels::detail
