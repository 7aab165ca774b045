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
                         const Activation& act, float* y) {
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
      __m512 v = acc[r][j];
      if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[m0 + r]));
      _mm512_mask_storeu_ps(y + (m0 + r) * plane_out + vec[j].out, mask, activate(v, act));
    }
  }
}

}  // namespace

SOFTDPU_AVX512 void direct_conv_tiles_avx512(const DirectConv& p, const float* xs, int64_t t,
                                             int64_t v0, int64_t v1, const float* bias,
                                             const Activation& act, float* y) {
  const int64_t m0 = t * kMr, mr = std::min<int64_t>(kMr, p.m - m0);
  const float* wt = p.w.data() + t * p.k * kMr;
  int64_t v = v0;
  for (; v + 2 <= v1; v += 2) tile<2>(p, xs, wt, p.vecs.data() + v, m0, mr, bias, act, y);
  if (v < v1) tile<1>(p, xs, wt, p.vecs.data() + v, m0, mr, bias, act, y);
}

}  // namespace softdpu::kernels::detail
