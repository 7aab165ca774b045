// AVX-512 kernel of the row-indexed layout (sparse_row_entries.h): per active column, the
// codebook times x once; per 16 entries one load, one vpermps for their weights (kept in a
// register, each moved to lane 0 by a shuffle) and 16 scalar accumulator updates whose rows come
// straight from the entries in a general-purpose register.
//
// The update is bound by its scattered load-add-store (~1.1 cycles each on Zen 5 even with
// nothing else in the loop: docs/compression.md, "EIE sparse details"), so what is left to trim is
// the instructions around it: one `bextr` per row instead of shift + mask (+ a register copy), the
// add reading the accumulator as its memory operand (update()), and a prefetch of the next
// column's entries with the same trip count every column. RowEntryLoop::kShiftMask keeps the
// previous loop for A/B runs. GCC 12 warns about _mm512_undefined_*() inside its own intrinsics
// headers (a known false positive of -Wmaybe-uninitialized, as in gemm_avx512.cc); silence it for
// this file only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "compress/sparse_row_entries.h"

// BMI1 (bextr) comes with every AVX-512 CPU (Intel since Haswell, AMD since Piledriver).
#define SOFTDPU_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,bmi")))

namespace softdpu::compress::detail {
namespace {

// acc[row] += lane 0 of w: the add reads the accumulator as its memory operand and the store
// reuses the indexed address. (From C++, GCC puts the address in a register with an extra lea
// per update, as both instructions use it: 5-6% slower in a standalone copy of the loop.)
SOFTDPU_AVX512 inline void update(float* acc, uint64_t row, __m128 w) {
  __m128 sum;
  asm volatile(
      "vaddss (%1,%2,4), %3, %0\n\t"
      "vmovss %0, (%1,%2,4)"
      : "=&x"(sum)
      : "r"(acc), "r"(row), "x"(w)
      : "memory");
}

// acc[row of entry j] += lane j of q for the 4 entries at e.
template <RowEntryLoop kLoop>
SOFTDPU_AVX512 inline void add4(const uint16_t* e, __m128 q, float* acc) {
  uint64_t w;
  std::memcpy(&w, e, 8);  // little-endian: entry j is bits 16j .. 16j + 15
  if constexpr (kLoop == RowEntryLoop::kBextr) {
    update(acc, _bextr_u64(w, 4, 12), q);
    update(acc, _bextr_u64(w, 20, 12), _mm_permute_ps(q, 1));
    update(acc, _bextr_u64(w, 36, 12), _mm_permute_ps(q, 2));
    update(acc, w >> 52, _mm_permute_ps(q, 3));
  } else {
    float* a0 = acc + ((w >> 4) & 0xFFF);
    float* a1 = acc + ((w >> 20) & 0xFFF);
    float* a2 = acc + ((w >> 36) & 0xFFF);
    float* a3 = acc + ((w >> 52) & 0xFFF);
    _mm_store_ss(a0, _mm_add_ss(_mm_load_ss(a0), q));
    _mm_store_ss(a1, _mm_add_ss(_mm_load_ss(a1), _mm_permute_ps(q, 1)));
    _mm_store_ss(a2, _mm_add_ss(_mm_load_ss(a2), _mm_permute_ps(q, 2)));
    _mm_store_ss(a3, _mm_add_ss(_mm_load_ss(a3), _mm_permute_ps(q, 3)));
  }
}

// The weights (scaled codebook entries) of the 16 entries at e.
SOFTDPU_AVX512 inline __m512 weights(const uint16_t* e, __m512 scaled) {
  const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(e));
  return _mm512_permutexvar_ps(_mm512_cvtepu16_epi32(raw), scaled);  // uses the low 4 bits
}

template <RowEntryLoop kLoop>
SOFTDPU_AVX512 void column(const uint16_t* e, uint32_t count, __m512 scaled, float* acc) {
  uint32_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m512 v = weights(e + i, scaled);
    add4<kLoop>(e + i, _mm512_castps512_ps128(v), acc);
    add4<kLoop>(e + i + 4, _mm512_extractf32x4_ps(v, 1), acc);
    add4<kLoop>(e + i + 8, _mm512_extractf32x4_ps(v, 2), acc);
    add4<kLoop>(e + i + 12, _mm512_extractf32x4_ps(v, 3), acc);
  }
  if (i == count) return;
  // The last 1..15 entries: one more 16-entry load (the layout has slack after its last entry).
  alignas(64) float w[16];
  _mm512_store_ps(w, weights(e + i, scaled));
  for (uint32_t j = 0; i + j < count; ++j) acc[e[i + j] >> 4] += w[j];
}

template <RowEntryLoop kLoop>
SOFTDPU_AVX512 __attribute__((noinline)) void run(const RowEntries& s, const float* codebook,
                                                  const int32_t* active, const float* x,
                                                  int64_t n_active, float* acc) {
  std::fill(acc, acc + s.rows, 0.f);
  const __m512 cb = _mm512_loadu_ps(codebook);
  const uint16_t* entry = s.entry.data();
  for (int64_t b = 0; b < s.blocks; ++b) {
    const uint32_t* ptr = s.ptr.data() + b * s.cols;
    float* out = acc + b * kEntryBlockRows;
    for (int64_t a = 0; a < n_active; ++a) {
      const int32_t c = active[a];
      // The next active column's entries are elsewhere (L2/L3 for large layers), too short a
      // run for the hardware prefetcher: fetch them while this column runs.
      if (a + 1 < n_active) {
        const int32_t nc = active[a + 1];
        if constexpr (kLoop == RowEntryLoop::kBextr) {
          // The layer's mean run, the same count every column: the loop exit is predicted
          // (past the run's end it fetches the following column's entries, which is harmless).
          const char* p = reinterpret_cast<const char*>(entry + ptr[nc]);
          for (int l = 0; l < s.prefetch_lines; ++l) __builtin_prefetch(p + 64 * l);
        } else {
          for (uint32_t e = ptr[nc]; e < ptr[nc + 1]; e += 32) __builtin_prefetch(entry + e);
        }
      }
      column<kLoop>(entry + ptr[c], ptr[c + 1] - ptr[c], _mm512_mul_ps(cb, _mm512_set1_ps(x[a])),
                    out);
    }
  }
}

}  // namespace

SOFTDPU_AVX512 void row_entries_avx512(const RowEntries& s, const float* codebook,
                                       const int32_t* active, const float* x, int64_t n_active,
                                       float* acc, RowEntryLoop loop) {
  if (loop == RowEntryLoop::kBextr) {
    run<RowEntryLoop::kBextr>(s, codebook, active, x, n_active, acc);
  } else {
    run<RowEntryLoop::kShiftMask>(s, codebook, active, x, n_active, acc);
  }
}

}  // namespace softdpu::compress::detail
