// AVX-512 input and output transforms of the Winograd F(2x2, 3x3) convolution (conv_winograd.h):
// one vector holds one transform element of a panel's 16 tiles, loaded and stored with masks per
// segment (a run of tiles in one tile row). The scalar twins are in conv_winograd.cc.
// GCC 12 warns about _mm512_undefined_ps() inside its own headers (see gemm_avx512.cc).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "kernels/linalg/conv_winograd.h"

#define SOFTDPU_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

namespace softdpu::kernels::detail {
namespace {

constexpr int64_t kLanes = 16;

SOFTDPU_AVX512 inline __mmask16 lane_mask(int64_t lo, int64_t hi) {
  if (hi <= lo) return 0;
  const uint32_t bits = ((1u << (hi - lo)) - 1u) << lo;
  return static_cast<__mmask16>(bits);
}

}  // namespace

SOFTDPU_AVX512 void winograd_in_avx512(const WinogradConv& p, const float* planes, int64_t row0,
                                       int64_t p0, int64_t p1, float* v) {
  const int64_t plane = p.plane_floats(), we = p.we, xi_stride = p.v_stride();
  for (int64_t pn = p0; pn < p1; ++pn) {
    for (int64_t ci = 0; ci < p.c; ++ci) {
      const float* e = planes + 2 * ci * plane;
      const float* o = e + plane;
      __m512 d[4][4];
      for (auto& row : d)
        for (auto& x : row) x = _mm512_setzero_ps();
      for (int32_t s = p.panel_seg[pn]; s < p.panel_seg[pn + 1]; ++s) {
        const WinogradConv::Seg& sg = p.segs[static_cast<size_t>(s)];
        const __mmask16 k = lane_mask(sg.lane0, sg.lane1);
        // Lane j reads offset sg.in - row0 * we + j - lane0; base >= 0 as the range's tiles
        // before this segment number at least lane0 (plan_winograd_conv).
        const int64_t base = sg.in - row0 * we - sg.lane0;
        for (int r = 0; r < 4; ++r) {
          const int64_t off = base + r * we;
          d[r][0] = _mm512_mask_loadu_ps(d[r][0], k, e + off);
          d[r][1] = _mm512_mask_loadu_ps(d[r][1], k, o + off);
          d[r][2] = _mm512_mask_loadu_ps(d[r][2], k, e + off + 1);
          d[r][3] = _mm512_mask_loadu_ps(d[r][3], k, o + off + 1);
        }
      }
      __m512 t[4][4];
      for (int s = 0; s < 4; ++s) {
        t[0][s] = _mm512_sub_ps(d[0][s], d[2][s]);
        t[1][s] = _mm512_add_ps(d[1][s], d[2][s]);
        t[2][s] = _mm512_sub_ps(d[2][s], d[1][s]);
        t[3][s] = _mm512_sub_ps(d[1][s], d[3][s]);
      }
      float* vp = v + (pn - p0) * p.c * kLanes + ci * kLanes;
      for (int r = 0; r < 4; ++r) {
        _mm512_store_ps(vp + (r * 4 + 0) * xi_stride, _mm512_sub_ps(t[r][0], t[r][2]));
        _mm512_store_ps(vp + (r * 4 + 1) * xi_stride, _mm512_add_ps(t[r][1], t[r][2]));
        _mm512_store_ps(vp + (r * 4 + 2) * xi_stride, _mm512_sub_ps(t[r][2], t[r][1]));
        _mm512_store_ps(vp + (r * 4 + 3) * xi_stride, _mm512_sub_ps(t[r][1], t[r][3]));
      }
    }
  }
}

SOFTDPU_AVX512 void winograd_out_avx512(const WinogradConv& p, const float* mo, int64_t p0,
                                        int64_t p1, const float* bias, const float* residual,
                                        const Activation& act, float* y) {
  if (act.kind != ActKind::kNone && act.kind != ActKind::kRelu) {
    winograd_out_scalar(p, mo, p0, p1, bias, residual, act, y);
    return;
  }
  const bool relu = act.kind == ActKind::kRelu;
  const int64_t xi_stride = p.mo_stride(), plane_out = p.oh * p.ow;
  // Interleave the two output columns of 16 tiles into 32 consecutive pixels.
  const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi_idx =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  for (int64_t oc = 0; oc < p.m; ++oc) {
    const __m512 b = _mm512_set1_ps(bias ? bias[oc] : 0.f);
    float* yo = y + oc * plane_out;
    const float* ro = residual ? residual + oc * plane_out : nullptr;
    for (int64_t pn = p0; pn < p1; ++pn) {
      const float* mp = mo + oc * p.block + (pn - p0) * kLanes;
      __m512 t[2][4];
      for (int s = 0; s < 4; ++s) {
        const __m512 m0 = _mm512_load_ps(mp + (0 + s) * xi_stride);
        const __m512 m1 = _mm512_load_ps(mp + (4 + s) * xi_stride);
        const __m512 m2 = _mm512_load_ps(mp + (8 + s) * xi_stride);
        const __m512 m3 = _mm512_load_ps(mp + (12 + s) * xi_stride);
        t[0][s] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
        t[1][s] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
      }
      __m512 lo[2], hi[2];
      for (int a = 0; a < 2; ++a) {
        const __m512 c0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(t[a][0], t[a][1]), t[a][2]), b);
        const __m512 c1 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(t[a][1], t[a][2]), t[a][3]), b);
        lo[a] = _mm512_permutex2var_ps(c0, lo_idx, c1);
        hi[a] = _mm512_permutex2var_ps(c0, hi_idx, c1);
      }
      for (int32_t s = p.panel_seg[pn]; s < p.panel_seg[pn + 1]; ++s) {
        const WinogradConv::Seg& sg = p.segs[static_cast<size_t>(s)];
        // Interleaved positions q in [qa, qb) are this segment's pixels; q = 0 sits at
        // column sg.col - 2 * lane0 (>= 0 in the output plane: plan_winograd_conv).
        const int64_t qa = 2 * sg.lane0;
        const int64_t qb = std::min<int64_t>(2 * sg.lane1, qa + p.ow - sg.col);
        const __mmask16 klo = lane_mask(qa, std::min<int64_t>(qb, 16));
        const __mmask16 khi = lane_mask(std::max<int64_t>(qa, 16) - 16, qb - 16);
        for (int a = 0; a < 2; ++a) {
          if (sg.row + a >= p.oh) break;
          const int64_t at = (sg.row + a) * p.ow + sg.col - qa;
          __m512 vlo = lo[a], vhi = hi[a];
          if (ro) {
            vlo = _mm512_add_ps(vlo, _mm512_maskz_loadu_ps(klo, ro + at));
            vhi = _mm512_add_ps(vhi, _mm512_maskz_loadu_ps(khi, ro + at + 16));
          }
          if (relu) {
            vlo = _mm512_max_ps(vlo, _mm512_setzero_ps());
            vhi = _mm512_max_ps(vhi, _mm512_setzero_ps());
          }
          _mm512_mask_storeu_ps(yo + at, klo, vlo);
          _mm512_mask_storeu_ps(yo + at + 16, khi, vhi);
        }
      }
    }
  }
}

}  // namespace softdpu::kernels::detail
