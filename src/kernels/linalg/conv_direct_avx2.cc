// AVX2+FMA tile of the direct convolution (conv_direct.h): 4 output channels x one 16-pixel
// vector (two ymm), 8 accumulators; a weight tile's 8 channels take two passes.
#include <immintrin.h>

#include <algorithm>

#include "kernels/linalg/conv_direct.h"

#define SOFTDPU_AVX2 __attribute__((target("avx2,fma")))

namespace softdpu::kernels::detail {
namespace {

constexpr int kMr = static_cast<int>(kDirectConvMr);
constexpr int kRows = 4;

SOFTDPU_AVX2 inline __m256 activate(__m256 v, const Activation& act) {
  switch (act.kind) {
    case ActKind::kRelu: return _mm256_max_ps(v, _mm256_setzero_ps());
    case ActKind::kLeakyRelu: {
      const __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
      return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(act.alpha)), neg);
    }
    case ActKind::kClip:
      return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(act.alpha)), _mm256_set1_ps(act.beta));
    default: return v;
  }
}

SOFTDPU_AVX2 inline __m256i lane_mask(int64_t lanes) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(lanes)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

SOFTDPU_AVX2 inline void store(float* o, __m256 v, int64_t lanes) {
  if (lanes >= 8) {
    _mm256_storeu_ps(o, v);
  } else if (lanes > 0) {
    _mm256_maskstore_ps(o, lane_mask(lanes), v);
  }
}

// Adds the residual's first `lanes` floats at r (reads no further).
SOFTDPU_AVX2 inline __m256 add_residual(__m256 v, const float* r, int64_t lanes) {
  if (lanes >= 8) return _mm256_add_ps(v, _mm256_loadu_ps(r));
  if (lanes <= 0) return v;
  return _mm256_add_ps(v, _mm256_maskload_ps(r, lane_mask(lanes)));
}

// Rows [r0, r0 + 4) of the weight tile for one vector.
SOFTDPU_AVX2 void tile(const DirectConv& p, const float* xs, const float* wt, int r0,
                       const DirectConv::Vec& vec, int64_t m0, int64_t mr, const float* bias,
                       const float* residual, const Activation& act, float* y) {
  __m256 acc[kRows][2];
  for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  const float* b = xs + vec.in;
  const int32_t* koff = p.koff.data();
  for (int64_t k = 0; k < p.k; ++k) {
    const float* bk = b + koff[k];
    const __m256 lo = _mm256_loadu_ps(bk), hi = _mm256_loadu_ps(bk + 8);
    const float* a = wt + k * kMr + r0;
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const __m256 x = _mm256_broadcast_ss(a + r);
      acc[r][0] = _mm256_fmadd_ps(x, lo, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(x, hi, acc[r][1]);
    }
  }
  const int64_t plane_out = p.win.out_size();
  for (int r = 0; r < kRows && r0 + r < mr; ++r) {
    const int64_t oc = m0 + r0 + r;
    const __m256 bv = _mm256_set1_ps(bias ? bias[oc] : 0.f);
    const int64_t o = oc * plane_out + vec.out;
    __m256 lo = _mm256_add_ps(acc[r][0], bv), hi = _mm256_add_ps(acc[r][1], bv);
    if (residual) {
      lo = add_residual(lo, residual + o, vec.lanes);
      hi = add_residual(hi, residual + o + 8, vec.lanes - 8);
    }
    store(y + o, activate(lo, act), vec.lanes);
    store(y + o + 8, activate(hi, act), vec.lanes - 8);
  }
}

}  // namespace

SOFTDPU_AVX2 void direct_conv_tiles_avx2(const DirectConv& p, const float* xs, int64_t t,
                                         int64_t v0, int64_t v1, const float* bias,
                                         const float* residual, const Activation& act, float* y) {
  const int64_t m0 = t * kMr, mr = std::min<int64_t>(kMr, p.m - m0);
  const float* wt = p.w.data() + t * p.k * kMr;
  for (int64_t v = v0; v < v1; ++v) {
    for (int r0 = 0; r0 < mr; r0 += kRows)
      tile(p, xs, wt, r0, p.vecs[static_cast<size_t>(v)], m0, mr, bias, residual, act, y);
  }
}

}  // namespace softdpu::kernels::detail
