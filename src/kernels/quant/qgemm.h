// Matrix products with packed narrow-precision weights (formats/packed.h):
//   Y[i, n] = epilogue( sum_k X[i, k] * W[n, k] )   for i < m, n < N
// W is N x K (rows = outputs), X is m x K row-major. At batch 1 (m = 1) this is the matrix-vector
// product that dominates dense layers and RNN gates; it is memory bound, so the narrower the
// weights the fewer bytes stream from DRAM. Weights are decoded on the fly inside the dot product
// (never expanded to a full fp32 matrix).
//
// Activation precision:
//   kFp32    fp32 activations for every weight format: the result is the fp32-accumulated product
//            of X and the exactly decoded weights.
//   kNative  activations quantised to the weights' own family, where a faster integer or bf16 dot
//            product exists: mxint8 x MXINT8 activation blocks (int8 dot products with per-block
//            scales: AVX-512 VNNI vpdpbusd, AVX2 pmaddubsw; activations rounded half to even as
//            the weights), mxfp4_e2m1 x MXINT8 activation blocks (each E2M1 code is the exact
//            int8 2 * value, looked up with vpshufb; then the same int8 dot products), bf16 x
//            bf16 (AVX512_BF16 vdpbf16ps; elsewhere both are widened to fp32, exactly). Other
//            formats fall back to kFp32 (MXFP8 / MXFP6 E3M2 codes are not all int8 multiples
//            of one step, so an int8 product would not be exact).
//
// Every path has a scalar twin (qgemm_reference), and the fast paths are chosen per call from
// active_isa() / cpu_has_avx512_vnni() / cpu_has_avx512_bf16().
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"
#include "formats/packed.h"
#include "kernels/linalg/gemm.h"

namespace softdpu::kernels {

enum class QuantActivations : uint8_t { kFp32, kNative };

struct QGemmOptions {
  QuantActivations activations = QuantActivations::kFp32;
};

// True when `format` has a kNative path distinct from kFp32 (mxint8, mxfp4_e2m1, bf16).
bool qgemm_has_native_path(const formats::WeightFormat& format);

// Scratch the product needs for m rows of activations (padded / quantised copies of X).
size_t qgemm_scratch_bytes(int64_t m, const formats::PackedMatrix& w, const QGemmOptions& opt);

// Y (m x N, row stride ldy) = X (m x K, row stride ldx) * W^T with GemmEpilogue's bias (length
// N), row_bias (length m), accumulate and activation. Splits N across pool threads when worth it
// (pool may be null). `scratch` holds qgemm_scratch_bytes(...) bytes, 64-byte aligned; when null
// a per-thread buffer is used (it allocates only when a call needs more than any earlier call on
// that thread did).
void qgemm(int64_t m, const float* x, int64_t ldx, const formats::PackedMatrix& w, float* y,
           int64_t ldy, const GemmEpilogue& epilogue, ThreadPool* pool,
           const QGemmOptions& opt = {}, void* scratch = nullptr);

// The scalar reference twin of every path (same arguments, one thread): decodes each weight
// block with the reference decoder and accumulates in fp32; kNative quantises the activations
// with the reference quantisers and, for mxint8 / mxfp4_e2m1, sums int8 products exactly in
// int32 per block.
void qgemm_reference(int64_t m, const float* x, int64_t ldx, const formats::PackedMatrix& w,
                     float* y, int64_t ldy, const GemmEpilogue& epilogue,
                     const QGemmOptions& opt = {});

}  // namespace softdpu::kernels
