// Scalar reference twins of the float32 row kernels: the plainest correct loops, accumulating in
// double and using libm's exp, so the SIMD versions have something exact-ish to be tested
// against. They also serve CPUs without AVX2.
#include <cmath>
#include <limits>

#include "kernels/reduce/row_kernels.h"

namespace softdpu::kernels {
namespace {

float max_ref(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

float min_ref(const float* x, int64_t n) {
  float m = std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) m = x[i] < m ? x[i] : m;
  return m;
}

float sum_ref(const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  return static_cast<float>(s);
}

float sum_abs_ref(const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::fabs(x[i]);
  return static_cast<float>(s);
}

float sum_sq_ref(const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return static_cast<float>(s);
}

float sum_exp_ref(const float* x, int64_t n, float shift) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - shift);
  return static_cast<float>(s);
}

void mean_var_ref(const float* x, int64_t n, float* mean, float* var) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  const double m = s / static_cast<double>(n);
  double v = 0;
  for (int64_t i = 0; i < n; ++i) v += (x[i] - m) * (x[i] - m);
  *mean = static_cast<float>(m);
  *var = static_cast<float>(v / static_cast<double>(n));
}

void scale_shift_ref(const float* x, float* y, int64_t n, float a, float b) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * a + b;
}

void normalize_ref(const float* x, float* y, int64_t n, float mean, float inv_std,
                   const float* gamma, const float* beta) {
  for (int64_t i = 0; i < n; ++i) {
    y[i] = (x[i] - mean) * inv_std * gamma[i] + (beta ? beta[i] : 0.0f);
  }
}

void softmax_ref(const float* x, float* y, int64_t n) {
  const float m = max_ref(x, n);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = std::exp(x[i] - m);
    s += y[i];
  }
  const float inv = static_cast<float>(1.0 / s);
  for (int64_t i = 0; i < n; ++i) y[i] *= inv;
}

void log_softmax_ref(const float* x, float* y, int64_t n) {
  const float m = max_ref(x, n);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  const float l = static_cast<float>(std::log(s));
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - l;  // see t_log_softmax on the order
}

void softmax_strided_ref(const float* x, float* y, int64_t n, int64_t stride, int64_t count) {
  for (int64_t k = 0; k < count; ++k) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; ++j) m = x[k + j * stride] > m ? x[k + j * stride] : m;
    double s = 0;
    for (int64_t j = 0; j < n; ++j) {
      y[k + j * stride] = std::exp(x[k + j * stride] - m);
      s += y[k + j * stride];
    }
    const float inv = static_cast<float>(1.0 / s);
    for (int64_t j = 0; j < n; ++j) y[k + j * stride] *= inv;
  }
}

void log_softmax_strided_ref(const float* x, float* y, int64_t n, int64_t stride, int64_t count) {
  for (int64_t k = 0; k < count; ++k) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; ++j) m = x[k + j * stride] > m ? x[k + j * stride] : m;
    double s = 0;
    for (int64_t j = 0; j < n; ++j) s += std::exp(x[k + j * stride] - m);
    const float l = static_cast<float>(std::log(s));
    for (int64_t j = 0; j < n; ++j) y[k + j * stride] = (x[k + j * stride] - m) - l;
  }
}

}  // namespace

const RowKernels& row_kernels_scalar() {
  static const RowKernels k{max_ref,
                            min_ref,
                            sum_ref,
                            sum_abs_ref,
                            sum_sq_ref,
                            sum_exp_ref,
                            mean_var_ref,
                            scale_shift_ref,
                            normalize_ref,
                            softmax_ref,
                            log_softmax_ref,
                            softmax_strided_ref,
                            log_softmax_strided_ref};
  return k;
}

const RowKernels& row_kernels(Isa isa) {
  // active_isa() never exceeds the CPU; clamp explicit requests the same way.
  const Isa best = detected_isa();
  if (static_cast<int>(isa) > static_cast<int>(best)) isa = best;
  switch (isa) {
    case Isa::kAvx512: return row_kernels_avx512();
    case Isa::kAvx2: return row_kernels_avx2();
    case Isa::kScalar: break;
  }
  return row_kernels_scalar();
}

}  // namespace softdpu::kernels
