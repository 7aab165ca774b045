// Register-level helpers for the reduce family's float32 fast paths (softmax, layer norm, row
// reductions). Each ISA is a struct of static functions over one register type; the kernels in
// row_kernels_simd.cc are templates over that struct, instantiated inside functions that carry the
// same target attribute plus `flatten`.
//
// Why the helpers are `inline` and not always_inline: GCC compiles the (never emitted) template
// body at the baseline target and rejects always_inline calls into an AVX function from there;
// with plain `inline`, `flatten` on the target-attributed caller still inlines every helper.
// Only row_kernels_simd.cc includes this header.
#pragma once

#include <immintrin.h>

#include <cstdint>

// The template bodies hold vector values while compiled at the baseline target (they are only
// ever inlined into AVX functions), which makes GCC warn about an ABI it never uses. GCC 12 also
// flags the deliberate self-initialisation inside _mm512_undefined_ps (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define SOFTDPU_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define SOFTDPU_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))

namespace softdpu::kernels::simd {

// exp(x) = 2^n * e^r with n = round(x / ln 2) and |r| <= ln2 / 2; e^r from the Cephes expf
// polynomial (relative error about 2e-7 with FMA). Inputs below kExpMin give 0 (no denormals);
// inputs above kExpMax are clamped, so the result is only right for x <= 88, which is all the
// callers need: they exponentiate x - max(x) <= 0.
inline constexpr float kExpMin = -87.33654475f;  // ln(FLT_MIN)
inline constexpr float kExpMax = 88.0f;
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693359375f;  // ln 2 split so n * kLn2Hi is exact
inline constexpr float kLn2Lo = -2.12194440e-4f;
inline constexpr float kExpP0 = 1.9875691500e-4f;
inline constexpr float kExpP1 = 1.3981999507e-3f;
inline constexpr float kExpP2 = 8.3334519073e-3f;
inline constexpr float kExpP3 = 4.1665795894e-2f;
inline constexpr float kExpP4 = 1.6666665459e-1f;
inline constexpr float kExpP5 = 5.0000001201e-1f;

struct Avx2 {
  using V = __m256;
  static constexpr int kWidth = 8;

  SOFTDPU_TARGET_AVX2 static inline V load(const float* p) { return _mm256_loadu_ps(p); }
  SOFTDPU_TARGET_AVX2 static inline void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  SOFTDPU_TARGET_AVX2 static inline __m256i tail_mask(int64_t n) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lanes);
  }
  // The first n (< kWidth) floats at p, `fill` in the other lanes; never touches p[n..].
  SOFTDPU_TARGET_AVX2 static inline V load_tail(const float* p, int64_t n, float fill) {
    const __m256i m = tail_mask(n);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  SOFTDPU_TARGET_AVX2 static inline void store_tail(float* p, V v, int64_t n) {
    _mm256_maskstore_ps(p, tail_mask(n), v);
  }
  SOFTDPU_TARGET_AVX2 static inline V set1(float x) { return _mm256_set1_ps(x); }
  SOFTDPU_TARGET_AVX2 static inline V zero() { return _mm256_setzero_ps(); }
  SOFTDPU_TARGET_AVX2 static inline V add(V a, V b) { return _mm256_add_ps(a, b); }
  SOFTDPU_TARGET_AVX2 static inline V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  SOFTDPU_TARGET_AVX2 static inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  SOFTDPU_TARGET_AVX2 static inline V div(V a, V b) { return _mm256_div_ps(a, b); }
  SOFTDPU_TARGET_AVX2 static inline V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  SOFTDPU_TARGET_AVX2 static inline V max(V a, V b) { return _mm256_max_ps(a, b); }
  SOFTDPU_TARGET_AVX2 static inline V min(V a, V b) { return _mm256_min_ps(a, b); }
  SOFTDPU_TARGET_AVX2 static inline V abs(V a) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a);
  }
  SOFTDPU_TARGET_AVX2 static inline float hsum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    __m128 sh = _mm_movehdup_ps(s);
    s = _mm_add_ps(s, sh);
    sh = _mm_movehl_ps(sh, s);
    return _mm_cvtss_f32(_mm_add_ss(s, sh));
  }
  SOFTDPU_TARGET_AVX2 static inline float hmax(V v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  SOFTDPU_TARGET_AVX2 static inline float hmin(V v) {
    __m128 s = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_min_ps(s, _mm_movehl_ps(s, s));
    s = _mm_min_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  SOFTDPU_TARGET_AVX2 static inline V exp(V x) {
    const V underflow = _mm256_cmp_ps(x, _mm256_set1_ps(kExpMin), _CMP_LT_OQ);
    // Constant first: max/min return their second operand when one is NaN, so NaN propagates.
    x = _mm256_min_ps(_mm256_set1_ps(kExpMax), _mm256_max_ps(_mm256_set1_ps(kExpMin), x));
    const V n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    V r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
    V p = _mm256_set1_ps(kExpP0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP5));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
    p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
    const __m256i bits =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(bits)));
  }
};

struct Avx512 {
  using V = __m512;
  static constexpr int kWidth = 16;

  SOFTDPU_TARGET_AVX512 static inline V load(const float* p) { return _mm512_loadu_ps(p); }
  SOFTDPU_TARGET_AVX512 static inline void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  SOFTDPU_TARGET_AVX512 static inline __mmask16 tail_mask(int64_t n) {
    return static_cast<__mmask16>((1u << n) - 1u);
  }
  SOFTDPU_TARGET_AVX512 static inline V load_tail(const float* p, int64_t n, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), tail_mask(n), p);
  }
  SOFTDPU_TARGET_AVX512 static inline void store_tail(float* p, V v, int64_t n) {
    _mm512_mask_storeu_ps(p, tail_mask(n), v);
  }
  SOFTDPU_TARGET_AVX512 static inline V set1(float x) { return _mm512_set1_ps(x); }
  SOFTDPU_TARGET_AVX512 static inline V zero() { return _mm512_setzero_ps(); }
  SOFTDPU_TARGET_AVX512 static inline V add(V a, V b) { return _mm512_add_ps(a, b); }
  SOFTDPU_TARGET_AVX512 static inline V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  SOFTDPU_TARGET_AVX512 static inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  SOFTDPU_TARGET_AVX512 static inline V div(V a, V b) { return _mm512_div_ps(a, b); }
  SOFTDPU_TARGET_AVX512 static inline V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  SOFTDPU_TARGET_AVX512 static inline V max(V a, V b) { return _mm512_max_ps(a, b); }
  SOFTDPU_TARGET_AVX512 static inline V min(V a, V b) { return _mm512_min_ps(a, b); }
  SOFTDPU_TARGET_AVX512 static inline V abs(V a) { return _mm512_abs_ps(a); }
  SOFTDPU_TARGET_AVX512 static inline float hsum(V v) { return _mm512_reduce_add_ps(v); }
  SOFTDPU_TARGET_AVX512 static inline float hmax(V v) { return _mm512_reduce_max_ps(v); }
  SOFTDPU_TARGET_AVX512 static inline float hmin(V v) { return _mm512_reduce_min_ps(v); }
  SOFTDPU_TARGET_AVX512 static inline V exp(V x) {
    const __mmask16 underflow = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpMin), _CMP_LT_OQ);
    x = _mm512_min_ps(_mm512_set1_ps(kExpMax), _mm512_max_ps(_mm512_set1_ps(kExpMin), x));
    const V n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    V r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
    V p = _mm512_set1_ps(kExpP0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP5));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
    p = _mm512_add_ps(p, _mm512_set1_ps(1.0f));
    const __m512i bits =
        _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mul_ps(static_cast<__mmask16>(~underflow), p, _mm512_castsi512_ps(bits));
  }
};

}  // namespace softdpu::kernels::simd
