// The seam between the weight layers (Gemm, MatMul, LSTM/GRU/RNN gate matrices) and the
// compressed weight formats of docs/compression.md: block-circulant (CirCNN, products by FFT) and
// EIE sparse (CSC with 4-bit relative row indices, optional 4-bit codebook). A layer's prepare
// builds one of these from its constant N x K weight (rows = outputs, as qgemm wants) when the
// planner marked the node with runtime::kCompressionAttr, and its kernel calls apply().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/thread_pool.h"
#include "kernels/linalg/gemm.h"

namespace softdpu::compress {

// Y = epilogue(X · Wᵀ) for a weight W of `rows()` outputs and `cols()` inputs.
class CompressedMatrix {
 public:
  virtual ~CompressedMatrix() = default;
  virtual int64_t rows() const = 0;  // N (outputs)
  virtual int64_t cols() const = 0;  // K (reduction)
  // Scratch apply() needs for m rows of activations; 64-byte aligned by the caller.
  virtual size_t scratch_bytes(int64_t m) const = 0;
  // Y (m x N, row stride ldy) = X (m x K, row stride ldx) · Wᵀ with GemmEpilogue's bias (length
  // N), row_bias (length m), accumulate and activation. No allocation, no throw; pool may be null.
  virtual void apply(int64_t m, const float* x, int64_t ldx, float* y, int64_t ldy,
                     const kernels::GemmEpilogue& ep, ThreadPool* pool, void* scratch) const = 0;
  // Bytes of the stored weight representation (what apply() streams).
  virtual size_t bytes() const = 0;
  // Format name as PlanStats::layer_formats shows it, e.g. "circulant-b64", "sparse-cb4".
  virtual std::string format() const = 0;
};

// What the planner decided for a layer; serialised into the node attribute kCompressionAttr as
// "circulant:B" or "sparse:PES[:BITS:VALUES]" (BITS 0 = exact values).
struct CompressionSpec {
  enum class Kind { kNone, kCirculant, kSparse };
  Kind kind = Kind::kNone;
  int block = 0;          // circulant block size
  int pes = 1;            // sparse: row interleave (EIE processing elements = threads)
  int codebook_bits = 0;  // sparse: 0 = exact values, else log2 of the codebook size
  std::string codebook_values = "fp32";  // fp32, bf16 or fp16 (precision of the shared values)

  std::string to_string() const;
  static CompressionSpec parse(const std::string& s);  // throws Error(kInvalidModel) when bad
};

// Builds the operator from the N x K weight w (row stride ldw). Plan time only. The planner has
// already projected / pruned the weight, so a circulant spec reads each block's wrapped diagonal
// averages (exact for a block-circulant w) and a sparse spec keeps the non-zeros (a codebook spec
// clusters them; exact when there are no more distinct values than codebook entries).
std::shared_ptr<CompressedMatrix> make_compressed(const CompressionSpec& spec, const float* w,
                                                  int64_t n, int64_t k, int64_t ldw);

// Checks the format parameters users give (PlanOptions / CLI). Throw Error(kInvalidArgument).
void check_circulant_block(int block);                     // a power of two in [4, 256]
void check_density(double density);                        // in (0, 1]
void check_codebook(int bits, const std::string& values);  // bits in [1, 4] (0 = none)

}  // namespace softdpu::compress
