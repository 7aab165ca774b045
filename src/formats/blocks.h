// Storage blocks of packed weight rows: one POD struct per block layout, sized by static_assert.
// A packed row of K weights is ceil(K / block) of these back to back (the last one zero padded);
// rows follow each other (see formats/packed.h). Everything is bytes, so alignof is 1 and arrays
// of blocks have no gaps.
//
// Code layouts inside a block (the SIMD decoders in src/kernels/quant rely on them):
//   8-bit codes   q[i] is element i.
//   6-bit codes   element i occupies bits [6i, 6i + 6) of the little-endian bit string q[0..23]
//                 (4 elements in 3 bytes).
//   4-bit codes   in groups of G = min(block, 32) elements: byte j of a group holds element j in
//                 its low nibble and element j + G/2 in its high nibble, so one 16-byte load
//                 splits into elements 0..15 (low nibbles) and 16..31 (high nibbles) with no
//                 shuffle.
// MX codes: INT8 two's complement (value q * 2^-6), FP elements sign-magnitude as in OCP MX v1.0.
// bfp codes: the integer q in two's complement (a nibble for M <= 3, a byte otherwise).
#pragma once

#include <cstdint>

namespace softdpu::formats {

// OCP MX: one E8M0 scale (2^(scale - 127), 0xFF = NaN) and 32 element codes.
struct MxInt8Block {
  uint8_t scale;
  int8_t q[32];
};
struct MxFp8Block {  // E4M3 or E5M2
  uint8_t scale;
  uint8_t q[32];
};
struct MxFp6Block {  // E3M2 or E2M3, 6-bit codes
  uint8_t scale;
  uint8_t q[24];
};
struct MxFp4Block {  // E2M1, 4-bit codes
  uint8_t scale;
  uint8_t q[16];
};
static_assert(sizeof(MxInt8Block) == 33 && sizeof(MxFp8Block) == 33);
static_assert(sizeof(MxFp6Block) == 25 && sizeof(MxFp4Block) == 17);

// Block floating point: the shared exponent e stored as e + 127 (0xFF = NaN) and B codes.
template <int B>
struct BfpNibbleBlock {  // M <= 3: ms-fp8 (M=2), ms-fp9 and msfp12 (M=3) at B = 16
  uint8_t exponent;
  uint8_t q[B / 2];
};
template <int B>
struct BfpByteBlock {  // 4 <= M <= 7: msfp16 (M=7) at B = 16
  uint8_t exponent;
  int8_t q[B];
};
static_assert(sizeof(BfpNibbleBlock<16>) == 9 && sizeof(BfpByteBlock<16>) == 17);
static_assert(sizeof(BfpNibbleBlock<32>) == 17 && sizeof(BfpByteBlock<256>) == 257);

// Element-wise formats are stored as rows of plain elements padded to a multiple of 16: float
// (fp32), uint16_t (bf16, fp16 bit patterns) or int8_t (int8, with a per-row fp32 scale kept
// beside the rows). A 16-element chunk is one AVX-512 register of fp32 after decoding.
struct Int8Chunk {
  int8_t q[16];
};
struct Half16Chunk {  // bf16 or fp16
  uint16_t h[16];
};
static_assert(sizeof(Int8Chunk) == 16 && sizeof(Half16Chunk) == 32);

}  // namespace softdpu::formats
