// Compressed weights (docs/compression.md) for Gemm, MatMul and the RNN gate matrices: the
// planner marks a node with runtime::kCompressionAttr, and its prepare builds a
// compress::CompressedMatrix from the constant weight instead of PackedB / PackedMatrix.
#pragma once

#include <cstdint>
#include <memory>

#include "compress/compressed_matrix.h"
#include "runtime/kernel.h"

namespace softdpu::kernels {

// The node's compression (Kind::kNone when the planner left it unmarked).
compress::CompressionSpec node_compression(const runtime::PrepareContext& ctx);

// Builds the compressed form of B (K x N row-major with ldb >= N, or N x K when `transposed`,
// ldb >= K) times `scale`, as an N x K operator (rows = outputs). Null for Kind::kNone.
std::shared_ptr<compress::CompressedMatrix> pack_compressed(const compress::CompressionSpec& spec,
                                                            const float* b, int64_t k, int64_t n,
                                                            int64_t ldb, bool transposed,
                                                            float scale);

}  // namespace softdpu::kernels
