// First version: packed B is plain K x N row-major; the linalg owner replaces this with blocked
// layouts and AVX2/AVX-512 microkernels (keeping gemm_reference as the twin).
#include "kernels/linalg/gemm.h"

namespace softdpu::kernels {

PackedB PackedB::pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool transposed) {
  PackedB p;
  p.k_ = k;
  p.n_ = n;
  p.data_.resize(static_cast<size_t>(k * n));
  for (int64_t kk = 0; kk < k; ++kk) {
    for (int64_t nn = 0; nn < n; ++nn) p.data_[kk * n + nn] = transposed ? b[nn * ldb + kk] : b[kk * ldb + nn];
  }
  return p;
}

void gemm_reference(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                    int64_t ldb, bool b_transposed, float* c, int64_t ldc, const GemmEpilogue& ep) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0;
      for (int64_t kk = 0; kk < k; ++kk) acc += a[i * lda + kk] * (b_transposed ? b[j * ldb + kk] : b[kk * ldb + j]);
      if (ep.bias) acc += ep.bias[j];
      c[i * ldc + j] = ep.accumulate ? c[i * ldc + j] + acc : acc;
    }
  }
}

void gemm_packed(int64_t m, const float* a, int64_t lda, const PackedB& b, float* c, int64_t ldc,
                 const GemmEpilogue& ep, ThreadPool* pool) {
  gemm_reference(m, b.n(), b.k(), a, lda, b.data(), b.n(), false, c, ldc, ep);
}

}  // namespace softdpu::kernels
