// ONNX Det: determinants of the trailing square matrices, by LU decomposition with partial
// pivoting in double precision (float32 in and out).
#include <cmath>
#include <utility>
#include <vector>

#include "runtime/kernel.h"

namespace softdpu::runtime {

namespace {

// Determinant of the n x n row-major matrix in a (destroyed).
double det_lu(double* a, int64_t n) {
  double det = 1.0;
  for (int64_t col = 0; col < n; ++col) {
    int64_t piv = col;
    for (int64_t r = col + 1; r < n; ++r)
      if (std::fabs(a[r * n + col]) > std::fabs(a[piv * n + col])) piv = r;
    if (a[piv * n + col] == 0.0) return 0.0;
    if (piv != col) {
      for (int64_t j = 0; j < n; ++j) std::swap(a[piv * n + j], a[col * n + j]);
      det = -det;
    }
    const double d = a[col * n + col];
    det *= d;
    for (int64_t r = col + 1; r < n; ++r) {
      const double f = a[r * n + col] / d;
      if (f == 0.0) continue;
      for (int64_t j = col + 1; j < n; ++j) a[r * n + j] -= f * a[col * n + j];
    }
  }
  return det;
}

}  // namespace

std::unique_ptr<Kernel> prepare_Det(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32});
  ctx.expect_rank(0, 2, 16);
  const Shape& s = ctx.shape(0);
  const int64_t n = s.back();
  if (s[s.size() - 2] != n) {
    ctx.fail("input 0 ('" + ctx.input(0).name + "') of shape " + shape_to_string(s) +
             " must end in a square matrix");
  }
  const Shape out(s.begin(), s.end() - 2);
  ctx.set_output(0, DType::kFloat32, out);
  const int64_t count = shape_numel(out);
  ctx.request_scratch(static_cast<size_t>(n * n) * sizeof(double));
  return make_kernel([=](const KernelArgs& args) {
    const float* x = static_cast<const float*>(args.in[0]);
    float* y = static_cast<float*>(args.out[0]);
    double* a = static_cast<double*>(args.scratch);
    for (int64_t b = 0; b < count; ++b) {
      for (int64_t i = 0; i < n * n; ++i) a[i] = x[b * n * n + i];
      y[b] = static_cast<float>(det_lu(a, n));
    }
  });
}

}  // namespace softdpu::runtime
