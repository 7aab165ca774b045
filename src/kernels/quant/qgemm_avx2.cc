// AVX2 (+FMA, F16C) row kernels of the quantised products: the fallback for CPUs without
// AVX-512. Same decode-and-FMA structure as qgemm_avx512.cc, 8 lanes at a time:
//   int8 / bfp bytes   vpmovsxbd + vcvtdq2ps
//   FP4 / bfp nibbles  vpshufb through a 16-entry int8 table, then vpmovsxbd + vcvtdq2ps
//   FP8 / FP6          the fp16 re-biasing trick of the AVX-512 path, then vcvtph2ps (FP6 codes
//                      are gathered from their 6-bit fields with vpshufb and vpmullw)
// MXINT8 x MXINT8 uses vpmaddubsw on |x| and sign(x) * w (vpsignb), then vpmaddwd to int32; the
// pair sums stay below 2 * 127 * 127 < 2^15, so the saturating vpmaddubsw never saturates.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "kernels/quant/qgemm_internal.h"

namespace softdpu::kernels::quant {
namespace {

#define SDPU_INLINE_AVX2 SDPU_TARGET_AVX2 inline __attribute__((always_inline))

enum class Scale { kNone, kRow, kBlock };

// kChunk elements (kChunkBytes bytes of codes) -> kChunk / 8 vectors of fp32.
struct DecF32 {
  static constexpr int kChunk = 8, kChunkBytes = 32;
  static constexpr Scale kScale = Scale::kNone;
  SDPU_INLINE_AVX2 explicit DecF32(const QJob&) {}
  SDPU_INLINE_AVX2 void decode(const uint8_t* p, __m256* w) const {
    w[0] = _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  }
};

struct DecBf16 {
  static constexpr int kChunk = 8, kChunkBytes = 16;
  static constexpr Scale kScale = Scale::kNone;
  SDPU_INLINE_AVX2 explicit DecBf16(const QJob&) {}
  SDPU_INLINE_AVX2 void decode(const uint8_t* p, __m256* w) const {
    const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    w[0] = _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
  }
};

struct DecFp16 {
  static constexpr int kChunk = 8, kChunkBytes = 16;
  static constexpr Scale kScale = Scale::kNone;
  SDPU_INLINE_AVX2 explicit DecFp16(const QJob&) {}
  SDPU_INLINE_AVX2 void decode(const uint8_t* p, __m256* w) const {
    w[0] = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};

template <Scale S>
struct DecI8 {
  static constexpr int kChunk = 8, kChunkBytes = 8;
  static constexpr Scale kScale = S;
  SDPU_INLINE_AVX2 explicit DecI8(const QJob&) {}
  SDPU_INLINE_AVX2 void decode(const uint8_t* p, __m256* w) const {
    const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    w[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
  }
};

// 4-bit codes in groups of G = 2 * kBytes elements (bytes hold elements j and j + G/2): vpshufb
// maps each nibble to an int8 through a 16-entry table, then vpmovsxbd + vcvtdq2ps. E2M1 values
// times 2 are integers (0, 1, 2, 3, 4, 6, 8, 12), so the FP4 block table is 2^-1 lower; bfp
// nibbles are the integers themselves (two's complement).
template <bool kFp4, int kBytes>
struct DecNib {
  static constexpr int kChunk = 2 * kBytes, kChunkBytes = kBytes;
  static constexpr Scale kScale = Scale::kBlock;
  static constexpr int kTableShift = -1;  // used for kFp4 only (see block_table)
  __m128i lut;
  SDPU_INLINE_AVX2 explicit DecNib(const QJob&) {
    lut = kFp4 ? _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12)
               : _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
  }
  SDPU_INLINE_AVX2 void decode(const uint8_t* p, __m256* w) const {
    const __m128i nib = _mm_set1_epi8(0x0F);
    if constexpr (kBytes == 16) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i lo = _mm_shuffle_epi8(lut, _mm_and_si128(b, nib));
      const __m128i hi = _mm_shuffle_epi8(lut, _mm_and_si128(_mm_srli_epi16(b, 4), nib));
      w[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
      w[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
      w[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
      w[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
    } else {
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
      const __m128i both = _mm_unpacklo_epi64(b, _mm_srli_epi16(b, 4));
      const __m128i v = _mm_shuffle_epi8(lut, _mm_and_si128(both, nib));
      w[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v));
      w[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(v, 8)));
    }
  }
};

// 16 fp16 bit patterns -> two fp32 vectors.
SDPU_INLINE_AVX2 void fp16x16_to_f32(__m256i h, __m256* w) {
  w[0] = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
  w[1] = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
}

// FP8: 16 codes at a time through fp16 (see qgemm_avx512.cc for the bit tricks).
template <bool kE4M3>
struct DecFp8 {
  static constexpr int kChunk = 16, kChunkBytes = 16;
  static constexpr Scale kScale = Scale::kBlock;
  SDPU_INLINE_AVX2 explicit DecFp8(const QJob&) {}
  SDPU_INLINE_AVX2 void decode(const uint8_t* p, __m256* w) const {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m256i h;
    if constexpr (kE4M3) {
      h = _mm256_and_si256(_mm256_slli_epi16(_mm256_cvtepi8_epi16(b), 7),
                           _mm256_set1_epi16(int16_t(0xBFFF)));
    } else {
      h = _mm256_slli_epi16(_mm256_cvtepu8_epi16(b), 8);
    }
    fp16x16_to_f32(h, w);
  }
};

// FP6: 16 codes (12 bytes) at a time. Each 128-bit lane takes the 6 bytes of 8 codes; vpshufb
// puts the 16-bit window holding code i into word i, and vpmullw by 2^(10 - offset) (AVX2 has
// no per-word variable shift) moves the code to bits 10..15 as the AVX-512 path does. Bits
// below the code are cleared by the final mask, which keeps only sign and magnitude.
template <int kShift>
struct DecFp6 {
  static constexpr int kChunk = 16, kChunkBytes = 12;
  static constexpr Scale kScale = Scale::kBlock;
  __m256i shuf, mul;
  SDPU_INLINE_AVX2 explicit DecFp6(const QJob&) {
    const __m128i s = _mm_setr_epi8(0, 1, 0, 1, 1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 5, 6);
    shuf = _mm256_broadcastsi128_si256(s);
    const __m128i m =
        _mm_setr_epi16(1 << 10, 1 << 4, 1 << 6, 1 << 8, 1 << 10, 1 << 4, 1 << 6, 1 << 8);
    mul = _mm256_broadcastsi128_si256(m);
  }
  SDPU_INLINE_AVX2 void decode(const uint8_t* p, __m256* w) const {
    // 8 bytes from p and from p + 6 (2 bytes past this chunk: inside the packed buffer).
    const __m256i raw = _mm256_setr_m128i(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)),
                                          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 6)));
    __m256i v = _mm256_mullo_epi16(_mm256_shuffle_epi8(raw, shuf), mul);
    v = _mm256_srai_epi16(v, kShift);
    const int16_t mask = int16_t(0x8000 | ((0x7C00 >> kShift) & 0x7FFF));
    fp16x16_to_f32(_mm256_and_si256(v, _mm256_set1_epi16(mask)), w);
  }
};

// The block scale table a decoder's output needs (the job's, unless the decoder says otherwise).
template <class D>
const float* block_table(const QJob& j) {
  if constexpr (requires { D::kTableShift; }) {
    if (j.id == formats::FormatId::kMxFp4E2M1) return pow2_table(D::kTableShift);
  }
  return j.scale_table;
}

SDPU_INLINE_AVX2 float hsum(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
}

// RW weight rows x one activation row, all of K.
template <class D, int RW>
SDPU_TARGET_AVX2 void tile(const QJob& j, const D& d, int64_t r0, int64_t i) {
  constexpr int V = D::kChunk / 8;
  __m256 acc[RW];
  const uint8_t* rows[RW];
  for (int r = 0; r < RW; ++r) {
    acc[r] = _mm256_setzero_ps();
    rows[r] = j.row(r0 + r);
  }
  const float* x = j.x + i * j.ldx;
  if constexpr (D::kScale == Scale::kBlock) {
    const float* table = block_table<D>(j);
    const int chunks = j.block / D::kChunk;
    for (int64_t b = 0; b < j.blocks; ++b) {
      const int64_t k0 = b * j.block, off = b * j.block_bytes;
      prefetch_rows<RW>(rows, off + kPrefetchBytes, j.row_bytes);
      __m256 t[RW];
      for (int r = 0; r < RW; ++r) t[r] = _mm256_setzero_ps();
      for (int c = 0; c < chunks; ++c) {
        for (int r = 0; r < RW; ++r) {
          __m256 w[V];
          d.decode(rows[r] + off + 1 + c * D::kChunkBytes, w);
          for (int v = 0; v < V; ++v)
            t[r] = _mm256_fmadd_ps(w[v], _mm256_loadu_ps(x + k0 + c * D::kChunk + 8 * v), t[r]);
        }
      }
      for (int r = 0; r < RW; ++r)
        acc[r] = _mm256_fmadd_ps(t[r], _mm256_set1_ps(table[rows[r][off]]), acc[r]);
    }
  } else {
    const int64_t chunks = j.kp / D::kChunk;
    for (int64_t c = 0; c < chunks; ++c) {
      prefetch_rows<RW>(rows, c * D::kChunkBytes + kPrefetchBytes, j.row_bytes);
      for (int r = 0; r < RW; ++r) {
        __m256 w[V];
        d.decode(rows[r] + c * D::kChunkBytes, w);
        for (int v = 0; v < V; ++v)
          acc[r] = _mm256_fmadd_ps(w[v], _mm256_loadu_ps(x + c * D::kChunk + 8 * v), acc[r]);
      }
    }
  }
  for (int r = 0; r < RW; ++r) {
    float v = hsum(acc[r]);
    if constexpr (D::kScale == Scale::kRow) v *= j.row_scales[r0 + r];
    finish(j, i, r0 + r, v);
  }
}

// The weight rows of a tile stay in L1 while each activation row passes over them.
template <class D>
SDPU_TARGET_AVX2 void rows(const QJob& j, int64_t r0, int64_t r1) {
  const D d(j);
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4)
    for (int64_t i = 0; i < j.m; ++i) tile<D, 4>(j, d, r, i);
  for (; r < r1; ++r)
    for (int64_t i = 0; i < j.m; ++i) tile<D, 1>(j, d, r, i);
}

// Weight decoders of the integer paths: the 32 int8 weights of the block whose codes start at p.
struct WInt8 {
  SDPU_INLINE_AVX2 __m256i operator()(const uint8_t* p) const {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
};

// MXFP4: 16 bytes, low nibbles = elements 0..15, high = 16..31 -> exact int8 2 * e2m1.
struct WFp4 {
  __m256i lut, low4;
  SDPU_INLINE_AVX2 WFp4()
      : lut(_mm256_broadcastsi128_si256(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(kE2M1Times2)))),
        low4(_mm256_set1_epi8(0x0F)) {}
  SDPU_INLINE_AVX2 __m256i operator()(const uint8_t* p) const {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m256i both =
        _mm256_inserti128_si256(_mm256_castsi128_si256(b), _mm_srli_epi16(b, 4), 1);
    return _mm256_shuffle_epi8(lut, _mm256_and_si256(both, low4));
  }
};

// pmaddubs adds two products of |x| <= 127 and |w| <= 127 (fp4: <= 12) per int16: no saturation.
template <class W, int RW>
SDPU_TARGET_AVX2 void int8_tile(const QJob& j, const W& dec, int64_t r0, int64_t i) {
  __m256 acc[RW];
  const uint8_t* rows[RW];
  for (int r = 0; r < RW; ++r) {
    acc[r] = _mm256_setzero_ps();
    rows[r] = j.row(r0 + r);
  }
  const int8_t* xq = j.xq + i * j.ldx;
  const float* xs = j.xs + i * j.blocks;
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < j.blocks; ++b) {
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + b * 32));
    const __m256i xa = _mm256_abs_epi8(xv);
    const int64_t off = b * j.block_bytes;
    prefetch_rows<RW>(rows, off + kPrefetchBytes, j.row_bytes);
    for (int r = 0; r < RW; ++r) {
      const __m256i wv = dec(rows[r] + off + 1);
      const __m256i p16 = _mm256_maddubs_epi16(xa, _mm256_sign_epi8(wv, xv));
      const __m256i p32 = _mm256_madd_epi16(p16, ones);
      const __m256 s = _mm256_set1_ps(j.scale_table[rows[r][off]] * xs[b]);
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), s, acc[r]);
    }
  }
  for (int r = 0; r < RW; ++r) finish(j, i, r0 + r, hsum(acc[r]));
}

template <class W>
SDPU_TARGET_AVX2 void int8_rows(const QJob& j, int64_t r0, int64_t r1) {
  const W dec;
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4)
    for (int64_t i = 0; i < j.m; ++i) int8_tile<W, 4>(j, dec, r, i);
  for (; r < r1; ++r)
    for (int64_t i = 0; i < j.m; ++i) int8_tile<W, 1>(j, dec, r, i);
}

// bf16 x bf16 without AVX512_BF16: both operands widened to fp32 (exact), then FMA.
template <int RW>
SDPU_TARGET_AVX2 void bf16_tile(const QJob& j, int64_t r0, int64_t i) {
  __m256 acc[RW];
  for (int r = 0; r < RW; ++r) acc[r] = _mm256_setzero_ps();
  const uint16_t* xh = j.xh + i * j.ldx;
  for (int64_t k = 0; k < j.kp; k += 8) {
    const __m256 xv = _mm256_castsi256_ps(_mm256_slli_epi32(
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xh + k))), 16));
    for (int r = 0; r < RW; ++r) {
      const uint8_t* p = j.row(r0 + r) + 2 * k;
      const __m256 wv = _mm256_castsi256_ps(_mm256_slli_epi32(
          _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
      acc[r] = _mm256_fmadd_ps(wv, xv, acc[r]);
    }
  }
  for (int r = 0; r < RW; ++r) finish(j, i, r0 + r, hsum(acc[r]));
}

SDPU_TARGET_AVX2 void bf16_rows(const QJob& j, int64_t r0, int64_t r1) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4)
    for (int64_t i = 0; i < j.m; ++i) bf16_tile<4>(j, r, i);
  for (; r < r1; ++r)
    for (int64_t i = 0; i < j.m; ++i) bf16_tile<1>(j, r, i);
}

}  // namespace

RowsFn select_rows_avx2(const QJob& j, Path path) {
  using formats::FormatId;
  if (path == Path::kMxInt8Native) return &int8_rows<WInt8>;
  if (path == Path::kMxFp4Native) return &int8_rows<WFp4>;
  if (path == Path::kBf16Native) return &bf16_rows;
  switch (j.id) {
    case FormatId::kFp32: return &rows<DecF32>;
    case FormatId::kBf16: return &rows<DecBf16>;
    case FormatId::kFp16: return &rows<DecFp16>;
    case FormatId::kInt8: return &rows<DecI8<Scale::kRow>>;
    case FormatId::kMxInt8: return &rows<DecI8<Scale::kBlock>>;
    case FormatId::kMxFp8E4M3: return &rows<DecFp8<true>>;
    case FormatId::kMxFp8E5M2: return &rows<DecFp8<false>>;
    case FormatId::kMxFp6E3M2: return &rows<DecFp6<2>>;
    case FormatId::kMxFp6E2M3: return &rows<DecFp6<3>>;
    case FormatId::kMxFp4E2M1: return &rows<DecNib<true, 16>>;
    case FormatId::kBfp:
      if (j.mantissa_bits >= 4) return &rows<DecI8<Scale::kBlock>>;
      return j.block == 16 ? &rows<DecNib<false, 8>> : &rows<DecNib<false, 16>>;
  }
  return nullptr;
}

SDPU_TARGET_AVX2 void quantize_x_mxint8_avx2(const float* x, int64_t k, int64_t kp, int8_t* q,
                                             float* s) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256i exp_mask = _mm256_set1_epi32(0x7F800000);
  for (int64_t b = 0; b * 32 < kp; ++b) {
    const int64_t k0 = b * 32;
    alignas(32) float buf[32] = {};
    const int64_t n = std::clamp<int64_t>(k - k0, 0, 32);
    std::memcpy(buf, x + k0, size_t(n) * sizeof(float));
    __m256 v[4], m = _mm256_setzero_ps();
    int nonfinite = 0;
    for (int c = 0; c < 4; ++c) {
      v[c] = _mm256_load_ps(buf + 8 * c);
      m = _mm256_max_ps(m, _mm256_and_ps(v[c], abs_mask));
      const __m256i e = _mm256_and_si256(_mm256_castps_si256(v[c]), exp_mask);
      nonfinite |= _mm256_movemask_epi8(_mm256_cmpeq_epi32(e, exp_mask));
    }
    if (nonfinite) {
      s[b] = std::numeric_limits<float>::quiet_NaN();
      std::memset(q + k0, 0, 32);
      continue;
    }
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    uint32_t bits;
    const float max_abs = _mm_cvtss_f32(h);
    std::memcpy(&bits, &max_abs, 4);
    const int e = std::max(int(bits >> 23) - 127, -127);
    s[b] = __builtin_ldexpf(1.f, e - 6);
    // 2^(6-e) can exceed float's range: two exact power-of-two multiplies instead of one.
    const int c1 = (6 - e) / 2, c2 = (6 - e) - c1;
    const __m256 f1 = _mm256_set1_ps(__builtin_ldexpf(1.f, c1));
    const __m256 f2 = _mm256_set1_ps(__builtin_ldexpf(1.f, c2));
    __m256i iv[4];
    for (int c = 0; c < 4; ++c) {
      const __m256 r = _mm256_round_ps(_mm256_mul_ps(_mm256_mul_ps(v[c], f1), f2),
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      iv[c] = _mm256_max_epi32(_mm256_cvtps_epi32(r), _mm256_set1_epi32(-127));
    }
    const __m256i p =
        _mm256_packs_epi16(_mm256_packs_epi32(iv[0], iv[1]), _mm256_packs_epi32(iv[2], iv[3]));
    const __m256i ordered =
        _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + k0), ordered);
  }
}

}  // namespace softdpu::kernels::quant
