// AVX-512 kernels where the activations are quantised too (QuantActivations::kNative):
//   MXINT8 x MXINT8  vpdpbusd (AVX512_VNNI) on 32-element blocks. vpdpbusd multiplies unsigned by
//                    signed bytes, so the activation's sign moves onto the weight (masked vpsubb)
//                    and |x| is the unsigned operand: |x| * (sign(x) * w) = x * w, with no
//                    correction term and no change to the stored weights. Each block's int32
//                    sum is converted once and scaled by 2^(ew-127-6) * 2^(ex-127-6).
//   bf16 x bf16      vdpbf16ps (AVX512_BF16): 32 products a instruction, fp32 accumulation.
// Plus the activation quantisers both paths share with the AVX-512 ISA level.
// GCC 12 warns about _mm512_undefined_*() inside its own intrinsics headers (a known false
// positive of -W(maybe-)uninitialized); silenced for this file only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <limits>

#include "core/cpu.h"
#include "kernels/quant/qgemm_internal.h"

namespace softdpu::kernels::quant {
namespace {

template <int RW>
SDPU_TARGET_AVX512_VNNI void int8_tile(const QJob& j, int64_t r0, int64_t i) {
  __m256 acc[RW];
  const uint8_t* rows[RW];
  for (int r = 0; r < RW; ++r) {
    acc[r] = _mm256_setzero_ps();
    rows[r] = j.row(r0 + r);
  }
  const int8_t* xq = j.xq + i * j.ldx;
  const float* xs = j.xs + i * j.blocks;
  const __m256i zero = _mm256_setzero_si256();
  for (int64_t b = 0; b < j.blocks; ++b) {
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + b * 32));
    const __m256i xa = _mm256_abs_epi8(xv);
    const __mmask32 neg = _mm256_movepi8_mask(xv);
    const float sx = xs[b];
    const int64_t off = b * j.block_bytes;
    prefetch_rows<RW>(rows, off + kPrefetchBytes, j.row_bytes);
    for (int r = 0; r < RW; ++r) {
      __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[r] + off + 1));
      wv = _mm256_mask_sub_epi8(wv, neg, zero, wv);
      const __m256i p = _mm256_dpbusd_epi32(zero, xa, wv);
      const __m256 s = _mm256_set1_ps(j.scale_table[rows[r][off]] * sx);
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), s, acc[r]);
    }
  }
  for (int r = 0; r < RW; ++r) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[r]), _mm256_extractf128_ps(acc[r], 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    finish(j, i, r0 + r, _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q))));
  }
}

// The 4 weight rows stay in L1 while every activation row passes over them.
SDPU_TARGET_AVX512_VNNI void int8_rows(const QJob& j, int64_t r0, int64_t r1) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4)
    for (int64_t i = 0; i < j.m; ++i) int8_tile<4>(j, r, i);
  for (; r < r1; ++r)
    for (int64_t i = 0; i < j.m; ++i) int8_tile<1>(j, r, i);
}

template <int RW>
SDPU_TARGET_AVX512_BF16 void bf16_tile(const QJob& j, int64_t r0, int64_t i) {
  __m512 acc[RW];
  const uint16_t* rows[RW];
  for (int r = 0; r < RW; ++r) {
    acc[r] = _mm512_setzero_ps();
    rows[r] = reinterpret_cast<const uint16_t*>(j.row(r0 + r));
  }
  const uint16_t* xh = j.xh + i * j.ldx;
  int64_t k = 0;
  for (; k + 32 <= j.kp; k += 32) {
    prefetch_rows<RW>(reinterpret_cast<const uint8_t* const*>(rows), 2 * k + kPrefetchBytes,
                      j.row_bytes);
    const __m512bh xv = (__m512bh)_mm512_loadu_si512(xh + k);
    for (int r = 0; r < RW; ++r)
      acc[r] = _mm512_dpbf16_ps(acc[r], xv, (__m512bh)_mm512_loadu_si512(rows[r] + k));
  }
  if (k < j.kp) {  // kp is a multiple of 16: one half vector left, zero extended
    const __m512bh xv = (__m512bh)_mm512_maskz_loadu_epi16(0xFFFF, xh + k);
    for (int r = 0; r < RW; ++r)
      acc[r] =
          _mm512_dpbf16_ps(acc[r], xv, (__m512bh)_mm512_maskz_loadu_epi16(0xFFFF, rows[r] + k));
  }
  for (int r = 0; r < RW; ++r) finish(j, i, r0 + r, _mm512_reduce_add_ps(acc[r]));
}

SDPU_TARGET_AVX512_BF16 void bf16_rows(const QJob& j, int64_t r0, int64_t r1) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4)
    for (int64_t i = 0; i < j.m; ++i) bf16_tile<4>(j, r, i);
  for (; r < r1; ++r)
    for (int64_t i = 0; i < j.m; ++i) bf16_tile<1>(j, r, i);
}

__mmask16 tail_mask(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

}  // namespace

RowsFn select_rows_avx512_native(const QJob& j, Path path) {
  if (path == Path::kMxInt8Native && cpu_has_avx512_vnni()) return &int8_rows;
  if (path == Path::kBf16Native && cpu_has_avx512_bf16()) return &bf16_rows;
  return nullptr;
}

SDPU_TARGET_AVX512 void quantize_x_mxint8_avx512(const float* x, int64_t k, int64_t kp, int8_t* q,
                                                 float* s) {
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
  for (int64_t b = 0; b * 32 < kp; ++b) {
    const int64_t k0 = b * 32;
    const __m512 v0 = _mm512_maskz_loadu_ps(tail_mask(k - k0), x + k0);
    const __m512 v1 = _mm512_maskz_loadu_ps(tail_mask(k - k0 - 16), x + k0 + 16);
    // NaN (quiet or signalling) and +-Inf: fpclass categories 0x01 | 0x80 | 0x08 | 0x10.
    const bool finite = (_mm512_fpclass_ps_mask(v0, 0x99) | _mm512_fpclass_ps_mask(v1, 0x99)) == 0;
    const float max_abs = _mm512_reduce_max_ps(
        _mm512_max_ps(_mm512_and_ps(v0, abs_mask), _mm512_and_ps(v1, abs_mask)));
    uint32_t bits;
    __builtin_memcpy(&bits, &max_abs, 4);
    const int e = std::max(int(bits >> 23) - 127, -127);  // subnormal or zero max: -127
    if (!finite) {
      s[b] = std::numeric_limits<float>::quiet_NaN();
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + k0), _mm256_setzero_si256());
      continue;
    }
    s[b] = __builtin_ldexpf(1.f, e - 6);
    const __m512 f = _mm512_set1_ps(float(6 - e));
    const __m512i lo = _mm512_set1_epi32(-127);
    // scalef is exact here (a power-of-two scaling); roundscale rounds half to even.
    const __m512i i0 =
        _mm512_max_epi32(lo, _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_scalef_ps(v0, f),
                                                                     _MM_FROUND_TO_NEAREST_INT)));
    const __m512i i1 =
        _mm512_max_epi32(lo, _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_scalef_ps(v1, f),
                                                                     _MM_FROUND_TO_NEAREST_INT)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k0), _mm512_cvtsepi32_epi8(i0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k0 + 16), _mm512_cvtsepi32_epi8(i1));
  }
}

SDPU_TARGET_AVX512_BF16 void convert_x_bf16_avx512(const float* x, int64_t k, int64_t kp,
                                                   uint16_t* h) {
  for (int64_t i = 0; i < kp; i += 16) {
    const __m512 v = _mm512_maskz_loadu_ps(tail_mask(k - i), x + i);
    const __m256bh c = _mm512_cvtneps_pbh(v);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + i), (__m256i)c);
  }
}

}  // namespace softdpu::kernels::quant
