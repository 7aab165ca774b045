// Block-circulant matrices (src/compress/circulant*.h): the projection against a naive
// per-entry average, lossless detection both ways, and the FFT product against the dense O(n^2)
// product of the expanded matrix, for every block size, odd dimensions and every ISA.
#include "compress/circulant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "compress/circulant_mac.h"
#include "compress/circulant_matrix.h"
#include "compress/compressed_matrix.h"
#include "core/cpu.h"
#include "core/thread_pool.h"
#include "softdpu/status.h"

namespace softdpu::compress {
namespace {

std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<Isa> isas() {
  std::vector<Isa> v{Isa::kScalar};
  if (detected_isa() >= Isa::kAvx2) v.push_back(Isa::kAvx2);
  if (detected_isa() >= Isa::kAvx512) v.push_back(Isa::kAvx512);
  return v;
}

// A block-circulant N x K matrix built straight from the definition B[r][s] = c[(r - s) mod b].
std::vector<float> circulant_dense(int64_t n, int64_t k, int b, const std::vector<float>& c) {
  const int64_t q = (k + b - 1) / b;
  std::vector<float> w(n * k);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t s = 0; s < k; ++s) {
      const int64_t blk = (r / b) * q + s / b;
      const int64_t d = ((r - s) % b + b) % b;  // (r - s) mod b == (r%b - s%b) mod b
      w[r * k + s] = c[blk * b + d];
    }
  return w;
}

TEST(Circulant, ProjectionMatchesNaiveAverage) {
  for (auto [n, k, b] : {std::tuple{37, 50, 8}, std::tuple{16, 16, 4}, std::tuple{100, 33, 32}}) {
    const std::vector<float> w = random_vec(size_t(n * k), 3);
    double err = -1;
    const CirculantVectors v = project_circulant(w.data(), n, k, k, b, &err);
    ASSERT_EQ(v.p, (n + b - 1) / b);
    ASSERT_EQ(v.q, (k + b - 1) / b);
    // Naive: group every entry by (block, wrapped diagonal) and average.
    std::map<std::tuple<int64_t, int64_t, int64_t>, std::pair<double, int>> groups;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t s = 0; s < k; ++s) {
        auto& g = groups[{r / b, s / b, ((r - s) % b + b) % b}];
        g.first += w[r * k + s];
        g.second++;
      }
    double e2 = 0, n2 = 0;
    for (int64_t i = 0; i < v.p; ++i)
      for (int64_t j = 0; j < v.q; ++j)
        for (int64_t d = 0; d < b; ++d) {
          auto it = groups.find({i, j, d});
          const double want = it == groups.end() ? 0.0 : it->second.first / it->second.second;
          EXPECT_NEAR(v.at(i, j)[d], want, 1e-6) << i << "," << j << "," << d;
        }
    for (int64_t r = 0; r < n; ++r)
      for (int64_t s = 0; s < k; ++s) {
        const auto& g = groups[{r / b, s / b, ((r - s) % b + b) % b}];
        const double p = g.first / g.second;
        e2 += (w[r * k + s] - p) * (w[r * k + s] - p);
        n2 += double(w[r * k + s]) * w[r * k + s];
      }
    EXPECT_NEAR(err, std::sqrt(e2 / n2), 1e-9);
    EXPECT_GT(err, 0.5);  // a random matrix is far from block-circulant
    // Expanding the projection and projecting again changes nothing (a projection).
    std::vector<float> pw(n * k);
    expand_circulant(v, pw.data(), k);
    double err2 = -1;
    project_circulant(pw.data(), n, k, k, b, &err2);
    EXPECT_LT(err2, 1e-6);
  }
}

TEST(Circulant, ProjectionOfZeroMatrixHasZeroError) {
  std::vector<float> w(24 * 24, 0.f);
  double err = -1;
  project_circulant(w.data(), 24, 24, 24, 8, &err);
  EXPECT_EQ(err, 0.0);
}

TEST(Circulant, LosslessDetectionBothWays) {
  for (int b : {4, 8, 16, 64}) {
    const int64_t n = 3 * b, k = 2 * b + b / 2;  // K cut short: the last block column is partial
    const int64_t q = (k + b - 1) / b;
    const std::vector<float> c = random_vec(size_t(3 * q * b), 5 + b);
    std::vector<float> w = circulant_dense(n, k, b, c);
    EXPECT_TRUE(is_block_circulant(w.data(), n, k, k, b)) << b;
    EXPECT_EQ(detect_circulant_block(w.data(), n, k, k), b);
    // One entry off by 1e-3 relative: no longer exact.
    w[(n - 1) * k + 1] += 1e-3f;
    EXPECT_FALSE(is_block_circulant(w.data(), n, k, k, b)) << b;
    EXPECT_EQ(detect_circulant_block(w.data(), n, k, k), 0);
    // Rounding noise far below the tolerance is still accepted.
    w[(n - 1) * k + 1] -= 1e-3f;
    w[5] = std::nextafter(w[5], 2.f);
    EXPECT_TRUE(is_block_circulant(w.data(), n, k, k, b)) << b;
  }
  const std::vector<float> dense = random_vec(64 * 64, 9);
  EXPECT_EQ(detect_circulant_block(dense.data(), 64, 64, 64), 0);
}

// The dense O(n^2) product of the expanded matrix, in double, with the epilogue.
std::vector<float> dense_product(const std::vector<float>& w, int64_t n, int64_t k,
                                 const std::vector<float>& x, int64_t m,
                                 const std::vector<float>& bias, bool relu) {
  std::vector<float> y(m * n);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t i = 0; i < n; ++i) {
      double acc = bias.empty() ? 0.0 : bias[i];
      for (int64_t j = 0; j < k; ++j) acc += double(w[i * k + j]) * x[r * k + j];
      y[r * n + i] = relu && acc < 0 ? 0.f : float(acc);
    }
  return y;
}

class CirculantKernel : public ::testing::TestWithParam<int> {};

TEST_P(CirculantKernel, MatchesDenseProductOfExpandedMatrix) {
  const int b = GetParam();
  ThreadPool pool(2);
  for (auto [n, k] :
       {std::pair<int64_t, int64_t>{b, b}, {3 * b + 1, 2 * b - 3}, {2 * b, 5 * b}, {37, 50}}) {
    if (k < 1) continue;
    const int64_t p = (n + b - 1) / b, q = (k + b - 1) / b;
    const std::vector<float> c = random_vec(size_t(p * q * b), uint32_t(n * 7 + k));
    const std::vector<float> w = circulant_dense(n, k, b, c);
    const CirculantMatrix cm(project_circulant(w.data(), n, k, k, b));
    EXPECT_EQ(cm.bytes(), size_t(p * q * b) * sizeof(float));
    EXPECT_EQ(cm.format(), "circulant-b" + std::to_string(b));
    for (int64_t m : {1, 3}) {
      const std::vector<float> x = random_vec(size_t(m * k), 17);
      const std::vector<float> bias = random_vec(size_t(n), 19);
      const std::vector<float> want = dense_product(w, n, k, x, m, bias, true);
      std::vector<uint8_t, kernels::AlignedAllocator<uint8_t>> scratch(cm.scratch_bytes(m));
      for (Isa isa : isas()) {
        ScopedIsa scoped(isa);
        for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
          std::vector<float> y(m * n, -7.f);
          kernels::GemmEpilogue ep;
          ep.bias = bias.data();
          ep.activation.kind = kernels::ActKind::kRelu;
          cm.apply(m, x.data(), k, y.data(), n, ep, tp, scratch.data());
          // FFT rounding grows with log2(b) and the sum length: scale by sum |w x|.
          for (int64_t r = 0; r < m; ++r)
            for (int64_t i = 0; i < n; ++i) {
              double mag = 0;
              for (int64_t j = 0; j < k; ++j) mag += std::fabs(double(w[i * k + j]) * x[r * k + j]);
              ASSERT_NEAR(y[r * n + i], want[r * n + i], 1e-5 * (1 + mag))
                  << "b=" << b << " n=" << n << " k=" << k << " m=" << m << " isa " << isa_name(isa)
                  << " row " << r << " col " << i;
            }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Blocks, CirculantKernel, ::testing::Values(4, 8, 16, 32, 64, 128, 256));

TEST(Circulant, LargeMatrixWithThreadsMatchesDense) {
  // Large enough (p = 32 block rows of K = 2048) that apply() splits the block rows over the pool.
  const int b = 64;
  const int64_t n = 2048, k = 2048;
  const std::vector<float> c = random_vec(size_t((n / b) * (k / b) * b), 23);
  const std::vector<float> w = circulant_dense(n, k, b, c);
  const CirculantMatrix cm(project_circulant(w.data(), n, k, k, b));
  const std::vector<float> x = random_vec(size_t(k), 29);
  const std::vector<float> want = dense_product(w, n, k, x, 1, {}, false);
  std::vector<uint8_t, kernels::AlignedAllocator<uint8_t>> scratch(cm.scratch_bytes(1));
  ThreadPool pool(2);
  std::vector<float> y(n);
  cm.apply(1, x.data(), k, y.data(), n, {}, &pool, scratch.data());
  for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(y[i], want[i], 2e-3) << i;
}

TEST(Circulant, ZeroActivationsGiveTheEpilogueOnly) {
  const int b = 16;
  const int64_t n = 40, k = 35;
  const std::vector<float> w = circulant_dense(n, k, b, random_vec(3 * 3 * b, 31));
  const CirculantMatrix cm(project_circulant(w.data(), n, k, k, b));
  std::vector<float> x(2 * k, 0.f), row_bias{0.25f, -3.f}, y(2 * n, 1.f);
  std::vector<uint8_t, kernels::AlignedAllocator<uint8_t>> scratch(cm.scratch_bytes(2));
  kernels::GemmEpilogue ep;
  ep.row_bias = row_bias.data();
  ep.accumulate = true;  // y = 1 + row_bias + 0
  cm.apply(2, x.data(), k, y.data(), n, ep, nullptr, scratch.data());
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_FLOAT_EQ(y[i], 1.25f);
    EXPECT_FLOAT_EQ(y[n + i], -2.f);
  }
}

TEST(Circulant, MacPathsMatchScalarTwin) {
  for (int b : {16, 32, 64, 128, 256}) {
    for (int64_t q : {1, 2, 5}) {
      const std::vector<float> w = random_vec(size_t(q * b), 41), x = random_vec(size_t(q * b), 43);
      std::vector<fftwf_complex> want(b / 2 + 1), got(b / 2 + 1);
      circulant_mac_scalar(w.data(), x.data(), q, b, want.data());
      for (Isa isa : isas()) {
        ScopedIsa scoped(isa);
        circulant_mac(w.data(), x.data(), q, b, got.data());
        for (int f = 0; f <= b / 2; ++f) {
          ASSERT_NEAR(got[f][0], want[f][0], 1e-5) << b << " " << q << " " << isa_name(isa);
          ASSERT_NEAR(got[f][1], want[f][1], 1e-5) << b << " " << q << " " << isa_name(isa);
        }
      }
    }
  }
}

TEST(Circulant, BadBlockSizesAreErrors) {
  for (int b : {0, 2, 3, 6, 12, 100, 512, -8}) {
    try {
      check_circulant_block(b);
      ADD_FAILURE() << b << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("power of two"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(std::to_string(b)), std::string::npos) << e.what();
    }
  }
  for (int b : {4, 8, 16, 32, 64, 128, 256}) EXPECT_NO_THROW(check_circulant_block(b));
}

}  // namespace
}  // namespace softdpu::compress
