// AVX-512 tile of the direct convolution (conv_direct.h): 8 output channels x two 16-pixel
// vectors, 16 accumulators, B loaded straight from the phase-split input at each tap's offset.
// GCC 12 warns about _mm512_undefined_ps() inside its own headers (see gemm_avx512.cc).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "kernels/linalg/conv_direct.h"

#define SOFTDPU_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

namespace softdpu::kernels::detail {
namespace {

constexpr int kMr = static_cast<int>(kDirectConvMr);

SOFTDPU_AVX512 inline __m512 activate(__m512 v, const Activation& act) {
  switch (act.kind) {
    case ActKind::kRelu: return _mm512_max_ps(v, _mm512_setzero_ps());
    case ActKind::kLeakyRelu: {
      const __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
      return _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(act.alpha));
    }
    case ActKind::kClip:
      return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(act.alpha)), _mm512_set1_ps(act.beta));
    default: return v;
  }
}

template <int NP>
SOFTDPU_AVX512 void tile(const DirectConv& p, const float* xs, const float* wt,
                         const DirectConv::Vec* vec, int64_t m0, int64_t mr, const float* bias,
                         const float* residual, const Activation& act, float* y) {
  __m512 acc[kMr][NP];
#pragma GCC unroll 8
  for (int r = 0; r < kMr; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < NP; ++j) acc[r][j] = _mm512_setzero_ps();
  const float* b0 = xs + vec[0].in;
  const float* b1 = xs + vec[NP - 1].in;
  const int32_t* koff = p.koff.data();
  for (int64_t k = 0; k < p.k; ++k) {
    const int64_t off = koff[k];
    const __m512 v0 = _mm512_loadu_ps(b0 + off);
    const __m512 v1 = NP > 1 ? _mm512_loadu_ps(b1 + off) : v0;
    const float* a = wt + k * kMr;
#pragma GCC unroll 8
    for (int r = 0; r < kMr; ++r) {
      const __m512 x = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(x, v0, acc[r][0]);
      if (NP > 1) acc[r][NP - 1] = _mm512_fmadd_ps(x, v1, acc[r][NP - 1]);
    }
  }
  const int64_t plane_out = p.win.out_size();
#pragma GCC unroll 2
  for (int j = 0; j < NP; ++j) {
    const __mmask16 mask = static_cast<__mmask16>((1u << vec[j].lanes) - 1);
#pragma GCC unroll 8
    for (int r = 0; r < kMr; ++r) {
      if (r >= mr) break;
      const int64_t o = (m0 + r) * plane_out + vec[j].out;
      __m512 v = acc[r][j];
      if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[m0 + r]));
      if (residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, residual + o));
      _mm512_mask_storeu_ps(y + o, mask, activate(v, act));
    }
  }
}

}  // namespace

SOFTDPU_AVX512 void copy_stride2_avx512(const float* src, int64_t n, float* dst) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  int64_t j = 0;
  // 16 outputs from src[2j, 2j + 31); the odd float src[2j + 31] is not needed, not read.
  for (; j + 16 <= n; j += 16) {
    const __m512 lo = _mm512_loadu_ps(src + 2 * j);
    const __m512 hi = _mm512_maskz_loadu_ps(0x7fff, src + 2 * j + 16);
    _mm512_storeu_ps(dst + j, _mm512_permutex2var_ps(lo, even, hi));
  }
  if (j < n) {
    const int64_t need = 2 * (n - j) - 1;  // floats read: 1..29
    const auto lo_mask = static_cast<__mmask16>(need >= 16 ? 0xffff : (1u << need) - 1);
    const auto hi_mask = static_cast<__mmask16>(need > 16 ? (1u << (need - 16)) - 1 : 0);
    const __m512 lo = _mm512_maskz_loadu_ps(lo_mask, src + 2 * j);
    const __m512 hi = _mm512_maskz_loadu_ps(hi_mask, src + 2 * j + 16);
    _mm512_mask_storeu_ps(dst + j, static_cast<__mmask16>((1u << (n - j)) - 1),
                          _mm512_permutex2var_ps(lo, even, hi));
  }
}

SOFTDPU_AVX512 void direct_conv_tiles_avx512(const DirectConv& p, const float* xs, int64_t t,
                                             int64_t v0, int64_t v1, const float* bias,
                                             const float* residual, const Activation& act,
                                             float* y) {
  const int64_t m0 = t * kMr, mr = std::min<int64_t>(kMr, p.m - m0);
  const float* wt = p.w.data() + t * p.k * kMr;
  int64_t v = v0;
  for (; v + 2 <= v1; v += 2) tile<2>(p, xs, wt, p.vecs.data() + v, m0, mr, bias, residual, act, y);
  if (v < v1) tile<1>(p, xs, wt, p.vecs.data() + v, m0, mr, bias, residual, act, y);
}

}  // namespace softdpu::kernels::detail
