// AVX-512 gate epilogues: 16 lanes, every load and store masked so tails cost nothing extra.
// Compiled for AVX-512 by the target pragma and only called after active_isa() has confirmed
// F/BW/DQ/VL.
#include "kernels/rnn/gates.h"

#if defined(__x86_64__)
// GCC 12 warns about the self-initialised _mm512_undefined_ps() inside its own AVX-512 headers
// (GCC PR105593, fixed in GCC 13); the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")

#define SOFTDPU_RNN_ISA avx512

namespace softdpu::kernels::rnn::avx512 {

using V = __m512;
constexpr int64_t kW = 16;

inline __mmask16 tail_mask(int64_t n) {
  return static_cast<__mmask16>((1u << n) - 1u);
}
inline V set1(float a) {
  return _mm512_set1_ps(a);
}
inline V ld(const float* p, int64_t n) {
  return _mm512_maskz_loadu_ps(tail_mask(n), p);
}
inline void st(float* p, V v, int64_t n) {
  _mm512_mask_storeu_ps(p, tail_mask(n), v);
}
inline V add(V a, V b) {
  return _mm512_add_ps(a, b);
}
inline V sub(V a, V b) {
  return _mm512_sub_ps(a, b);
}
inline V mul(V a, V b) {
  return _mm512_mul_ps(a, b);
}
inline V div(V a, V b) {
  return _mm512_div_ps(a, b);
}
inline V fma(V a, V b, V c) {
  return _mm512_fmadd_ps(a, b, c);
}
inline V fnma(V a, V b, V c) {
  return _mm512_fnmadd_ps(a, b, c);
}
inline V vmin(V a, V b) {
  return _mm512_min_ps(a, b);
}
inline V vmax(V a, V b) {
  return _mm512_max_ps(a, b);
}
inline V vabs(V a) {
  return _mm512_abs_ps(a);
}
inline __mmask16 lt(V a, V b) {
  return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ);
}
inline __mmask16 ge(V a, V b) {
  return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ);
}
inline V sel(__mmask16 m, V x, V y) {
  return _mm512_mask_blend_ps(m, y, x);
}
inline V vfloor(V a) {
  return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
}
inline V pow2n(V n) {
  const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
  return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
}
inline V frexp_v(V x, V* e) {
  const __m512i bits = _mm512_castps_si512(x);
  *e = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(bits, 23), _mm512_set1_epi32(126)));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi32(0x007FFFFF)),
                                             _mm512_set1_epi32(0x3F000000)));
}

}  // namespace softdpu::kernels::rnn::avx512

#include "kernels/rnn/gates_impl.inc"

#pragma GCC pop_options

namespace softdpu::kernels::rnn {
const GateKernels kGatesAvx512 = {"avx512",        avx512::lstm, avx512::gru_zr,    avx512::gru_h,
                                  avx512::gru_lbr, avx512::rnn,  avx512::activation};
}  // namespace softdpu::kernels::rnn

#endif  // __x86_64__
