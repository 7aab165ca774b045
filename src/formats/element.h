// Scalar reference codecs for single elements: the MX element formats (FP8/FP6/FP4/INT8), bf16 and
// fp16. These are the oracles the block quantisers, the packers and the SIMD decoders are checked
// against; none of them is on a hot path.
#pragma once

#include <cstdint>

#include "formats/format.h"

namespace softdpu::formats {

// An MX element format in the terms of OCP MX v1.0 and of Microsoft's microxcaling library.
struct ElemSpec {
  ElemKind kind;
  int ebits;       // exponent bits (0 for INT8)
  int mbits;       // explicit mantissa bits (INT8: 6 fraction bits of the 1.6 fixed point)
  int bias;        // exponent bias (0 for INT8)
  int emax;        // exponent of the largest normal: 8, 15, 4, 2, 2; INT8: 0
  int min_exp;     // exponent of the smallest normal, 1 - bias (subnormals lie below it)
  float max_norm;  // 448, 57344, 28, 7.5, 6; INT8: 127/64
  int code_bits;   // 8, 8, 6, 6, 4; INT8: 8
};

const ElemSpec& elem_spec(ElemKind kind);

// Rounds v to the nearest integer; ties to even (kEven) or away from zero (kNearest).
double round_to_int(double v, Rounding r);

// microxcaling's element quantiser (_quantize_elemwise_core with saturate_normals=True and
// allow_denorm=True) replayed operation by operation in float32, so that its rounding quirks
// (e.g. floor(|a| + 0.5) rounding in float32) are reproduced exactly:
//   private exponent = max(floor(log2|v|), min_exp); scale |v| up so mbits fraction bits sit above
//   the point; round; scale back; clamp to +-max_norm. NaN and +-Inf pass through.
// The result is exactly representable in the element format (or is NaN/Inf).
float quantize_elem(float v, const ElemSpec& spec, Rounding r);

// Code of a value that the format represents exactly (quantize_elem's output). FP codes are
// sign-magnitude (sign in bit code_bits-1); INT8 is the two's complement of v * 64. Values the
// format cannot hold map to the max-magnitude code of their sign (E4M3 never produces its NaN).
uint8_t encode_elem(float representable, const ElemSpec& spec);
// Value of a code. Codes above code_bits are masked. E4M3 0x7F/0xFF and E5M2 exponent 31 decode
// to NaN/Inf as the OCP spec says (softdpu never writes them: MX blocks with NaN/Inf get a NaN
// scale instead).
float decode_elem(uint8_t code, const ElemSpec& spec);

// bf16 and fp16 from float32 with the given rounding. NaN stays NaN (quiet), +-Inf stays +-Inf;
// finite values that round beyond the largest finite value saturate to it (a finite weight never
// becomes Inf). fp16 keeps its subnormals.
uint16_t float_to_bf16(float v, Rounding r);
float bf16_to_float(uint16_t h);
uint16_t float_to_fp16(float v, Rounding r);
float fp16_to_float(uint16_t h);

// floor(log2(|v|)) for finite non-zero v, exactly (frexp), subnormals included.
int floor_log2(float v);

}  // namespace softdpu::formats
