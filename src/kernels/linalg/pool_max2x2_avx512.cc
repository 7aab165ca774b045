// AVX-512 MaxPool 2x2 / stride 2 (pool_max2x2.h).
#pragma GCC diagnostic ignored \
    "-Wmaybe-uninitialized"  // GCC 12 intrinsics headers (gemm_avx512.cc)
#include <immintrin.h>

#include <algorithm>

#include "kernels/linalg/pool_max2x2.h"

#define SOFTDPU_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))

namespace softdpu::kernels {
namespace {

inline __mmask16 lanes(int64_t n) {
  if (n >= 16) return 0xFFFF;
  if (n <= 0) return 0;
  return static_cast<__mmask16>((1u << n) - 1);
}

}  // namespace

SOFTDPU_AVX512 void max_pool_2x2_avx512(const float* x, int64_t in_w, int64_t out_h, int64_t out_w,
                                        float* y) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (int64_t r = 0; r < out_h; ++r) {
    const float* r0 = x + 2 * r * in_w;
    const float* r1 = r0 + in_w;
    float* o = y + r * out_w;
    for (int64_t c = 0; c < out_w; c += 16) {
      const int64_t n = std::min<int64_t>(16, out_w - c);  // outputs; 2n input columns
      const __mmask16 m0 = lanes(2 * n), m1 = lanes(2 * n - 16);
      const float* a = r0 + 2 * c;
      const float* b = r1 + 2 * c;
      const __m512 a0 = _mm512_maskz_loadu_ps(m0, a), a1 = _mm512_maskz_loadu_ps(m1, a + 16);
      const __m512 b0 = _mm512_maskz_loadu_ps(m0, b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);
      // Taps in the scalar twin's order: (0,0) first, then (0,1), (1,0), (1,1), each replacing
      // the running value only when greater: _mm512_max_ps(t, v) is t > v ? t : v.
      __m512 v = _mm512_permutex2var_ps(a0, even, a1);
      v = _mm512_max_ps(_mm512_permutex2var_ps(a0, odd, a1), v);
      v = _mm512_max_ps(_mm512_permutex2var_ps(b0, even, b1), v);
      v = _mm512_max_ps(_mm512_permutex2var_ps(b0, odd, b1), v);
      _mm512_mask_storeu_ps(o + c, lanes(n), v);
    }
  }
}

}  // namespace softdpu::kernels
