// Dense single-precision products shared by Gemm, MatMul, Conv (im2col) and the RNN gates.
//
// The right-hand matrix is packed once at plan time (PackedB) into the layout the microkernels
// stream; the left-hand side and the output are plain row-major with leading dimensions.
//   C[m, n] = act( sum_k A[m, k] * B[k, n]  (+ bias[n]) (+ row_bias[m]) (+ C[m, n] when accumulate)
//   )
// At batch 1 (M = 1) this is a matrix-vector product and is memory bound: the packed layout lets
// it stream B exactly once, front to back.
//
// Packed layout (a public contract: Conv writes im2col patches straight into it):
//   N is cut into panels of kGemmPanel = 16 columns; panel p holds K rows of 16 floats, k-major,
//   at data[p * K * 16 + k * 16 + j] for column n = p * 16 + j. Columns past N are zero.
// 16 floats are one AVX-512 register or two AVX2 registers, so every ISA path reads the same
// layout and a ScopedIsa switch never needs a repack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/activation.h"

namespace softdpu::kernels {

constexpr int64_t kGemmPanel = 16;

// Floats needed to hold a packed K x N matrix.
inline int64_t packed_b_floats(int64_t k, int64_t n) {
  return k * ((n + kGemmPanel - 1) / kGemmPanel) * kGemmPanel;
}

// Packs b (K x N row-major with ldb >= N, or N x K row-major with ldb >= K when transposed),
// times `scale`, into dst (packed_b_floats(k, n) floats). Used at plan time for weights and at
// run time (into scratch) for products whose right-hand side is an activation.
void pack_b(const float* b, int64_t k, int64_t n, int64_t ldb, bool transposed, float scale,
            float* dst);

// A non-owning view of a packed matrix (PackedB storage, or scratch filled by pack_b / im2col).
struct PackedBView {
  const float* data = nullptr;
  int64_t k = 0;
  int64_t n = 0;
};

// 64-byte aligned storage so panel rows never straddle cache lines.
template <typename T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(size_t n) {
    size_t bytes = (n * sizeof(T) + 63) & ~size_t{63};
    void* p = std::aligned_alloc(64, bytes ? bytes : 64);
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }
  template <typename U>
  bool operator==(const AlignedAllocator<U>&) const {
    return true;
  }
};

class PackedB {
 public:
  PackedB() = default;
  // b is K x N row-major (ldb >= N), or N x K row-major when transposed (ldb >= K). `scale`
  // multiplies every element (Gemm folds alpha into the weights this way).
  static PackedB pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool transposed,
                      float scale = 1.f);

  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  size_t bytes() const { return data_.size() * sizeof(float); }
  const float* data() const { return data_.data(); }
  PackedBView view() const { return {data_.data(), k_, n_}; }

 private:
  int64_t k_ = 0;
  int64_t n_ = 0;
  std::vector<float, AlignedAllocator<float>> data_;  // the panel layout described above
};

struct GemmEpilogue {
  const float* bias = nullptr;      // length N, added to every row
  bool accumulate = false;          // C += A*B instead of C = A*B
  const float* row_bias = nullptr;  // length M, added to every column (Conv: per output channel)
  Activation activation;            // applied last, after bias and accumulation
  // Not part of the result: whether the AVX-512 tile loop (m > 1, large B) prefetches the next
  // panel pair (gemm_avx512.cc). Only BM_GemmNoPrefetch clears it, to time the loop without.
  bool tile_prefetch = true;
  // Not part of the result either: at m == 1, visit the panels last to first. A caller that
  // streams the same B on every call (an RNN's per-step product) alternates it, so that each
  // pass starts on the lines the previous pass left in L2 instead of the ones it evicted first.
  bool reverse_panels = false;
};

// C (M x N, ldc) = A (M x K, lda) * B. Splits the work across pool threads when worthwhile.
void gemm_packed(int64_t m, const float* a, int64_t lda, const PackedB& b, float* c, int64_t ldc,
                 const GemmEpilogue& epilogue, ThreadPool* pool);

// General form: A[i, k] is a[i * a_row_stride + k * a_col_stride] (so a transposed A, or a
// weight tensor read in place, needs no copy); b may live in scratch; pool may be null (runs on
// the calling thread).
void gemm_packed(int64_t m, const float* a, int64_t a_row_stride, int64_t a_col_stride,
                 PackedBView b, float* c, int64_t ldc, const GemmEpilogue& epilogue,
                 ThreadPool* pool);

// Scalar reference twin over the unpacked matrix (b as given to PackedB::pack).
void gemm_reference(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                    int64_t ldb, bool b_transposed, float* c, int64_t ldc,
                    const GemmEpilogue& epilogue);

}  // namespace softdpu::kernels
