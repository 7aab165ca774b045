// AVX-512 row kernels of the quantised products with fp32 activations: each weight chunk is
// decoded to fp32 in registers and consumed by FMAs at once (decode fused with the dot product,
// nothing written back). Batch-1 products are memory bound; these decoders keep the per-byte
// work small enough that the narrow formats stream near DRAM bandwidth:
//   int8 / bfp bytes   vpmovsxbd + vcvtdq2ps
//   FP4 / bfp nibbles  vpmovzxbd, then vpermps with a 16-entry LUT (low and high nibbles)
//   FP8 E4M3 / E5M2    re-biased into fp16 bit patterns with shifts, then vcvtph2ps
//   FP6 E3M2 / E2M3    6-bit fields gathered into 16-bit lanes (vpermw, vpshufb, vpsrlvw), then
//                      the same fp16 trick
// The fp16 trick yields value * 2^-c; the block scale table (qgemm.cc) multiplies 2^c back.
// GCC 12 warns about _mm512_undefined_*() inside its own intrinsics headers (a known false
// positive of -W(maybe-)uninitialized); silenced for this file only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/quant/qgemm_internal.h"

namespace softdpu::kernels::quant {
namespace {

#define SDPU_INLINE_AVX512 SDPU_TARGET_AVX512 inline __attribute__((always_inline))

enum class Scale { kNone, kRow, kBlock };

// A decoder turns kChunk elements (kChunkBytes bytes of codes) into kChunk / 16 fp32 vectors.
// kBlock / kBlockBytes: the MX block geometry known at compile time, so the chunk loop unrolls
// and the block stride is an immediate (0: read it from the job, as for bfp).
struct DecF32 {
  static constexpr int kChunk = 16, kChunkBytes = 64;
  static constexpr Scale kScale = Scale::kNone;
  static constexpr int kBlock = 0, kBlockBytes = 0;
  SDPU_INLINE_AVX512 explicit DecF32(const QJob&) {}
  SDPU_INLINE_AVX512 void decode(const uint8_t* p, __m512* w) const {
    w[0] = _mm512_loadu_ps(reinterpret_cast<const float*>(p));
  }
};

struct DecBf16 {
  static constexpr int kChunk = 16, kChunkBytes = 32;
  static constexpr Scale kScale = Scale::kNone;
  static constexpr int kBlock = 0, kBlockBytes = 0;
  SDPU_INLINE_AVX512 explicit DecBf16(const QJob&) {}
  SDPU_INLINE_AVX512 void decode(const uint8_t* p, __m512* w) const {
    const __m512i h =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    w[0] = _mm512_castsi512_ps(_mm512_slli_epi32(h, 16));
  }
};

struct DecFp16 {
  static constexpr int kChunk = 16, kChunkBytes = 32;
  static constexpr Scale kScale = Scale::kNone;
  static constexpr int kBlock = 0, kBlockBytes = 0;
  SDPU_INLINE_AVX512 explicit DecFp16(const QJob&) {}
  SDPU_INLINE_AVX512 void decode(const uint8_t* p, __m512* w) const {
    w[0] = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
};

// int8 codes: int8 per channel (row scale), MXINT8 and bfp with M >= 4 (block scale).
template <Scale S, int kFixedBlock = 0>
struct DecI8 {
  static constexpr int kChunk = 16, kChunkBytes = 16;
  static constexpr Scale kScale = S;
  static constexpr int kBlock = kFixedBlock, kBlockBytes = kFixedBlock ? 1 + kFixedBlock : 0;
  SDPU_INLINE_AVX512 explicit DecI8(const QJob&) {}
  SDPU_INLINE_AVX512 void decode(const uint8_t* p, __m512* w) const {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    w[0] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b));
  }
};

// 4-bit codes, 32 per 16 bytes (low nibbles = elements 0..15, high = 16..31); vpermps reads only
// the low 4 bits of each index lane, so the high nibble needs one shift and no mask.
template <int kFixedBlock>
struct DecNib32 {
  static constexpr int kChunk = 32, kChunkBytes = 16;
  static constexpr Scale kScale = Scale::kBlock;
  static constexpr int kBlock = kFixedBlock, kBlockBytes = kFixedBlock ? 1 + kFixedBlock / 2 : 0;
  __m512 lut;
  SDPU_INLINE_AVX512 explicit DecNib32(const QJob& j) : lut(_mm512_loadu_ps(j.lut16)) {}
  SDPU_INLINE_AVX512 void decode(const uint8_t* p, __m512* w) const {
    const __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    w[0] = _mm512_permutexvar_ps(idx, lut);
    w[1] = _mm512_permutexvar_ps(_mm512_srli_epi32(idx, 4), lut);
  }
};

// bfp nibbles at block 16: 8 bytes, low nibbles = elements 0..7, high = 8..15.
struct DecNib16 {
  static constexpr int kChunk = 16, kChunkBytes = 8;
  static constexpr Scale kScale = Scale::kBlock;
  static constexpr int kBlock = 0, kBlockBytes = 0;
  __m512 lut;
  SDPU_INLINE_AVX512 explicit DecNib16(const QJob& j) : lut(_mm512_loadu_ps(j.lut16)) {}
  SDPU_INLINE_AVX512 void decode(const uint8_t* p, __m512* w) const {
    const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    const __m128i both = _mm_unpacklo_epi64(b, _mm_srli_epi16(b, 4));
    w[0] = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(both), lut);
  }
};

// 32 fp16 bit patterns in h -> two fp32 vectors.
SDPU_INLINE_AVX512 void fp16x32_to_f32(__m512i h, __m512* w) {
  w[0] = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
  w[1] = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1));
}

// E4M3 s.eeee.mmm -> fp16 s.0eeee.mmm0000000 (value * 2^-8, subnormals included): the byte is
// sign-extended to 16 bits and shifted left by 7, which leaves the sign in bits 15 and 14; bit 14
// is cleared.
struct DecE4M3 {
  static constexpr int kChunk = 32, kChunkBytes = 32;
  static constexpr Scale kScale = Scale::kBlock;
  static constexpr int kBlock = 32, kBlockBytes = 33;
  SDPU_INLINE_AVX512 explicit DecE4M3(const QJob&) {}
  SDPU_INLINE_AVX512 void decode(const uint8_t* p, __m512* w) const {
    __m512i h = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    h = _mm512_and_si512(_mm512_slli_epi16(h, 7), _mm512_set1_epi16(int16_t(0xBFFF)));
    fp16x32_to_f32(h, w);
  }
};

// E5M2 is the high byte of an fp16.
struct DecE5M2 {
  static constexpr int kChunk = 32, kChunkBytes = 32;
  static constexpr Scale kScale = Scale::kBlock;
  static constexpr int kBlock = 32, kBlockBytes = 33;
  SDPU_INLINE_AVX512 explicit DecE5M2(const QJob&) {}
  SDPU_INLINE_AVX512 void decode(const uint8_t* p, __m512* w) const {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    fp16x32_to_f32(_mm512_slli_epi16(_mm512_cvtepu8_epi16(b), 8), w);
  }
};

// FP6: element i sits at bits [6i, 6i+6) of 24 bytes. 128-bit lane L of the word vector gets
// bytes 6L..6L+7 (vpermw: words 3L..3L+3), vpshufb puts the 16-bit window holding element 8L+j
// into word j, and vpmullw by 2^(10 - bit offset) moves the code to bits 10..15 (sign in bit 15,
// magnitude in 10..14; one multiply instead of a variable shift and a shift). An arithmetic
// shift right by kShift moves the magnitude under the fp16 exponent (E3M2: 2, value * 2^-12;
// E2M3: 3, value * 2^-14); the mask drops the sign copies and the bits below the code.
template <int kShift>
struct DecFp6 {
  static constexpr int kChunk = 32, kChunkBytes = 24;
  static constexpr Scale kScale = Scale::kBlock;
  static constexpr int kBlock = 32, kBlockBytes = 25;
  __m512i perm, shuf, mul;
  SDPU_INLINE_AVX512 explicit DecFp6(const QJob&) {
    perm = _mm512_set_epi16(12, 12, 12, 12, 12, 11, 10, 9, 9, 9, 9, 9, 9, 8, 7, 6,  //
                            6, 6, 6, 6, 6, 5, 4, 3, 3, 3, 3, 3, 3, 2, 1, 0);
    const __m128i s128 = _mm_setr_epi8(0, 1, 0, 1, 1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 5, 6);
    shuf = _mm512_broadcast_i32x4(s128);
    mul = _mm512_broadcast_i32x4(
        _mm_setr_epi16(1 << 10, 1 << 4, 1 << 6, 1 << 8, 1 << 10, 1 << 4, 1 << 6, 1 << 8));
  }
  SDPU_INLINE_AVX512 void decode(const uint8_t* p, __m512* w) const {
    const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    __m512i v = _mm512_permutexvar_epi16(perm, _mm512_castsi256_si512(raw));
    v = _mm512_srai_epi16(_mm512_mullo_epi16(_mm512_shuffle_epi8(v, shuf), mul), kShift);
    const int16_t mask = int16_t(0x8000 | ((0x7C00 >> kShift) & 0x7FFF));
    fp16x32_to_f32(_mm512_and_si512(v, _mm512_set1_epi16(mask)), w);
  }
};

// One tile: RW weight rows x RX activation rows, all of K.
template <class D, int RW, int RX>
SDPU_TARGET_AVX512 void tile(const QJob& j, const D& d, int64_t r0, int64_t i0) {
  constexpr int V = D::kChunk / 16;
  __m512 acc[RW][RX];
  for (int r = 0; r < RW; ++r)
    for (int c = 0; c < RX; ++c) acc[r][c] = _mm512_setzero_ps();
  const uint8_t* rows[RW];
  for (int r = 0; r < RW; ++r) rows[r] = j.row(r0 + r);
  const float* xr[RX];
  for (int c = 0; c < RX; ++c) xr[c] = j.x + (i0 + c) * j.ldx;

  if constexpr (D::kScale == Scale::kBlock) {
    const int block = D::kBlock ? D::kBlock : j.block;
    const int64_t block_bytes = D::kBlock ? D::kBlockBytes : j.block_bytes;
    const int chunks = block / D::kChunk;
    for (int64_t b = 0; b < j.blocks; ++b) {
      const int64_t k0 = b * block, off = b * block_bytes;
      prefetch_rows<RW>(rows, off + kPrefetchBytes, j.row_bytes);
      if constexpr (RX == 1) {
        // Sum the block unscaled, then one FMA with the block scale.
        __m512 t[RW];
        for (int r = 0; r < RW; ++r) t[r] = _mm512_setzero_ps();
        for (int c = 0; c < chunks; ++c) {
          __m512 xv[V];
          for (int v = 0; v < V; ++v) xv[v] = _mm512_loadu_ps(xr[0] + k0 + c * D::kChunk + 16 * v);
          for (int r = 0; r < RW; ++r) {
            __m512 w[V];
            d.decode(rows[r] + off + 1 + c * D::kChunkBytes, w);
            for (int v = 0; v < V; ++v) t[r] = _mm512_fmadd_ps(w[v], xv[v], t[r]);
          }
        }
        for (int r = 0; r < RW; ++r)
          acc[r][0] = _mm512_fmadd_ps(t[r], _mm512_set1_ps(j.scale_table[rows[r][off]]), acc[r][0]);
      } else {
        // Several activation rows: scale the decoded weights once, reuse them RX times.
        __m512 s[RW];
        for (int r = 0; r < RW; ++r) s[r] = _mm512_set1_ps(j.scale_table[rows[r][off]]);
        for (int c = 0; c < chunks; ++c) {
          for (int r = 0; r < RW; ++r) {
            __m512 w[V];
            d.decode(rows[r] + off + 1 + c * D::kChunkBytes, w);
            for (int v = 0; v < V; ++v) {
              const __m512 ws = _mm512_mul_ps(w[v], s[r]);
              for (int x = 0; x < RX; ++x)
                acc[r][x] = _mm512_fmadd_ps(
                    ws, _mm512_loadu_ps(xr[x] + k0 + c * D::kChunk + 16 * v), acc[r][x]);
            }
          }
        }
      }
    }
  } else {
    const int64_t chunks = j.kp / D::kChunk;
    for (int64_t c = 0; c < chunks; ++c) {
      prefetch_rows<RW>(rows, c * D::kChunkBytes + kPrefetchBytes, j.row_bytes);
      for (int r = 0; r < RW; ++r) {
        __m512 w[V];
        d.decode(rows[r] + c * D::kChunkBytes, w);
        for (int v = 0; v < V; ++v)
          for (int x = 0; x < RX; ++x)
            acc[r][x] =
                _mm512_fmadd_ps(w[v], _mm512_loadu_ps(xr[x] + c * D::kChunk + 16 * v), acc[r][x]);
      }
    }
  }
  for (int r = 0; r < RW; ++r) {
    for (int x = 0; x < RX; ++x) {
      float v = _mm512_reduce_add_ps(acc[r][x]);
      if constexpr (D::kScale == Scale::kRow) v *= j.row_scales[r0 + r];
      finish(j, i0 + x, r0 + r, v);
    }
  }
}

template <class D, int RW>
SDPU_TARGET_AVX512 void tile_rows(const QJob& j, const D& d, int64_t r0) {
  int64_t i = 0;
  for (; i + 4 <= j.m; i += 4) tile<D, RW, 4>(j, d, r0, i);
  for (; i < j.m; ++i) tile<D, RW, 1>(j, d, r0, i);
}

template <class D>
SDPU_TARGET_AVX512 void rows(const QJob& j, int64_t r0, int64_t r1) {
  const D d(j);
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) tile_rows<D, 4>(j, d, r);
  for (; r < r1; ++r) tile_rows<D, 1>(j, d, r);
}

}  // namespace

RowsFn select_rows_avx512(const QJob& j, Path path) {
  if (path != Path::kFp32) return nullptr;
  using formats::FormatId;
  switch (j.id) {
    case FormatId::kFp32: return &rows<DecF32>;
    case FormatId::kBf16: return &rows<DecBf16>;
    case FormatId::kFp16: return &rows<DecFp16>;
    case FormatId::kInt8: return &rows<DecI8<Scale::kRow>>;
    case FormatId::kMxInt8: return &rows<DecI8<Scale::kBlock, 32>>;
    case FormatId::kMxFp8E4M3: return &rows<DecE4M3>;
    case FormatId::kMxFp8E5M2: return &rows<DecE5M2>;
    case FormatId::kMxFp6E3M2: return &rows<DecFp6<2>>;
    case FormatId::kMxFp6E2M3: return &rows<DecFp6<3>>;
    case FormatId::kMxFp4E2M1: return &rows<DecNib32<32>>;
    case FormatId::kBfp:
      if (j.mantissa_bits >= 4) return &rows<DecI8<Scale::kBlock>>;
      return j.block == 16 ? &rows<DecNib16> : &rows<DecNib32<0>>;
  }
  return nullptr;
}

}  // namespace softdpu::kernels::quant
