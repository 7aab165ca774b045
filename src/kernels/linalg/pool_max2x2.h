// MaxPool 2x2 / stride 2 over a float plane whose windows all lie inside it (the CNNs' pools):
// an AVX-512 path that takes 32 input columns of two rows at a time and picks the even and odd
// columns with one permute each. Its scalar twin is max_plane_inside in pool.cc; the result is
// the same, NaN included (taps are combined in the same order with the same comparison).
#pragma once

#include <cstdint>

namespace softdpu::kernels {

// x: rows of in_w floats; y: out_h rows of out_w floats, y[r][c] = max of x[2r..2r+1][2c..2c+1].
void max_pool_2x2_avx512(const float* x, int64_t in_w, int64_t out_h, int64_t out_w, float* y);

}  // namespace softdpu::kernels
