// Element conversion between dtypes with ONNX Cast semantics, for Cast/CastLike and for other
// kernels that need an input in another type (Pow's exponent).
#pragma once

#include <cstdint>

#include "softdpu/dtype.h"

namespace softdpu::kernels::ew {

// Converts n elements from `in` (type from) to `out` (type to). in and out must not overlap.
using ConvertFn = void (*)(const void* in, void* out, int64_t n);

// Rules: float -> integer truncates toward zero (NaN / out of range give the x86 "integer
// indefinite" value, wrapped to the width; ONNX leaves them undefined); integer -> integer wraps;
// anything -> bool is "!= 0"; bool -> number is 0 / 1; conversions to float types round to
// nearest even, except float -> bfloat16 when bf16_truncate is set (the pre-opset-19 reference
// behaviour the ONNX backend tests encode). nullptr when either dtype is not a numeric or bool
// type softdpu holds (string, undefined).
ConvertFn convert_fn(DType from, DType to, bool bf16_truncate = false);

}  // namespace softdpu::kernels::ew
