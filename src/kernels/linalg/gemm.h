// Dense single-precision products shared by Gemm, MatMul, Conv (im2col) and the RNN gates.
//
// The right-hand matrix is packed once at plan time (PackedB) into the layout the microkernels
// stream; the left-hand side and the output are plain row-major with leading dimensions.
//   C[m, n] = sum_k A[m, k] * B[k, n]  (+ bias[n]) (+ C[m, n] when accumulate)
// At batch 1 (M = 1) this is a matrix-vector product and is memory bound: the packed layout lets
// it stream B exactly once.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"

namespace softdpu::kernels {

class PackedB {
 public:
  PackedB() = default;
  // b is K x N row-major (ldb >= N), or N x K row-major when transposed (ldb >= K).
  static PackedB pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool transposed);

  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  size_t bytes() const { return data_.size() * sizeof(float); }
  const float* data() const { return data_.data(); }

 private:
  int64_t k_ = 0;
  int64_t n_ = 0;
  std::vector<float> data_;  // layout owned by gemm.cc
};

struct GemmEpilogue {
  const float* bias = nullptr;  // length N, added to every row
  bool accumulate = false;      // C += A*B instead of C = A*B
};

// C (M x N, ldc) = A (M x K, lda) * B. Splits N across pool threads when worthwhile.
void gemm_packed(int64_t m, const float* a, int64_t lda, const PackedB& b, float* c, int64_t ldc,
                 const GemmEpilogue& epilogue, ThreadPool* pool);

// Scalar reference twin over the unpacked matrix (b as given to PackedB::pack).
void gemm_reference(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                    int64_t ldb, bool b_transposed, float* c, int64_t ldc, const GemmEpilogue& epilogue);

}  // namespace softdpu::kernels
