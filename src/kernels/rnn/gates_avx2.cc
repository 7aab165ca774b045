// AVX2+FMA gate epilogues: 8 lanes, tails through masked loads and stores. Compiled for AVX2 by
// the target pragma (the library baseline is plain x86-64) and only called after active_isa()
// has confirmed the CPU has it.
#include "kernels/rnn/gates.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#pragma GCC push_options
#pragma GCC target("avx2,fma")

#define SOFTDPU_RNN_ISA avx2

namespace softdpu::kernels::rnn::avx2 {

using V = __m256;
constexpr int64_t kW = 8;

inline __m256i tail_mask(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline V set1(float a) {
  return _mm256_set1_ps(a);
}
inline V ld(const float* p, int64_t n) {
  return n == kW ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, tail_mask(n));
}
inline void st(float* p, V v, int64_t n) {
  if (n == kW) {
    _mm256_storeu_ps(p, v);
  } else {
    _mm256_maskstore_ps(p, tail_mask(n), v);
  }
}
inline V add(V a, V b) {
  return _mm256_add_ps(a, b);
}
inline V sub(V a, V b) {
  return _mm256_sub_ps(a, b);
}
inline V mul(V a, V b) {
  return _mm256_mul_ps(a, b);
}
inline V div(V a, V b) {
  return _mm256_div_ps(a, b);
}
inline V fma(V a, V b, V c) {
  return _mm256_fmadd_ps(a, b, c);
}
inline V fnma(V a, V b, V c) {
  return _mm256_fnmadd_ps(a, b, c);
}
inline V vmin(V a, V b) {
  return _mm256_min_ps(a, b);
}
inline V vmax(V a, V b) {
  return _mm256_max_ps(a, b);
}
inline V vabs(V a) {
  return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a);
}
inline V lt(V a, V b) {
  return _mm256_cmp_ps(a, b, _CMP_LT_OQ);
}
inline V ge(V a, V b) {
  return _mm256_cmp_ps(a, b, _CMP_GE_OQ);
}
inline V sel(V m, V x, V y) {
  return _mm256_blendv_ps(y, x, m);
}
inline V vfloor(V a) {
  return _mm256_round_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
}
inline V pow2n(V n) {
  const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
  return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}
inline V frexp_v(V x, V* e) {
  const __m256i bits = _mm256_castps_si256(x);
  *e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(126)));
  return _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)),
                                             _mm256_set1_epi32(0x3F000000)));
}

}  // namespace softdpu::kernels::rnn::avx2

#include "kernels/rnn/gates_impl.inc"

#pragma GCC pop_options

namespace softdpu::kernels::rnn {
const GateKernels kGatesAvx2 = {"avx2",        avx2::lstm, avx2::gru_zr,    avx2::gru_h,
                                avx2::gru_lbr, avx2::rnn,  avx2::activation};
}  // namespace softdpu::kernels::rnn

#endif  // __x86_64__
