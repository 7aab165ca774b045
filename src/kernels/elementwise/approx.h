// Vectorisable float32 approximations of exp, expm1, sigmoid, tanh and erf.
//
// libm calls stop GCC's vectoriser, so the hot transcendental activations use these instead:
// straight-line polynomials with bit-blended selects (no branches, no tables) that GCC turns into
// AVX2 / AVX-512 code when they are inlined into a loop compiled for that ISA (see loops.h). kFma
// picks fused multiply-adds; the scalar twin (kFma = false) uses separate multiply and add because
// the x86-64 baseline has no FMA instruction (a libm fmaf call would be slow).
//
// Accuracy over float32 (measured against double-precision references):
//   exp      1 ulp (max rel 8e-8) on the normal range; subnormal results within 1e-45
//   expm1    2 ulp, no cancellation near 0
//   sigmoid  max rel 1.5e-7      tanh  max rel 1.4e-7      erf  max abs 4.3e-7
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

#include "kernels/elementwise/types.h"

namespace softdpu::kernels::ew {

template <bool kFma>
SOFTDPU_EW_INLINE float madd(float a, float b, float c) {
  if constexpr (kFma) {
    return __builtin_fmaf(a, b, c);
  } else {
    return a * b + c;
  }
}

// --- Branch-free building blocks.
//
// GCC lowers a float `c ? a : b` to control flow; jump threading and PRE then move arithmetic
// into one arm (e.g. x*x becomes the constant 16 when a clamp to 4 hit), and because float
// arithmetic "could trap" (-ftrapping-math) the loop can no longer be if-converted, so the
// AVX2 and baseline copies stay scalar (AVX-512 survives through masking). Computing both arms
// unconditionally and blending bit patterns, and clamping with integer min/max, keeps every loop
// free of control flow.

// m ? a : b for float, double or integer compute types, with both arms already evaluated.
template <class C>
SOFTDPU_EW_INLINE C choose(bool m, C a, C b) {
  if constexpr (std::is_same_v<C, float>) {
    uint32_t mask = 0u - static_cast<uint32_t>(m);
    return std::bit_cast<float>((std::bit_cast<uint32_t>(a) & mask) |
                                (std::bit_cast<uint32_t>(b) & ~mask));
  } else if constexpr (std::is_same_v<C, double>) {
    uint64_t mask = uint64_t{0} - static_cast<uint64_t>(m);
    return std::bit_cast<double>((std::bit_cast<uint64_t>(a) & mask) |
                                 (std::bit_cast<uint64_t>(b) & ~mask));
  } else {
    return m ? a : b;
  }
}

SOFTDPU_EW_INLINE bool is_nan_bits(float x) {
  return (std::bit_cast<uint32_t>(x) & 0x7fffffffu) > 0x7f800000u;
}

// Maps floats to int32 monotonically (sign-magnitude -> two's complement order), an involution.
SOFTDPU_EW_INLINE int32_t float_order(float x) {
  int32_t i = std::bit_cast<int32_t>(x);
  return i ^ ((i >> 31) & 0x7fffffff);
}
SOFTDPU_EW_INLINE float order_float(int32_t o) {
  return std::bit_cast<float>(o ^ ((o >> 31) & 0x7fffffff));
}

// Clamp to [lo, hi] by integer min/max on the ordered bits. NaN lands on a bound; callers that
// must propagate NaN blend it back with is_nan_bits.
SOFTDPU_EW_INLINE float clamp_bits(float x, float lo, float hi) {
  int32_t o = float_order(x);
  int32_t l = float_order(lo), h = float_order(hi);
  o = o < l ? l : o;
  o = o > h ? h : o;
  return order_float(o);
}

// exp(r) - 1 - r for the reduced argument |r| <= ln2/2 (Cephes expf polynomial), times r^2 added
// back by the callers.
template <bool kFma>
SOFTDPU_EW_INLINE float exp_poly(float r) {
  float p = 1.9875691500e-4f;
  p = madd<kFma>(p, r, 1.3981999507e-3f);
  p = madd<kFma>(p, r, 8.3334519073e-3f);
  p = madd<kFma>(p, r, 4.1665795894e-2f);
  p = madd<kFma>(p, r, 1.6666665459e-1f);
  p = madd<kFma>(p, r, 5.0000001201e-1f);
  return p;
}

// Splits x = n*ln2 + r. The 1.5*2^23 trick rounds x*log2(e) to the nearest integer and leaves
// it in the low mantissa bits, so no float->int conversion (UB for NaN) is needed.
template <bool kFma>
SOFTDPU_EW_INLINE float exp_reduce(float x, int32_t& n) {
  constexpr float kShifter = 12582912.f;  // 1.5 * 2^23
  float t = madd<kFma>(x, 1.44269504088896341f, kShifter);
  n = std::bit_cast<int32_t>(t) - 0x4b400000;
  float fn = t - kShifter;
  float r = madd<kFma>(fn, -0.693359375f, x);  // ln2 split in two for an exact product
  return madd<kFma>(fn, 2.12194440e-4f, r);
}

SOFTDPU_EW_INLINE float pow2i(int32_t n) {
  return std::bit_cast<float>((n + 127) << 23);
}

template <bool kFma>
SOFTDPU_EW_INLINE float exp_approx(float x) {
  // Clamp so n stays in [-150, 128].
  float xc = clamp_bits(x, -104.f, 89.f);
  int32_t n;
  float r = exp_reduce<kFma>(xc, n);
  float y = madd<kFma>(exp_poly<kFma>(r) * r, r, r) + 1.f;
  // 2^n as two factors so subnormal results and n = 128 (overflow to inf) come out right.
  int32_t n1 = n >> 1;
  y = y * pow2i(n1) * pow2i(n - n1);
  return choose(is_nan_bits(x), x, y);
}

template <bool kFma>
SOFTDPU_EW_INLINE float expm1_approx(float x) {
  // e^x - 1 = 2^n (1 + q) - 1 = 2^n q + (2^n - 1): exact for n = 0, where cancellation would
  // otherwise hurt (ELU / SELU / CELU near zero). Computed as 2 (h q + (h - 1/2)) with
  // h = 2^(n-1), so that n = 128 (x near the overflow threshold) does not need the
  // unrepresentable 2^128. Below -87 the result is -1 in float.
  constexpr float kMax = 88.7228394f;
  float xc = clamp_bits(x, -87.f, kMax);
  int32_t n;
  float r = exp_reduce<kFma>(xc, n);
  float q = madd<kFma>(exp_poly<kFma>(r) * r, r, r);
  float h = pow2i(n - 1);
  float y = 2.f * madd<kFma>(h, q, h - 0.5f);
  y = choose(float_order(x) > float_order(kMax), __builtin_inff(), y);
  return choose(is_nan_bits(x), x, y);
}

template <bool kFma>
SOFTDPU_EW_INLINE float sigmoid_approx(float x) {
  return 1.f / (1.f + exp_approx<kFma>(-x));
}

template <bool kFma>
SOFTDPU_EW_INLINE float tanh_approx(float x) {
  // |x| < 0.625: odd polynomial (Cephes tanhf); beyond: 1 - 2 / (e^2|x| + 1) with x's sign.
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  const uint32_t sign = bits & 0x80000000u;
  const float z = std::bit_cast<float>(bits & 0x7fffffffu);
  float x2 = x * x;
  float p = -5.70498872745e-3f;
  p = madd<kFma>(p, x2, 2.06390887954e-2f);
  p = madd<kFma>(p, x2, -5.37397155531e-2f);
  p = madd<kFma>(p, x2, 1.33314422036e-1f);
  p = madd<kFma>(p, x2, -3.33332819422e-1f);
  float small = madd<kFma>(p * x2, x, x);
  float big = 1.f - 2.f / (exp_approx<kFma>(z + z) + 1.f);
  big = std::bit_cast<float>(std::bit_cast<uint32_t>(big) | sign);
  // NaN has |x| bits above 0.625's and takes the exp branch, which keeps it NaN.
  return choose((bits & 0x7fffffffu) < 0x3f200000u, small, big);  // 0x3f200000 = 0.625f
}

template <bool kFma>
SOFTDPU_EW_INLINE float erf_approx(float x) {
  // Rational minimax x P(x^2) / Q(x^2) on [-4, 4] (the form Eigen and XLA use); erf is +-1 in
  // float beyond 4.
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  uint32_t ax = bits & 0x7fffffffu;
  ax = ax < 0x40800000u ? ax : 0x40800000u;  // min(|x|, 4)
  float xc = std::bit_cast<float>(ax | (bits & 0x80000000u));
  float x2 = xc * xc;
  float p = -2.72614225801306e-10f;
  p = madd<kFma>(p, x2, 2.77068142495902e-08f);
  p = madd<kFma>(p, x2, -2.10102402082508e-06f);
  p = madd<kFma>(p, x2, -5.69250639462346e-05f);
  p = madd<kFma>(p, x2, -7.34990630326855e-04f);
  p = madd<kFma>(p, x2, -2.95459980854025e-03f);
  p = madd<kFma>(p, x2, -1.60960333262415e-02f);
  float q = -1.45660718464996e-05f;
  q = madd<kFma>(q, x2, -2.13374055278905e-04f);
  q = madd<kFma>(q, x2, -1.68282697438203e-03f);
  q = madd<kFma>(q, x2, -7.37332916720468e-03f);
  q = madd<kFma>(q, x2, -1.42647390514189e-02f);
  return choose(is_nan_bits(x), x, xc * p / q);
}

}  // namespace softdpu::kernels::ew
