// Narrow-precision weights for Gemm, MatMul and the RNN gate matrices (docs/precision.md): the
// planner marks a node with runtime::kWeightFormatAttr, and its prepare packs the constant weight
// into a formats::PackedMatrix that kernels::qgemm streams instead of the fp32 PackedB.
#pragma once

#include <cstdint>
#include <memory>

#include "formats/packed.h"
#include "kernels/quant/qgemm.h"
#include "runtime/kernel.h"

namespace softdpu::kernels {

// The node's weight format; fp32 when the planner left it unmarked.
formats::WeightFormat node_weight_format(const runtime::PrepareContext& ctx);

// The node's activation treatment for qgemm (runtime::kActivationsAttr; fp32 when unmarked).
QGemmOptions node_qgemm_options(const runtime::PrepareContext& ctx);

// Packs B (K x N row-major with ldb >= N, or N x K when `transposed`, ldb >= K) times `scale` as
// an N x K PackedMatrix (rows = outputs, the layout qgemm wants). Plan time only.
std::shared_ptr<formats::PackedMatrix> pack_weight(const float* b, int64_t k, int64_t n,
                                                   int64_t ldb, bool transposed, float scale,
                                                   const formats::WeightFormat& f);

// Bytes rounded up to whole cache lines, so scratch regions laid out back to back stay 64-byte
// aligned (qgemm's scratch must be).
inline size_t round64(size_t bytes) {
  return (bytes + 63) / 64 * 64;
}

}  // namespace softdpu::kernels
