// AVX-512 kernels where the activations are quantised too (QuantActivations::kNative):
//   MXINT8 x MXINT8  vpdpbusd (AVX512_VNNI) on 32-element blocks. vpdpbusd multiplies unsigned by
//                    signed bytes, so the weight becomes the unsigned operand w + 128 (one
//                    vpxor of the sign bit) and the activation codes x stay signed:
//                    sum (w + 128) x = sum w x + 128 sum x, and sum x of each activation block
//                    is computed once per call (QJob::xsum). Eight blocks' int32 lane sums are
//                    reduced to one vector of eight block sums (vphaddd tree), converted once and
//                    multiplied by the eight block scales 2^(ew-127-6) * 2^(ex-127-6), whose
//                    weight exponents are picked out of the row with vpermt2b (AVX512_VBMI) and
//                    enter through vscalefps. Per block that leaves about a load, a vpxor and a
//                    vpdpbusd: the batch-1 product runs near cache bandwidth instead of being
//                    bound by per-block scalar scale work.
//   MXFP4 x MXINT8   the same, after a vpshufb table turns the 32 nibbles of a block into the
//                    exact values 2 * e2m1 + 128 (scale 2^(ew-127-1)).
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

#define SDPU_INLINE_VNNI SDPU_TARGET_AVX512_VNNI_VBMI inline __attribute__((always_inline))

// Weight decoders of the integer paths: the 32 weights + 128 (uint8) of the block whose codes
// start at p.
struct WInt8 {
  static constexpr int kBlockBytes = 33;
  __m256i bias;
  SDPU_INLINE_VNNI WInt8() : bias(_mm256_set1_epi8(char(0x80))) {}
  SDPU_INLINE_VNNI __m256i operator()(const uint8_t* p) const {
    return _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), bias);
  }
};

// 16 bytes: low nibbles are elements 0..15, high nibbles 16..31. vpermb (AVX512_VBMI) on 32 bytes
// reads index bits 0..4, so with the 16-entry table repeated twice the bit above each nibble
// does not matter and no mask is needed.
struct WFp4 {
  static constexpr int kBlockBytes = 17;
  __m256i lut;
  SDPU_INLINE_VNNI WFp4()
      : lut(_mm256_broadcastsi128_si256(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(kE2M1Times2Plus128)))) {}
  SDPU_INLINE_VNNI __m256i operator()(const uint8_t* p) const {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m256i both =
        _mm256_inserti128_si256(_mm256_castsi128_si256(b), _mm_srli_epi16(b, 4), 1);
    return _mm256_permutexvar_epi8(both, lut);
  }
};

// [sum of p[0]'s lanes, ..., sum of p[7]'s lanes].
SDPU_INLINE_VNNI __m256i lane_sums8(const __m256i* p) {
  const __m256i t0 = _mm256_hadd_epi32(p[0], p[1]);
  const __m256i t1 = _mm256_hadd_epi32(p[2], p[3]);
  const __m256i t2 = _mm256_hadd_epi32(p[4], p[5]);
  const __m256i t3 = _mm256_hadd_epi32(p[6], p[7]);
  const __m256i u0 = _mm256_hadd_epi32(t0, t1);  // p0..p3: low-half sums | high-half sums
  const __m256i u1 = _mm256_hadd_epi32(t2, t3);  // p4..p7
  return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20),
                          _mm256_permute2x128_si256(u0, u1, 0x31));
}

SDPU_INLINE_VNNI float hsum(__m256 v) {
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

// The header bytes of the 8 blocks of BB bytes that start at p, zero-extended to int32: picked out
// of two or four 64-byte loads with vpermt2b (AVX512_VBMI) instead of a (slow) gather.
template <int BB>
SDPU_INLINE_VNNI __m256i headers8(const uint8_t* p) {
  static_assert(7 * BB < 256, "8 headers within four vectors");
  const __m512i idx =
      _mm512_setr_epi64(int64_t(BB * 0) | int64_t(BB * 1) << 8 | int64_t(BB * 2) << 16 |
                            int64_t(BB * 3) << 24 | int64_t(BB * 4) << 32 | int64_t(BB * 5) << 40 |
                            int64_t(BB * 6) << 48 | int64_t(BB * 7) << 56,
                        0, 0, 0, 0, 0, 0, 0);
  const __m512i z0 = _mm512_loadu_si512(p), z1 = _mm512_loadu_si512(p + 64);
  __m512i h;
  if constexpr (7 * BB < 128) {
    h = _mm512_permutex2var_epi8(z0, idx, z1);
  } else {  // offsets >= 128 come from the second pair (vpermt2b reads index bits 0..6 only)
    const __m512i z2 = _mm512_loadu_si512(p + 128), z3 = _mm512_loadu_si512(p + 192);
    h = _mm512_mask_blend_epi8(__mmask64(0xF0), _mm512_permutex2var_epi8(z0, idx, z1),
                               _mm512_permutex2var_epi8(z2, idx, z3));
  }
  return _mm256_cvtepu8_epi32(_mm512_castsi512_si128(h));
}

// Y[i, r] for one weight row and one activation row.
template <class W>
SDPU_TARGET_AVX512_VNNI_VBMI float int8_dot(const QJob& j, const W& dec, const uint8_t* row,
                                            int64_t i) {
  const int8_t* xq = j.xq + i * j.ldx;
  const float* xs = j.xs + i * j.blocks;
  const int32_t* xsum = j.xsum + i * j.blocks;
  constexpr int64_t bb = W::kBlockBytes;
  const __m256i zero = _mm256_setzero_si256();
  const __m256i nan_hdr = _mm256_set1_epi32(0xFF);
  const __m256 exp_bias = _mm256_set1_ps(float(127 - j.scale_shift));
  const __m256 nan = _mm256_set1_ps(std::numeric_limits<float>::quiet_NaN());
  __m256 acc = _mm256_setzero_ps();
  int64_t b = 0;
  for (; b + 8 <= j.blocks; b += 8) {
    const uint8_t* blk = row + b * bb;
    for (int64_t o = 0; o < 8 * bb; o += 64) __builtin_prefetch(blk + kPrefetchBytes + o, 0, 3);
    __m256i p[8];
    for (int u = 0; u < 8; ++u) {
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + (b + u) * 32));
      p[u] = _mm256_dpbusd_epi32(zero, dec(blk + u * bb + 1), xv);
    }
    // sum (w + 128) x - 128 sum x, exact in int32 (|sum| < 2^24).
    const __m256i sums = _mm256_sub_epi32(
        lane_sums8(p),
        _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xsum + b)), 7));
    const __m256i hdr = headers8<W::kBlockBytes>(blk);
    // xs * 2^(ew - 127 + shift): the scale table's value times xs, exact (powers of two) up to
    // the same underflow rounding; header 0xFF (NaN scale) gives NaN as the table does.
    __m256 s =
        _mm256_scalef_ps(_mm256_loadu_ps(xs + b), _mm256_sub_ps(_mm256_cvtepi32_ps(hdr), exp_bias));
    s = _mm256_mask_mov_ps(s, _mm256_cmpeq_epi32_mask(hdr, nan_hdr), nan);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), s, acc);
  }
  float tail = 0;
  for (; b < j.blocks; ++b) {
    const uint8_t* blk = row + b * bb;
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + b * 32));
    const __m256i p = _mm256_dpbusd_epi32(zero, dec(blk + 1), xv);
    const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
    const __m128i q = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
    const int32_t sum =
        _mm_cvtsi128_si32(_mm_add_epi32(q, _mm_shuffle_epi32(q, 0xB1))) - xsum[b] * 128;
    tail += float(sum) * (j.scale_table[blk[0]] * xs[b]);
  }
  return hsum(acc) + tail;
}

// Row-major: a weight row stays in L1 while every activation row passes over it, and the rows
// stream through memory in order.
template <class W>
SDPU_TARGET_AVX512_VNNI_VBMI void int8_rows(const QJob& j, int64_t r0, int64_t r1) {
  const W dec;
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t i = 0; i < j.m; ++i) finish(j, i, r, int8_dot(j, dec, j.row(r), i));
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
  const bool int8_dots = cpu_has_avx512_vnni() && cpu_has_avx512_vbmi();
  if (path == Path::kMxInt8Native && int8_dots) return &int8_rows<WInt8>;
  if (path == Path::kMxFp4Native && int8_dots) return &int8_rows<WFp4>;
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
