// GemmEpilogue applied by the compressed kernels to a finished stretch of one output row.
#pragma once

#include <cstdint>

#include "kernels/linalg/gemm.h"

namespace softdpu::compress {

// dst[c - c0] = act(src[c - c0] + bias[c] + row_bias[r] (+ dst when accumulate)) for columns
// [c0, c1) of output row r. src may equal dst.
void apply_epilogue(const kernels::GemmEpilogue& ep, int64_t r, int64_t c0, int64_t c1,
                    const float* src, float* dst);

}  // namespace softdpu::compress
