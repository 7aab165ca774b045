// The inner loop of the EIE kernel (sparse_matrix.h) per instruction set: acc[row] += w(e) * x
// over one column's entries. The scalar version lives in sparse_matrix.cc; the AVX-512 one here is
// compiled with a target attribute and only called when active_isa() is kAvx512.
#pragma once

#include <cstdint>

namespace softdpu::compress::detail {

// Entries code[0..count) of one column: (codebook index << 4) | z as in sparse_matrix.h.
// `scaled` holds the 16 codebook entries already multiplied by x (codebook layers, value null) or
// `value` the exact per-entry weights (scaled null; then each is multiplied by x here).
void sparse_column_avx512(const uint8_t* code, uint32_t count, const float* scaled,
                          const float* value, float x, float* acc);

}  // namespace softdpu::compress::detail
