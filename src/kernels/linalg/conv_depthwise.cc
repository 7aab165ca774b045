// Depthwise convolution (group == input channels), computed directly: each output row gathers its
// k taps as strided multiply-adds over input rows. im2col + GEMM would write k copies of the
// input only to run a K = k-tap product per pixel, which is all memory traffic.
//
// Output rows are often narrow (7..56 pixels), too short for auto-vectorised loops to pay off,
// so the AVX-512 and AVX2 paths work on 16 / 8 output pixels at a time with masked loads (which
// also absorb the padding: masked lanes are neither read nor counted); stride 2 is de-interleaved
// with a permute. Other strides and the scalar path use the plain loops.
#include "kernels/linalg/conv_depthwise.h"

// GCC 12 warns about _mm512_undefined_ps() inside its own intrinsics headers (a known false
// positive of -Wmaybe-uninitialized); silence it for this file only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "core/cpu.h"

namespace softdpu::kernels {

namespace {

inline int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

struct PlaneArgs {
  const float* x;  // the input channel plane
  const float* w;  // its k_size weights
  float bias;
  const Window* win;
  const Activation* act;
  float* y;  // the output plane
};

__attribute__((always_inline)) inline void plane_body(const PlaneArgs& a) {
  const Window& w = *a.win;
  const int64_t o2 = w.out[2], s2 = w.stride[2];
  for (int64_t od = 0; od < w.out[0]; ++od) {
    for (int64_t oh = 0; oh < w.out[1]; ++oh) {
      float* __restrict yrow = a.y + (od * w.out[1] + oh) * o2;
      for (int64_t j = 0; j < o2; ++j) yrow[j] = a.bias;
      for (int64_t kd = 0; kd < w.k[0]; ++kd) {
        const int64_t id = od * w.stride[0] - w.pad[0] + kd * w.dil[0];
        if (id < 0 || id >= w.in[0]) continue;
        for (int64_t kh = 0; kh < w.k[1]; ++kh) {
          const int64_t ih = oh * w.stride[1] - w.pad[1] + kh * w.dil[1];
          if (ih < 0 || ih >= w.in[1]) continue;
          const float* __restrict row = a.x + (id * w.in[1] + ih) * w.in[2];
          for (int64_t kw = 0; kw < w.k[2]; ++kw) {
            const float wv = a.w[(kd * w.k[1] + kh) * w.k[2] + kw];
            const int64_t off = kw * w.dil[2] - w.pad[2];
            // Output columns whose input column lies inside the row.
            const int64_t lo = std::clamp<int64_t>(-floor_div(off, s2), 0, o2);
            const int64_t hi = std::clamp<int64_t>(floor_div(w.in[2] - 1 - off, s2) + 1, lo, o2);
            if (s2 == 1) {
              const float* src = row + off;
              for (int64_t j = lo; j < hi; ++j) yrow[j] += wv * src[j];
            } else {
              for (int64_t j = lo; j < hi; ++j) yrow[j] += wv * row[j * s2 + off];
            }
          }
        }
      }
      apply_activation_inplace(*a.act, yrow, o2);
    }
  }
}

void plane_scalar(const PlaneArgs& a) {
  plane_body(a);
}

// Bits [lo, hi) of a lane mask of `lanes` bits (empty when hi <= lo).
inline uint32_t range_bits(int64_t lo, int64_t hi, int64_t lanes) {
  lo = std::clamp<int64_t>(lo, 0, lanes);
  hi = std::clamp<int64_t>(hi, lo, lanes);
  const uint64_t below_hi = (uint64_t{1} << hi) - 1, below_lo = (uint64_t{1} << lo) - 1;
  return static_cast<uint32_t>(below_hi & ~below_lo);
}

// Per-plane column data of each kernel column kw: input column offset, and the output columns
// [lo, hi) whose input column (ow * stride + off) lies inside the row. Computed once per plane
// (it needs divisions), then shared by every output row.
constexpr int kMaxCols = 16;
struct Columns {
  int64_t off[kMaxCols], lo[kMaxCols], hi[kMaxCols];
};

void column_bounds(const Window& w, Columns& c) {
  for (int64_t kw = 0; kw < w.k[2]; ++kw) {
    c.off[kw] = kw * w.dil[2] - w.pad[2];
    c.lo[kw] = std::clamp<int64_t>(-floor_div(c.off[kw], w.stride[2]), 0, w.out[2]);
    c.hi[kw] = std::clamp<int64_t>(floor_div(w.in[2] - 1 - c.off[kw], w.stride[2]) + 1, c.lo[kw],
                                   w.out[2]);
  }
}

// The kernel rows of output row (od, oh) that land inside the input: input row and the weights
// of that kernel row (k[2] of them).
constexpr int kMaxRows = 64;
struct RowTaps {
  int n = 0;
  const float* row[kMaxRows];
  const float* w[kMaxRows];
};

__attribute__((always_inline)) inline void row_taps(const PlaneArgs& a, int64_t od, int64_t oh,
                                                    RowTaps& t) {
  const Window& w = *a.win;
  t.n = 0;
  for (int64_t kd = 0; kd < w.k[0]; ++kd) {
    const int64_t id = od * w.stride[0] - w.pad[0] + kd * w.dil[0];
    if (id < 0 || id >= w.in[0]) continue;
    for (int64_t kh = 0; kh < w.k[1]; ++kh) {
      const int64_t ih = oh * w.stride[1] - w.pad[1] + kh * w.dil[1];
      if (ih < 0 || ih >= w.in[1]) continue;
      t.row[t.n] = a.x + (id * w.in[1] + ih) * w.in[2];
      t.w[t.n++] = a.w + (kd * w.k[1] + kh) * w.k[2];
    }
  }
}

// Whether the vector paths can hold this window's per-row data.
inline bool fits(const Window& w) {
  return w.k[2] <= kMaxCols && w.k[0] * w.k[1] <= kMaxRows;
}

#define SOFTDPU_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

// K2: the kernel width when known at compile time (3: unrolled), 0 for any.
template <int K2>
SOFTDPU_AVX512 void plane_avx512_k(const PlaneArgs& a) {
  const Window& w = *a.win;
  const int64_t k2 = K2 ? K2 : w.k[2];
  const int64_t s2 = w.stride[2], o2 = w.out[2];
  if (s2 > 2 || !fits(w)) return plane_body(a);
  Columns cols;
  column_bounds(w, cols);
  const bool act_after = a.act->kind == ActKind::kSigmoid || a.act->kind == ActKind::kTanh;
  // Picks the even lanes of two registers (stride-2 de-interleave).
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int64_t od = 0; od < w.out[0]; ++od) {
    for (int64_t oh = 0; oh < w.out[1]; ++oh) {
      float* yrow = a.y + (od * w.out[1] + oh) * o2;
      RowTaps taps;
      row_taps(a, od, oh, taps);
      for (int64_t j0 = 0; j0 < o2; j0 += 16) {
        const int64_t n = std::min<int64_t>(16, o2 - j0);
        // Lane masks per kernel column (the same for every kernel row): for stride 2, the
        // contiguous 32-float input range holding positions 2l, split over two loads.
        __mmask16 m0[kMaxCols], m1[kMaxCols];
#pragma GCC unroll 4
        for (int64_t kw = 0; kw < k2; ++kw) {
          const int64_t lo = std::max<int64_t>(0, cols.lo[kw] - j0);
          const int64_t hi = std::min<int64_t>(n, cols.hi[kw] - j0);
          const uint32_t bits =
              s2 == 1 ? range_bits(lo, hi, 16) : range_bits(2 * lo, 2 * hi - 1, 32);
          m0[kw] = static_cast<__mmask16>(bits);
          m1[kw] = static_cast<__mmask16>(bits >> 16);
        }
        // Two accumulators (alternating kernel rows) halve the FMA dependency chain.
        __m512 acc = _mm512_set1_ps(a.bias), acc2 = _mm512_setzero_ps();
        for (int t = 0; t < taps.n; ++t) {
          const float* row = taps.row[t] + j0 * s2;
#pragma GCC unroll 4
          for (int64_t kw = 0; kw < k2; ++kw) {
            const float* base = row + cols.off[kw];
            __m512 v;
            if (s2 == 1) {
              v = _mm512_maskz_loadu_ps(m0[kw], base);
            } else {
              const __m512 p = _mm512_maskz_loadu_ps(m0[kw], base);
              const __m512 q = _mm512_maskz_loadu_ps(m1[kw], base + 16);
              v = _mm512_permutex2var_ps(p, even, q);
            }
            if (t & 1)
              acc2 = _mm512_fmadd_ps(_mm512_set1_ps(taps.w[t][kw]), v, acc2);
            else
              acc = _mm512_fmadd_ps(_mm512_set1_ps(taps.w[t][kw]), v, acc);
          }
        }
        acc = _mm512_add_ps(acc, acc2);
        switch (a.act->kind) {
          case ActKind::kRelu: acc = _mm512_max_ps(acc, _mm512_setzero_ps()); break;
          case ActKind::kLeakyRelu:
            acc = _mm512_mask_mul_ps(acc, _mm512_cmp_ps_mask(acc, _mm512_setzero_ps(), _CMP_LT_OQ),
                                     acc, _mm512_set1_ps(a.act->alpha));
            break;
          case ActKind::kClip:
            acc = _mm512_min_ps(_mm512_max_ps(acc, _mm512_set1_ps(a.act->alpha)),
                                _mm512_set1_ps(a.act->beta));
            break;
          default: break;
        }
        _mm512_mask_storeu_ps(yrow + j0, static_cast<__mmask16>(range_bits(0, n, 16)), acc);
      }
      if (act_after) apply_activation_inplace(*a.act, yrow, o2);
    }
  }
}

SOFTDPU_AVX512 void plane_avx512(const PlaneArgs& a) {
  if (a.win->k[2] == 3) return plane_avx512_k<3>(a);
  plane_avx512_k<0>(a);
}

__attribute__((target("avx2,fma"))) void plane_avx2(const PlaneArgs& a) {
  const Window& w = *a.win;
  const int64_t o2 = w.out[2];
  if (w.stride[2] != 1 || !fits(w)) return plane_body(a);
  Columns cols;
  column_bounds(w, cols);
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int64_t od = 0; od < w.out[0]; ++od) {
    for (int64_t oh = 0; oh < w.out[1]; ++oh) {
      float* yrow = a.y + (od * w.out[1] + oh) * o2;
      RowTaps taps;
      row_taps(a, od, oh, taps);
      for (int64_t j0 = 0; j0 < o2; j0 += 8) {
        const int64_t n = std::min<int64_t>(8, o2 - j0);
        __m256 acc = _mm256_set1_ps(a.bias);
        for (int t = 0; t < taps.n; ++t)
          for (int64_t kw = 0; kw < w.k[2]; ++kw) {
            const int64_t lo = std::max<int64_t>(0, cols.lo[kw] - j0);
            const int64_t hi = std::min<int64_t>(n, cols.hi[kw] - j0);
            if (hi <= lo) continue;
            const __m256i l = _mm256_set1_epi32(static_cast<int>(lo));
            const __m256i h = _mm256_set1_epi32(static_cast<int>(hi));
            const __m256i m =
                _mm256_andnot_si256(_mm256_cmpgt_epi32(l, iota), _mm256_cmpgt_epi32(h, iota));
            const __m256 v = _mm256_maskload_ps(taps.row[t] + j0 + cols.off[kw], m);
            acc = _mm256_fmadd_ps(_mm256_set1_ps(taps.w[t][kw]), v, acc);
          }
        const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), iota);
        _mm256_maskstore_ps(yrow + j0, m, acc);
      }
      apply_activation_inplace(*a.act, yrow, o2);
    }
  }
}

}  // namespace

void conv_depthwise(const float* x, const float* w, const float* bias, const Window& win,
                    int64_t batch, int64_t channels, int64_t multiplier, const Activation& act,
                    float* y, ThreadPool* pool) {
  void (*fn)(const PlaneArgs&) = &plane_scalar;
  if (active_isa() == Isa::kAvx512)
    fn = &plane_avx512;
  else if (active_isa() == Isa::kAvx2)
    fn = &plane_avx2;
  const int64_t planes = batch * channels * multiplier;
  const int64_t work = win.out_size() * win.k_size();
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(work, 1));
  pool->parallel_for(planes, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t oc = i % (channels * multiplier), n = i / (channels * multiplier);
      const int64_t c = oc / multiplier;
      PlaneArgs a{x + (n * channels + c) * win.in_size(),
                  w + oc * win.k_size(),
                  bias ? bias[oc] : 0.f,
                  &win,
                  &act,
                  y + i * win.out_size()};
      fn(a);
    }
  });
}

}  // namespace softdpu::kernels
