// numpy matmul shape rules shared by MatMul, MatMulInteger and QLinearMatMul: 1-D promotion,
// batch broadcasting, and the per-entry matrix offsets into A and B.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/kernel.h"

namespace softdpu::kernels {

struct MatMulShape {
  int64_t m = 0, k = 0, n = 0;
  Shape batch_a, batch_b, batch;  // batch_* as given, batch broadcast
  Shape out;                      // output shape (promoted axes removed)
  // For every output batch entry: the matrix index into A and into B.
  std::vector<int64_t> off_a, off_b;
};

// Validates and resolves the shapes of inputs ia and ib; fails naming both on a mismatch.
MatMulShape resolve_matmul_shape(const runtime::PrepareContext& ctx, int ia, int ib);

// Matrix offsets of every entry of `out` into a batch shape that broadcasts to it.
std::vector<int64_t> broadcast_batch_offsets(const Shape& batch, const Shape& out);

}  // namespace softdpu::kernels
