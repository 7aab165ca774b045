// Scalar reference quantisers for the scale groups of every family, and quantise-dequantise of a
// float array in blocks along its last axis (what `softdpu quantize` runs).
//
// Non-finite weights (NaN, +-Inf), one policy for every format with a shared scale: a non-finite
// value poisons its scale group. The group's scale is stored as NaN (E8M0 0xFF for MX, exponent
// byte 0xFF for bfp, a NaN fp32 scale for int8's row) and every element of the group decodes to
// NaN. For MX this is what the OCP spec and microxcaling do (a NaN or Inf max gives a NaN scale);
// for bfp and int8 softdpu chooses the same rule so that a broken weight is never silently turned
// into a plausible finite one. The element-wise formats keep NaN and +-Inf per element (fp32,
// bf16, fp16); their finite values saturate rather than overflow to Inf.
#pragma once

#include <cstdint>

#include "formats/format.h"

namespace softdpu::formats {

constexpr int kMxBlock = 32;
constexpr uint8_t kScaleNaN = 0xFF;  // E8M0 NaN, and the bfp exponent byte's NaN

// 2^(e - 127) as a float (2^-127 is a float32 subnormal, exactly representable); NaN for 0xFF.
float e8m0_to_float(uint8_t e);

// One MX block, microxcaling semantics (shared_exp_method "max", 8 scale bits):
//   shared exponent = floor(log2(max|x|)) - emax(elem), with log2 evaluated in float32 as PyTorch
//   does (so a max a few ulps below a power of two counts as that power); an all-zero block uses
//   log2(2^-126); clamped below at -127; stored as E8M0 (exponent + 127).
//   elements: x / 2^exponent quantised by quantize_elem (subnormals kept, saturating at max
//   normal).
// x holds n <= 32 values; the block is padded with zeros (they never change the max). Writes the
// E8M0 byte and the 32 element values in element units (the dequantised value is q[i] * 2^exp).
// A NaN or +-Inf in the block gives scale 0xFF and NaN elements.
void mx_quantize_block(const float* x, int n, ElemKind elem, Rounding r, uint8_t* e8m0, float* q);

// One bfp block of f.block values (n <= block, zero padded). The shared exponent is the exponent
// of the largest magnitude, e = floor(log2(max|x|)), clamped to [-(2^(E-1)-1), 2^(E-1)-1] (an
// all-zero block takes the lowest); elements are integers q = round(x / 2^(e - M + 1)) clamped to
// [-(2^M - 1), 2^M - 1], so the largest element keeps M significant bits. Stores e + 127 in
// *exp_byte (0xFF for a block with NaN/Inf, whose q are 0).
void bfp_quantize_block(const float* x, int n, const WeightFormat& f, Rounding r, uint8_t* exp_byte,
                        int8_t* q);
// The value of one unit of q: 2^(e - M + 1); NaN for the 0xFF exponent byte.
float bfp_step(uint8_t exp_byte, int mantissa_bits);

// int8 per output channel: scale = max|row| / 127 (NaN when the row has NaN/Inf, 0 for a zero
// row), q = round(v / scale) clamped to [-127, 127] (0 when the scale is 0 or NaN).
float int8_row_scale(const float* row, int64_t k);
int8_t int8_quantize(float v, float scale, Rounding r);

// Quantises `rows` rows of `cols` floats each (the array's last axis) and writes the dequantised
// values. The blocks start at each row's first element; a last partial block is padded with zeros
// (as microxcaling does), so any length works. fp32 copies; int8 uses one scale per row.
void quantize_dequantize(const float* in, int64_t rows, int64_t cols, const WeightFormat& f,
                         Rounding r, float* out);

}  // namespace softdpu::formats
