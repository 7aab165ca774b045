// Inner loops of the roofline. Each SIMD variant is compiled for its ISA with a target attribute
// (no global -m flags, src/core/cpu.h) and chosen at run time by src/core/roofline.cc. Enough
// independent accumulators hide the instruction latency, so the loops run at the issue limit:
// 2 loads a cycle for the reads, 2 FMAs a cycle (4-cycle latency -> >= 8 chains) for FP32.
// The empty asm statements pin every accumulator in a register each round, which stops the compiler
// from collapsing the repeated identical operations into one multiply.
#include "core/roofline_loops.h"

#include <immintrin.h>

// GCC 12's _mm512_reduce_* helpers trip -Wuninitialized on their own internals (as in
// src/kernels/quant/qgemm_avx512.cc).
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace softdpu::roofline_loops {

#define SOFTDPU_KEEP(x) asm volatile("" : "+x"(x))
#define SOFTDPU_KEEP_R(x) asm volatile("" : "+r"(x))
// Named accumulators (not an array: GCC keeps a vector array in memory, and the store-to-load
// round trip then limits the loop, not the FMA units).
#define SOFTDPU_X8(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
#define SOFTDPU_X12(M) SOFTDPU_X8(M) M(8) M(9) M(10) M(11)

uint64_t read_scalar(const void* buf, size_t bytes) {
  const uint64_t* p = static_cast<const uint64_t*>(buf);
  uint64_t a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < bytes / 8; i += 8) {
    for (int k = 0; k < 8; ++k) a[k] ^= p[i + k];
    SOFTDPU_KEEP_R(a[0]);
  }
  return a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
}

__attribute__((target("avx2"))) uint64_t read_avx2(const void* buf, size_t bytes) {
  const __m256i* p = static_cast<const __m256i*>(buf);
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
          a7 = a0;
  for (size_t i = 0; i < bytes / 32; i += 16) {
    a0 = _mm256_xor_si256(a0, _mm256_load_si256(p + i + 0));
    a1 = _mm256_xor_si256(a1, _mm256_load_si256(p + i + 1));
    a2 = _mm256_xor_si256(a2, _mm256_load_si256(p + i + 2));
    a3 = _mm256_xor_si256(a3, _mm256_load_si256(p + i + 3));
    a4 = _mm256_xor_si256(a4, _mm256_load_si256(p + i + 4));
    a5 = _mm256_xor_si256(a5, _mm256_load_si256(p + i + 5));
    a6 = _mm256_xor_si256(a6, _mm256_load_si256(p + i + 6));
    a7 = _mm256_xor_si256(a7, _mm256_load_si256(p + i + 7));
    a0 = _mm256_xor_si256(a0, _mm256_load_si256(p + i + 8));
    a1 = _mm256_xor_si256(a1, _mm256_load_si256(p + i + 9));
    a2 = _mm256_xor_si256(a2, _mm256_load_si256(p + i + 10));
    a3 = _mm256_xor_si256(a3, _mm256_load_si256(p + i + 11));
    a4 = _mm256_xor_si256(a4, _mm256_load_si256(p + i + 12));
    a5 = _mm256_xor_si256(a5, _mm256_load_si256(p + i + 13));
    a6 = _mm256_xor_si256(a6, _mm256_load_si256(p + i + 14));
    a7 = _mm256_xor_si256(a7, _mm256_load_si256(p + i + 15));
  }
  __m256i s =
      _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3)),
                       _mm256_xor_si256(_mm256_xor_si256(a4, a5), _mm256_xor_si256(a6, a7)));
  return static_cast<uint64_t>(_mm256_extract_epi64(s, 0) ^ _mm256_extract_epi64(s, 1) ^
                               _mm256_extract_epi64(s, 2) ^ _mm256_extract_epi64(s, 3));
}

__attribute__((target("avx512f"))) uint64_t read_avx512(const void* buf, size_t bytes) {
  const __m512i* p = static_cast<const __m512i*>(buf);
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
          a7 = a0;
  for (size_t i = 0; i < bytes / 64; i += 8) {
    a0 = _mm512_xor_si512(a0, _mm512_load_si512(p + i + 0));
    a1 = _mm512_xor_si512(a1, _mm512_load_si512(p + i + 1));
    a2 = _mm512_xor_si512(a2, _mm512_load_si512(p + i + 2));
    a3 = _mm512_xor_si512(a3, _mm512_load_si512(p + i + 3));
    a4 = _mm512_xor_si512(a4, _mm512_load_si512(p + i + 4));
    a5 = _mm512_xor_si512(a5, _mm512_load_si512(p + i + 5));
    a6 = _mm512_xor_si512(a6, _mm512_load_si512(p + i + 6));
    a7 = _mm512_xor_si512(a7, _mm512_load_si512(p + i + 7));
  }
  __m512i s =
      _mm512_xor_si512(_mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3)),
                       _mm512_xor_si512(_mm512_xor_si512(a4, a5), _mm512_xor_si512(a6, a7)));
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, s);
  return lanes[0] ^ lanes[1] ^ lanes[2] ^ lanes[3] ^ lanes[4] ^ lanes[5] ^ lanes[6] ^ lanes[7];
}

float fma_scalar(int64_t iters) {
  float a[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  volatile float vm = 0.999f, vb = 0.001f;
  const float m = vm, b = vb;
  for (int64_t i = 0; i < iters; ++i) {
    for (int k = 0; k < 8; ++k) a[k] = a[k] * m + b;
    SOFTDPU_KEEP(a[0]);
  }
  return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

__attribute__((target("avx2,fma"))) float fma_avx2(int64_t iters) {
  volatile float vm = 0.999f, vb = 0.001f;
  const __m256 m = _mm256_set1_ps(vm), b = _mm256_set1_ps(vb);
#define INIT(k) __m256 a##k = _mm256_set1_ps(k);
#define STEP(k) a##k = _mm256_fmadd_ps(a##k, m, b);
#define KEEP(k) SOFTDPU_KEEP(a##k);
#define SUM(k) s = _mm256_add_ps(s, a##k);
  SOFTDPU_X12(INIT)
  for (int64_t i = 0; i < iters; ++i) {
    SOFTDPU_X12(STEP)
    SOFTDPU_X12(KEEP)
  }
  __m256 s = _mm256_setzero_ps();
  SOFTDPU_X12(SUM)
  return _mm256_cvtss_f32(s);
#undef INIT
#undef STEP
#undef KEEP
#undef SUM
}

__attribute__((target("avx512f"))) float fma_avx512(int64_t iters) {
  volatile float vm = 0.999f, vb = 0.001f;
  const __m512 m = _mm512_set1_ps(vm), b = _mm512_set1_ps(vb);
#define INIT(k) __m512 a##k = _mm512_set1_ps(k);
#define STEP(k) a##k = _mm512_fmadd_ps(a##k, m, b);
#define KEEP(k) SOFTDPU_KEEP(a##k);
#define SUM(k) s = _mm512_add_ps(s, a##k);
  SOFTDPU_X12(INIT)
  for (int64_t i = 0; i < iters; ++i) {
    SOFTDPU_X12(STEP)
    SOFTDPU_X12(KEEP)
  }
  __m512 s = _mm512_setzero_ps();
  SOFTDPU_X12(SUM)
  return _mm512_reduce_add_ps(s);
#undef INIT
#undef STEP
#undef KEEP
#undef SUM
}

int32_t dot_scalar(int64_t iters) {
  volatile int32_t va = 3, vb = -5;
  const int32_t x = va, w = vb;
  int32_t a[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  for (int64_t i = 0; i < iters; ++i) {
    for (int k = 0; k < 8; ++k) a[k] += x * w;
    for (int k = 0; k < 8; ++k) SOFTDPU_KEEP_R(a[k]);
  }
  return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

__attribute__((target("avx2"))) int32_t dot_avx2(int64_t iters) {
  volatile char vx = 3, vw = -5;
  const __m256i x = _mm256_set1_epi8(vx), w = _mm256_set1_epi8(vw), ones = _mm256_set1_epi16(1);
#define INIT(k) __m256i a##k = _mm256_set1_epi32(k);
#define STEP(k) a##k = _mm256_add_epi32(a##k, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), ones));
#define KEEP(k) SOFTDPU_KEEP(a##k);
#define SUM(k) s = _mm256_add_epi32(s, a##k);
  SOFTDPU_X8(INIT)
  for (int64_t i = 0; i < iters; ++i) {
    SOFTDPU_X8(STEP)
    SOFTDPU_X8(KEEP)
  }
  __m256i s = _mm256_setzero_si256();
  SOFTDPU_X8(SUM)
  return _mm256_extract_epi32(s, 0);
#undef INIT
#undef STEP
#undef KEEP
#undef SUM
}

__attribute__((target("avx512f,avx512bw"))) int32_t dot_avx512bw(int64_t iters) {
  volatile char vx = 3, vw = -5;
  const __m512i x = _mm512_set1_epi8(vx), w = _mm512_set1_epi8(vw), ones = _mm512_set1_epi16(1);
#define INIT(k) __m512i a##k = _mm512_set1_epi32(k);
#define STEP(k) a##k = _mm512_add_epi32(a##k, _mm512_madd_epi16(_mm512_maddubs_epi16(x, w), ones));
#define KEEP(k) SOFTDPU_KEEP(a##k);
#define SUM(k) s = _mm512_add_epi32(s, a##k);
  SOFTDPU_X8(INIT)
  for (int64_t i = 0; i < iters; ++i) {
    SOFTDPU_X8(STEP)
    SOFTDPU_X8(KEEP)
  }
  __m512i s = _mm512_setzero_si512();
  SOFTDPU_X8(SUM)
  // One lane keeps the work observable; the lanes wrap by design, and the intrinsic's reduction
  // adds them as signed ints (undefined on overflow, which UBSan reports).
  return _mm_cvtsi128_si32(_mm512_castsi512_si128(s));
#undef INIT
#undef STEP
#undef KEEP
#undef SUM
}

__attribute__((target("avx512f,avx512vnni"))) int32_t dot_avx512vnni(int64_t iters) {
  volatile char vx = 3, vw = -5;
  const __m512i x = _mm512_set1_epi8(vx), w = _mm512_set1_epi8(vw);
#define INIT(k) __m512i a##k = _mm512_set1_epi32(k);
#define STEP(k) a##k = _mm512_dpbusd_epi32(a##k, x, w);
#define KEEP(k) SOFTDPU_KEEP(a##k);
#define SUM(k) s = _mm512_add_epi32(s, a##k);
  SOFTDPU_X12(INIT)
  for (int64_t i = 0; i < iters; ++i) {
    SOFTDPU_X12(STEP)
    SOFTDPU_X12(KEEP)
  }
  __m512i s = _mm512_setzero_si512();
  SOFTDPU_X12(SUM)
  // One lane keeps the work observable; the lanes wrap by design, and the intrinsic's reduction
  // adds them as signed ints (undefined on overflow, which UBSan reports).
  return _mm_cvtsi128_si32(_mm512_castsi512_si128(s));
#undef INIT
#undef STEP
#undef KEEP
#undef SUM
}

}  // namespace softdpu::roofline_loops
