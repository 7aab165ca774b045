// The float32 row kernels of every ISA against double-precision loops, at lengths around the
// register widths (full registers, masked tails, rows shorter than a register).
#include "kernels/reduce/row_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "support/run_op.h"

namespace softdpu {
namespace {

using kernels::RowKernels;

constexpr int64_t kLengths[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1001};

std::vector<float> random_row(int64_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& e : v) e = dist(rng);
  return v;
}

// exp is the accuracy-critical piece: sample the whole useful range densely.
TEST(ReduceRowKernels, ExpPolynomialRelativeErrorBelow1e6) {
  for (Isa isa : testing::supported_isas()) {
    const RowKernels& k = kernels::row_kernels(isa);
    double worst = 0;
    for (int i = 0; i <= 200000; ++i) {
      const float x = -87.0f + 88.0f * static_cast<float>(i) / 200000.0f;  // [-87, 1]
      const double want = std::exp(static_cast<double>(x));
      worst = std::max(worst, std::fabs(k.sum_exp(&x, 1, 0.0f) - want) / want);
    }
    EXPECT_LT(worst, 1e-6) << isa_name(isa);
    const float tiny[] = {-87.5f, -100.0f, -1e30f, -std::numeric_limits<float>::infinity()};
    // Underflow: the SIMD paths flush to 0, libm may give a denormal; never more than FLT_MIN.
    for (float x : tiny) {
      EXPECT_LE(k.sum_exp(&x, 1, 0.0f), std::numeric_limits<float>::min()) << isa_name(isa) << x;
    }
  }
}

TEST(ReduceRowKernels, ReductionsMatchDouble) {
  for (Isa isa : testing::supported_isas()) {
    const RowKernels& k = kernels::row_kernels(isa);
    for (int64_t n : kLengths) {
      const std::vector<float> x = random_row(n, -3, 3, static_cast<uint32_t>(n));
      double sum = 0, sum_abs = 0, sum_sq = 0, sum_exp = 0, mx = -INFINITY, mn = INFINITY;
      for (float v : x) {
        sum += v;
        sum_abs += std::fabs(v);
        sum_sq += static_cast<double>(v) * v;
        sum_exp += std::exp(v - 1.5);
        mx = std::max<double>(mx, v);
        mn = std::min<double>(mn, v);
      }
      const std::string what = std::string(isa_name(isa)) + " n=" + std::to_string(n);
      EXPECT_EQ(k.max(x.data(), n), mx) << what;
      EXPECT_EQ(k.min(x.data(), n), mn) << what;
      EXPECT_NEAR(k.sum(x.data(), n), sum, 1e-6 * (1 + sum_abs)) << what;
      EXPECT_NEAR(k.sum_abs(x.data(), n), sum_abs, 1e-6 * (1 + sum_abs)) << what;
      EXPECT_NEAR(k.sum_sq(x.data(), n), sum_sq, 1e-6 * (1 + sum_sq)) << what;
      EXPECT_NEAR(k.sum_exp(x.data(), n, 1.5f), sum_exp, 1e-6 * (1 + sum_exp)) << what;

      const double mean = sum / n;
      double var = 0;
      for (float v : x) var += (v - mean) * (v - mean);
      var /= n;
      float m, s;
      k.mean_var(x.data(), n, &m, &s);
      EXPECT_NEAR(m, mean, 1e-6) << what;
      EXPECT_NEAR(s, var, 1e-6 * (1 + var)) << what;
    }
    EXPECT_EQ(k.max(nullptr, 0), -INFINITY);
    EXPECT_EQ(k.sum(nullptr, 0), 0.0f);
  }
}

TEST(ReduceRowKernels, ElementwiseKernelsMatchDouble) {
  for (Isa isa : testing::supported_isas()) {
    const RowKernels& k = kernels::row_kernels(isa);
    for (int64_t n : kLengths) {
      const std::vector<float> x = random_row(n, -3, 3, 1);
      const std::vector<float> g = random_row(n, 0.5f, 2, 2);
      const std::vector<float> b = random_row(n, -1, 1, 3);
      // One guard element past the row catches masked stores that write too far.
      std::vector<float> y(n + 1, 42.0f), z(n + 1, 42.0f), w(n + 1, 42.0f);
      k.scale_shift(x.data(), y.data(), n, 1.5f, -0.25f);
      k.normalize(x.data(), z.data(), n, 0.3f, 1.7f, g.data(), b.data());
      k.normalize(x.data(), w.data(), n, 0.3f, 1.7f, g.data(), nullptr);
      const std::string what = std::string(isa_name(isa)) + " n=" + std::to_string(n);
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_NEAR(y[i], x[i] * 1.5 - 0.25, 1e-6) << what;
        const double t = (x[i] - 0.3) * 1.7 * g[i];
        EXPECT_NEAR(z[i], t + b[i], 1e-5) << what;
        EXPECT_NEAR(w[i], t, 1e-5) << what;
      }
      EXPECT_EQ(y[n], 42.0f) << what;
      EXPECT_EQ(z[n], 42.0f) << what;
      EXPECT_EQ(w[n], 42.0f) << what;
    }
  }
}

TEST(ReduceRowKernels, SoftmaxRowsAndStridedMatchDouble) {
  for (Isa isa : testing::supported_isas()) {
    const RowKernels& k = kernels::row_kernels(isa);
    for (int64_t n : kLengths) {
      const std::vector<float> x = random_row(n, -20, 20, 5);
      std::vector<float> y(n + 1, 42.0f), l(n + 1, 42.0f);
      k.softmax(x.data(), y.data(), n);
      k.log_softmax(x.data(), l.data(), n);
      double m = -INFINITY, s = 0;
      for (float v : x) m = std::max<double>(m, v);
      for (float v : x) s += std::exp(v - m);
      const std::string what = std::string(isa_name(isa)) + " n=" + std::to_string(n);
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_NEAR(y[i], std::exp(x[i] - m) / s, 1e-6) << what;
        const double lw = x[i] - m - std::log(s);
        EXPECT_NEAR(l[i], lw, 1e-6 * (1 + std::fabs(lw))) << what;
      }
      EXPECT_EQ(y[n], 42.0f) << what;
      EXPECT_EQ(l[n], 42.0f) << what;
    }
    // Strided: axis of 5 elements, positions 0..count-1, stride 37 (a row of 37 floats).
    const int64_t n = 5, stride = 37;
    for (int64_t count : {1, 7, 8, 9, 16, 17, 37}) {
      const std::vector<float> x = random_row(n * stride, -20, 20, 6);
      std::vector<float> y(n * stride, 42.0f), l(n * stride, 42.0f);
      k.softmax_strided(x.data(), y.data(), n, stride, count);
      k.log_softmax_strided(x.data(), l.data(), n, stride, count);
      for (int64_t p = 0; p < stride; ++p) {
        double m = -INFINITY, s = 0;
        for (int64_t j = 0; j < n; ++j) m = std::max<double>(m, x[p + j * stride]);
        for (int64_t j = 0; j < n; ++j) s += std::exp(x[p + j * stride] - m);
        for (int64_t j = 0; j < n; ++j) {
          const int64_t at = p + j * stride;
          if (p < count) {
            EXPECT_NEAR(y[at], std::exp(x[at] - m) / s, 1e-6) << isa_name(isa) << " " << count;
            EXPECT_NEAR(l[at], x[at] - m - std::log(s), 1e-5) << isa_name(isa) << " " << count;
          } else {  // positions past count are left alone
            EXPECT_EQ(y[at], 42.0f) << isa_name(isa) << " " << count;
            EXPECT_EQ(l[at], 42.0f) << isa_name(isa) << " " << count;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace softdpu
