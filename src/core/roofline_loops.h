// The timed inner loops of the roofline (src/core/roofline.cc), one per ISA. Internal.
#pragma once

#include <cstddef>
#include <cstdint>

namespace softdpu::roofline_loops {

// XOR of every 64-bit word of `bytes` (multiple of 512) from the 64-byte aligned buf; all three
// return the same value (tests/core/cache_info_test.cc checks it).
uint64_t read_scalar(const void* buf, size_t bytes);
uint64_t read_avx2(const void* buf, size_t bytes);
uint64_t read_avx512(const void* buf, size_t bytes);

// `iters` rounds of independent FMA chains; return a value derived from the accumulators.
// Flops per round: scalar 16, avx2 12 x 8 x 2 = 192, avx512 12 x 16 x 2 = 384.
float fma_scalar(int64_t iters);
float fma_avx2(int64_t iters);
float fma_avx512(int64_t iters);
inline constexpr int kFmaFlopsScalar = 16, kFmaFlopsAvx2 = 192, kFmaFlopsAvx512 = 384;

// `iters` rounds of int8 u8 x s8 dot products into int32 accumulators.
// MACs per round: scalar 8, avx2 (vpmaddubsw + vpmaddwd) 8 x 32, avx512bw 8 x 64,
// avx512 VNNI vpdpbusd 12 x 64.
int32_t dot_scalar(int64_t iters);
int32_t dot_avx2(int64_t iters);
int32_t dot_avx512bw(int64_t iters);
int32_t dot_avx512vnni(int64_t iters);
inline constexpr int kDotMacsScalar = 8, kDotMacsAvx2 = 256, kDotMacsAvx512bw = 512,
                     kDotMacsVnni = 768;

}  // namespace softdpu::roofline_loops
