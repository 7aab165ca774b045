// AVX-512 microkernels for the packed GEMM (compiled per function with a target attribute; the
// build baseline stays plain x86-64 and gemm.cc only calls in here when the CPU has AVX-512).
//
//  - m == 1: a matrix-vector product, memory bound. Four panels (64 columns) at a time with two
//    K rows in flight gives 8 independent FMA chains: enough to cover FMA latency (4 cycles) at
//    the L1/L2 load rate, while B streams exactly once. job.reverse_panels walks the 4-panel
//    groups last to first (an RNN's odd steps: the start of R is then what is still in L2).
//  - m > 1: register tiles of up to 8 x 32 (16 accumulators, two panels) over K slices of
//    kGemmKc, the rows split as evenly as they go (25 = 7 + 6 + 6 + 6).
//    When B is large (kTilePrefetchBytes), the first row tile of a panel pair prefetches the
//    same rows of the next pair. Without it the first tile waits on the L3 for every line it
//    reads: an LSTM's input projection (25 x 1024 x 4096, 16 MiB) ran at 104 GFLOP/s on the
//    Zen 5 VM, 146 with it, in the slice-outer order. In the pair-outer order that shape now
//    takes (A <= kPairOuterABytes) the next pair comes after this pair's other K slices, and the
//    prefetch still pays, less: 178 -> 185 GFLOP/s (BM_GemmNoPrefetch against BM_Gemm,
//    /25/1024/4096, 6 interleaved repetitions, 2026-12-04 23:44 UTC, quiet). Below 8 MiB
//    (4 MiB: 100 GB/s from L3 there) the prefetch cost 5 % instead (it pulls 32 KiB into L1
//    while the current pair's slice is still in use), so smaller matrices keep the plain loop.
//    Figures: docs/benchmarks.md.
// GCC 12 warns about _mm512_undefined_ps() inside its own intrinsics headers (a known false
// positive of -Wmaybe-uninitialized); silence it for this file only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "kernels/linalg/gemm.h"
#include "kernels/linalg/gemm_kernels.h"

#define SOFTDPU_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

namespace softdpu::kernels::detail {
namespace {

constexpr int kMr = 8;
// Packed B of at least this many bytes gets the next-pair prefetch in the tile loop.
constexpr int64_t kTilePrefetchBytes = int64_t{8} << 20;
// A (rows x K of the block) up to this size takes the pair-outer loop order (see the block).
constexpr int64_t kPairOuterABytes = int64_t{256} << 10;

// What the tile does after the K loop.
struct Epi {
  bool load_c;            // add what C holds (accumulate, or a previous K slice)
  bool last;              // final K slice: bias, row bias and activation apply
  const float* bias;      // at the tile's first column, or null
  const float* row_bias;  // at the tile's first row, or null
  Activation act;
};

SOFTDPU_AVX512 inline __m512 activate(__m512 v, const Activation& act) {
  switch (act.kind) {
    case ActKind::kRelu: return _mm512_max_ps(v, _mm512_setzero_ps());
    case ActKind::kLeakyRelu: {
      __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
      return _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(act.alpha));
    }
    case ActKind::kClip:
      return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(act.alpha)), _mm512_set1_ps(act.beta));
    default: return v;
  }
}

SOFTDPU_AVX512 inline void finish(__m512 v, float* c, __mmask16 mask, const Epi& e,
                                  const float* bias, float row_bias) {
  if (e.load_c) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, c));
  if (e.last) {
    if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, bias));
    if (e.row_bias) v = _mm512_add_ps(v, _mm512_set1_ps(row_bias));
    v = activate(v, e.act);
  }
  _mm512_mask_storeu_ps(c, mask, v);
}

inline __mmask16 lane_mask(int64_t cols) {
  if (cols >= 16) return 0xFFFF;
  if (cols <= 0) return 0;
  return static_cast<__mmask16>((1u << cols) - 1);
}

// MR rows x (16 * NP) columns over kc steps of K. b points at panel p's first row of this
// slice; the next panel starts pstride floats later. With PF, the same rows of the next two
// panels from `next` on are prefetched into L1 as the loop goes (one line per panel and row).
template <int MR, int NP, bool PF>
SOFTDPU_AVX512 void tile(int64_t kc, const float* a, int64_t rs, int64_t cs, const float* b,
                         int64_t pstride, float* c, int64_t ldc, int64_t cols, const Epi& e,
                         const float* next) {
  __m512 acc[MR][NP];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 2
    for (int j = 0; j < NP; ++j) acc[r][j] = _mm512_setzero_ps();
  }
  const float* b1 = b + pstride;
  if (cs == 1) {
    for (int64_t k = 0; k < kc; ++k) {
      if (PF) {
        _mm_prefetch(reinterpret_cast<const char*>(next + k * 16), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(next + pstride + k * 16), _MM_HINT_T0);
      }
      const __m512 v0 = _mm512_loadu_ps(b + k * 16);
      const __m512 v1 = NP > 1 ? _mm512_loadu_ps(b1 + k * 16) : v0;
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const __m512 x = _mm512_set1_ps(a[r * rs + k]);
        acc[r][0] = _mm512_fmadd_ps(x, v0, acc[r][0]);
        if (NP > 1) acc[r][NP - 1] = _mm512_fmadd_ps(x, v1, acc[r][NP - 1]);
      }
    }
  } else {
    for (int64_t k = 0; k < kc; ++k) {
      const __m512 v0 = _mm512_loadu_ps(b + k * 16);
      const __m512 v1 = NP > 1 ? _mm512_loadu_ps(b1 + k * 16) : v0;
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const __m512 x = _mm512_set1_ps(a[r * rs + k * cs]);
        acc[r][0] = _mm512_fmadd_ps(x, v0, acc[r][0]);
        if (NP > 1) acc[r][NP - 1] = _mm512_fmadd_ps(x, v1, acc[r][NP - 1]);
      }
    }
  }
  const __mmask16 m0 = lane_mask(cols), m1 = lane_mask(cols - 16);
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    const float rb = e.row_bias ? e.row_bias[r] : 0.f;
    finish(acc[r][0], c + r * ldc, m0, e, e.bias, rb);
    if (NP > 1) finish(acc[r][NP - 1], c + r * ldc + 16, m1, e, e.bias ? e.bias + 16 : nullptr, rb);
  }
}

using TileFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*,
                        int64_t, int64_t, const Epi&, const float*);

template <int NP, bool PF>
constexpr TileFn kTiles[kMr] = {&tile<1, NP, PF>, &tile<2, NP, PF>, &tile<3, NP, PF>,
                                &tile<4, NP, PF>, &tile<5, NP, PF>, &tile<6, NP, PF>,
                                &tile<7, NP, PF>, &tile<8, NP, PF>};

// y[0, cols) (+)= x . B over NP panels starting at b; cols may end inside the last panel. KU
// rows of K advance together into separate accumulators so NP * KU FMA chains are in flight.
template <int NP, int KU>
SOFTDPU_AVX512 void gemv_panels(int64_t k, const float* x, int64_t cs, const float* b,
                                int64_t pstride, float* c, int64_t cols, const Epi& e) {
  __m512 acc[KU][NP];
#pragma GCC unroll 4
  for (int u = 0; u < KU; ++u)
#pragma GCC unroll 4
    for (int j = 0; j < NP; ++j) acc[u][j] = _mm512_setzero_ps();
  int64_t kk = 0;
  for (; kk + KU <= k; kk += KU) {
#pragma GCC unroll 4
    for (int u = 0; u < KU; ++u) {
      const __m512 xv = _mm512_set1_ps(x[(kk + u) * cs]);
#pragma GCC unroll 4
      for (int j = 0; j < NP; ++j)
        acc[u][j] =
            _mm512_fmadd_ps(xv, _mm512_loadu_ps(b + j * pstride + (kk + u) * 16), acc[u][j]);
    }
  }
  for (; kk < k; ++kk) {
    const __m512 xv = _mm512_set1_ps(x[kk * cs]);
#pragma GCC unroll 4
    for (int j = 0; j < NP; ++j)
      acc[0][j] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(b + j * pstride + kk * 16), acc[0][j]);
  }
#pragma GCC unroll 4
  for (int j = 0; j < NP; ++j) {
    __m512 v = acc[0][j];
#pragma GCC unroll 4
    for (int u = 1; u < KU; ++u) v = _mm512_add_ps(v, acc[u][j]);
    finish(v, c + j * 16, lane_mask(cols - 16 * j), e, e.bias ? e.bias + j * 16 : nullptr,
           e.row_bias ? e.row_bias[0] : 0.f);
  }
}

using GemvFn = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t,
                        const Epi&);
// By panel count 1..4: at least 8 chains, except a single panel (memory-bound anyway).
constexpr GemvFn kGemv[4] = {&gemv_panels<1, 4>, &gemv_panels<2, 4>, &gemv_panels<3, 2>,
                             &gemv_panels<4, 2>};

}  // namespace

SOFTDPU_AVX512 void gemm_block_avx512(const GemmJob& job, int64_t m0, int64_t m1, int64_t p0,
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
  const bool tile_prefetch =
      job.tile_prefetch &&
      pstride * ((job.n + kGemmPanel - 1) / kGemmPanel) * static_cast<int64_t>(sizeof(float)) >=
          kTilePrefetchBytes;
  // Rows in tiles of at most kMr, as even as can be: 25 rows are 7 + 6 + 6 + 6, not 8 + 8 + 8 + 1
  // (a 1-row tile has 2 FMA chains, so it waits on FMA latency for half an 8-row tile's time).
  const int64_t rows = m1 - m0, tiles = (rows + kMr - 1) / kMr;
  // One K slice of one panel pair, every row tile.
  auto pair_slice = [&](int64_t p, int64_t k0) {
    const int64_t kc = std::min(kGemmKc, k - k0);
    const int np = p + 2 <= p1 ? 2 : 1;
    const int64_t cols = std::min<int64_t>(16 * np, job.n - p * 16);
    const float* b = job.b + p * pstride + k0 * 16;
    Epi e{job.accumulate || k0 > 0, k0 + kc == k, job.bias ? job.bias + p * 16 : nullptr, nullptr,
          job.act};
    int64_t i = m0;
    for (int64_t t = 0; t < tiles; ++t) {
      const int mr = static_cast<int>(rows / tiles + (t < rows % tiles ? 1 : 0));
      e.row_bias = job.row_bias ? job.row_bias + i : nullptr;
      // The last pair of the block has no full pair after it to fetch. The a_cs != 1 loop (a
      // transposed A: MatMul, never an RNN's input projection) does not prefetch.
      const bool pf = t == 0 && p + 4 <= p1 && tile_prefetch;
      const TileFn fn = np == 1 ? kTiles<1, false>[mr - 1]
                        : pf    ? kTiles<2, true>[mr - 1]
                                : kTiles<2, false>[mr - 1];
      fn(kc, job.a + i * job.a_rs + k0 * job.a_cs, job.a_rs, job.a_cs, b, pstride,
         job.c + i * job.ldc + p * 16, job.ldc, cols, e, b + 2 * pstride);
      i += mr;
    }
  };
  // A pair's K slices one after the other read its panels front to back, the stream the L3
  // prefetchers follow, where the slice-outer order reads each panel in kGemmKc pieces a whole
  // pass apart (with the even tiles, 25 x 512 x 2048 from the L3: 4-11 % faster, BM_Gemm). It
  // re-reads all of A for every pair, so an A larger than a quarter of the L2 keeps the
  // slice-outer order.
  if (rows * k * static_cast<int64_t>(sizeof(float)) <= kPairOuterABytes) {
    for (int64_t p = p0; p < p1; p += 2)
      for (int64_t k0 = 0; k0 < k; k0 += kGemmKc) pair_slice(p, k0);
  } else {
    for (int64_t k0 = 0; k0 < k; k0 += kGemmKc)
      for (int64_t p = p0; p < p1; p += 2) pair_slice(p, k0);
  }
}

}  // namespace softdpu::kernels::detail
