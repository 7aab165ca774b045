// EIE sparse weights (src/compress/sparse*.h): pruning and k-means against their definitions,
// encode/decode round trips (padding zeros, codebooks, interleaved PEs), and the
// activation-skipping kernel against the dense product of the decoded matrix.
#include "compress/sparse.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "compress/compressed_matrix.h"
#include "compress/sparse_matrix.h"
#include "core/cpu.h"
#include "core/thread_pool.h"
#include "softdpu/status.h"

namespace softdpu::compress {
namespace {

// Random N x K matrix with about `density` non-zeros.
std::vector<float> sparse_random(int64_t n, int64_t k, double density, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> v(-1.f, 1.f), u(0.f, 1.f);
  std::vector<float> w(n * k, 0.f);
  for (float& x : w)
    if (u(rng) < density) x = v(rng);
  return w;
}

std::vector<float> decoded(const SparseMatrix& s) {
  std::vector<float> w(s.rows() * s.cols(), 42.f);
  s.decode(w.data(), s.cols());
  return w;
}

TEST(Sparse, ExactRoundTripOverDensitiesShapesAndPes) {
  for (double d : {0.0, 0.05, 0.5, 1.0}) {
    for (auto [n, k] : {std::pair<int64_t, int64_t>{1, 1}, {37, 50}, {100, 7}}) {
      for (int pes : {1, 3, 8}) {
        const std::vector<float> w = sparse_random(n, k, d, uint32_t(n + k + pes));
        SparseMatrix s(w.data(), n, k, k, {pes, 0, "fp32"});
        EXPECT_EQ(decoded(s), w) << d << " " << n << "x" << k << " pes " << pes;
        EXPECT_EQ(s.format(), "sparse");
        int64_t nz = 0;
        for (float x : w) nz += x != 0.f;
        EXPECT_EQ(s.entries() - s.padding_entries(), nz);
      }
    }
  }
}

TEST(Sparse, GapsOver15GetPaddingZeros) {
  // Column 0: rows 0 and 40 -> 39 zeros between: two padding entries (gaps of 15 rows each,
  // then a relative index of 7). Column 1: row 16 only -> one padding entry (z = 15), then z = 0.
  std::vector<float> w(50 * 2, 0.f);
  w[0 * 2 + 0] = 1.f;
  w[40 * 2 + 0] = 2.f;
  w[16 * 2 + 1] = 3.f;
  SparseMatrix s(w.data(), 50, 2, 2, {1, 0, "fp32"});
  EXPECT_EQ(s.padding_entries(), 3);
  EXPECT_EQ(s.entries(), 6);
  EXPECT_EQ(decoded(s), w);
  // Interleaved over 4 PEs the same rows are 4x closer in each PE: no padding at all.
  SparseMatrix s4(w.data(), 50, 2, 2, {4, 0, "fp32"});
  EXPECT_EQ(s4.padding_entries(), 0);
  EXPECT_EQ(decoded(s4), w);
}

TEST(Sparse, CodebookIsExactForFewDistinctValues) {
  const float vals[] = {-0.75f, -0.5f, 0.125f, 0.3f, 1.5f};
  std::vector<float> w = sparse_random(30, 40, 0.3, 5);
  for (size_t i = 0; i < w.size(); ++i)
    if (w[i] != 0.f) w[i] = vals[i % 5];
  SparseMatrix s(w.data(), 30, 40, 40, {2, 4, "fp32"});
  EXPECT_EQ(s.format(), "sparse-cb4");
  EXPECT_EQ(decoded(s), w);
  EXPECT_EQ(s.codebook().size(), 16u);
  EXPECT_EQ(s.codebook()[0], 0.f);
}

TEST(Sparse, CodebookSharesNearestValues) {
  for (const char* prec : {"fp32", "bf16", "fp16"}) {
    for (int bits : {1, 2, 4}) {
      const std::vector<float> w = sparse_random(64, 48, 0.4, 7);
      SparseMatrix s(w.data(), 64, 48, 48, {1, bits, prec});
      const std::vector<float>& cb = s.codebook();
      ASSERT_EQ(cb.size(), size_t(1) << bits);
      const std::set<float> shared(cb.begin() + 1, cb.end());
      const std::vector<float> d = decoded(s);
      for (size_t i = 0; i < w.size(); ++i) {
        if (w[i] == 0.f) {
          EXPECT_EQ(d[i], 0.f);
          continue;
        }
        ASSERT_TRUE(shared.count(d[i])) << d[i];
        // The stored value is the nearest shared value (no other is closer).
        for (float c : shared)
          if (c != 0.f) {
            EXPECT_LE(std::fabs(w[i] - d[i]), std::fabs(w[i] - c) + 1e-7f);
          }
      }
      if (std::string(prec) != "fp32") {
        for (float c : shared) {
          // bf16 keeps 8 significant bits, fp16 11: the low mantissa bits are zero.
          uint32_t u;
          std::memcpy(&u, &c, 4);
          EXPECT_EQ(u & ((1u << (std::string(prec) == "bf16" ? 16 : 13)) - 1), 0u) << c;
        }
      }
    }
  }
}

TEST(Sparse, KmeansCentroidsAreClusterMeans) {
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> v(5000);
  for (float& x : v) x = g(rng);
  const std::vector<float> c = kmeans_codebook(v, 15, "fp32");
  ASSERT_EQ(c.size(), 15u);
  EXPECT_TRUE(std::is_sorted(c.begin(), c.end()));
  // Lloyd's fixed point: each centroid is the mean of the values nearest to it.
  std::vector<double> sum(15);
  std::vector<int> cnt(15);
  for (float x : v) {
    int best = 0;
    for (int i = 1; i < 15; ++i)
      if (std::fabs(x - c[i]) < std::fabs(x - c[best])) best = i;
    sum[best] += x;
    cnt[best]++;
  }
  for (int i = 0; i < 15; ++i)
    if (cnt[i]) {
      EXPECT_NEAR(c[i], sum[i] / cnt[i], 1e-4) << i;
    }
  // Linear initialisation spans the range: the extreme centroids sit in the tails.
  EXPECT_LT(c.front(), -2.f);
  EXPECT_GT(c.back(), 2.f);
}

TEST(Sparse, PruningKeepsTheLargestMagnitudes) {
  for (double d : {0.0, 0.1, 0.5, 1.0}) {
    std::vector<float> w = sparse_random(33, 21, 1.0, 11);
    const std::vector<float> orig = w;
    prune_by_magnitude(w.data(), 33, 21, 21, d);
    int64_t kept = 0;
    float min_kept = 1e9f, max_dropped = 0.f;
    for (size_t i = 0; i < w.size(); ++i) {
      if (w[i] != 0.f) {
        EXPECT_EQ(w[i], orig[i]);
        kept++;
        min_kept = std::min(min_kept, std::fabs(w[i]));
      } else {
        max_dropped = std::max(max_dropped, std::fabs(orig[i]));
      }
    }
    EXPECT_EQ(kept, std::llround(d * 33 * 21)) << d;
    if (kept > 0 && kept < 33 * 21) {
      EXPECT_GE(min_kept, max_dropped);
    }
    EXPECT_NEAR(density_of(w.data(), 33, 21, 21), double(kept) / (33 * 21), 1e-12);
  }
}

// y = epilogue(x W^T) from the decoded matrix, in double.
std::vector<float> dense_ref(const std::vector<float>& w, int64_t n, int64_t k,
                             const std::vector<float>& x, int64_t m, const float* bias,
                             const float* row_bias, const std::vector<float>& y0, bool relu) {
  std::vector<float> y(m * n);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t i = 0; i < n; ++i) {
      double acc = y0[r * n + i] + (bias ? bias[i] : 0.0) + (row_bias ? row_bias[r] : 0.0);
      for (int64_t j = 0; j < k; ++j) acc += double(w[i * k + j]) * x[r * k + j];
      y[r * n + i] = relu && acc < 0 ? 0.f : float(acc);
    }
  return y;
}

// apply() (every ISA the CPU has, AVX-512 also with a pool), the EIE scalar twin and, when the
// row-indexed layout was derived, its scalar twin, all against the dense product of the decoded
// matrix.
void expect_kernels_match_dense(const SparseMatrix& s, const std::vector<float>& x, int64_t m,
                                ThreadPool* pool, const std::string& what) {
  const int64_t n = s.rows(), k = s.cols();
  const std::vector<float> dw = decoded(s);
  std::vector<float> bias(n), rb{0.5f, -0.25f}, y0(m * n);
  for (int64_t i = 0; i < n; ++i) bias[i] = 0.01f * float(i % 100) - 0.2f;
  for (int64_t i = 0; i < m * n; ++i) y0[i] = 0.1f * float(i % 7);
  const std::vector<float> want = dense_ref(dw, n, k, x, m, bias.data(), rb.data(), y0, true);
  std::vector<float> scratch(s.scratch_bytes(m) / sizeof(float) + 1);
  for (int path = 0; path < 6; ++path) {
    // Scalar and AVX2: the SWAR row decoding; AVX-512: the vector decode or the row-entry
    // kernel; then the EIE scalar twin and the row-entry scalar twin.
    constexpr Isa kIsa[] = {Isa::kScalar, Isa::kAvx2,   Isa::kAvx512,
                            Isa::kAvx512, Isa::kScalar, Isa::kScalar};
    if (kIsa[path] > detected_isa()) continue;
    if (path == 5 && !s.has_row_entries()) continue;
    ScopedIsa scope(kIsa[path]);
    std::vector<float> y = y0;
    kernels::GemmEpilogue ep;
    ep.bias = bias.data();
    ep.row_bias = rb.data();
    ep.accumulate = true;
    ep.activation.kind = kernels::ActKind::kRelu;
    if (path == 4) {
      s.apply_scalar(m, x.data(), k, y.data(), n, ep, scratch.data());
    } else if (path == 5) {
      s.apply_row_entries_scalar(m, x.data(), k, y.data(), n, ep, scratch.data());
    } else {
      s.apply(m, x.data(), k, y.data(), n, ep, path == 3 ? pool : nullptr, scratch.data());
    }
    for (int64_t i = 0; i < m * n; ++i)
      ASSERT_NEAR(y[i], want[i], 1e-5f * std::max(1.f, std::fabs(want[i])))
          << what << " m " << m << " path " << path << " [" << i << "]";
  }
}

TEST(Sparse, KernelMatchesDenseExpansion) {
  ThreadPool pool(2);
  for (double wd : {0.0, 0.1, 0.5, 1.0}) {
    for (double xd : {0.0, 0.35, 1.0}) {  // activation density (0 = all-zero input)
      for (int bits : {0, 4}) {
        for (int pes : {1, 3}) {
          // 301 and 700 rows: long columns, many 8- and 16-entry steps, padding entries, and
          // columns over the AVX-512 path's 256-entry chunk.
          for (int64_t n : {45, 301, 700}) {
            const int64_t k = 70;
            const std::vector<float> w = sparse_random(n, k, wd, 13);
            // The EIE kernels, the row-entry kernel, the previous row-entry loop.
            for (int kernel : {0, 1, 2}) {
              const bool row_entries = kernel > 0;
              const SparseMatrix s(w.data(), n, k, k,
                                   {pes, bits, "fp32", row_entries, kernel == 2});
              EXPECT_EQ(s.has_row_entries(),
                        row_entries && bits > 0 && detected_isa() == Isa::kAvx512);
              for (int64_t m : {1, 2}) {
                std::ostringstream what;
                what << "w " << wd << " x " << xd << " bits " << bits << " pes " << pes << " n "
                     << n << " kernel " << kernel;
                expect_kernels_match_dense(s, sparse_random(m, k, xd, 17), m, &pool, what.str());
              }
            }
          }
        }
      }
    }
  }
}

TEST(Sparse, RowEntriesSplitTallColumnsIntoRowBlocks) {
  // Over 4096 rows per PE the 12-bit row index needs a second and third row block; 2 PEs halve
  // the rows per PE (one block each plus a short one).
  const int64_t n = 2 * 4096 + 37, k = 9;
  const std::vector<float> w = sparse_random(n, k, 0.2, 23);
  int64_t nz = 0;
  for (float v : w) nz += v != 0.f;
  ThreadPool pool(2);
  for (int pes : {1, 2}) {
    const SparseMatrix s(w.data(), n, k, k, {pes, 4, "fp32"});
    if (s.has_row_entries()) {
      // One 16-bit entry per non-zero (no padding), one 32-bit pointer per (block, column) + 1.
      const int64_t blocks = pes == 1 ? 3 : 2 * 2;
      EXPECT_EQ(s.row_entry_bytes(), size_t(2 * nz + 4 * (blocks * k + pes)));
    }
    for (double xd : {0.35, 1.0})
      expect_kernels_match_dense(s, sparse_random(2, k, xd, 29), 2, &pool,
                                 "pes " + std::to_string(pes));
  }
}

TEST(Sparse, BadDensitiesAndCodebooksAreErrors) {
  for (double d : {0.0, -0.1, 1.5, std::nan("")}) {
    try {
      check_density(d);
      ADD_FAILURE() << d << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("(0, 1]"), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(check_density(1.0));
  EXPECT_NO_THROW(check_density(1e-6));
  EXPECT_THROW(check_codebook(5, "fp32"), Error);
  EXPECT_THROW(check_codebook(4, "fp8"), Error);
  EXPECT_NO_THROW(check_codebook(4, "bf16"));
}

}  // namespace
}  // namespace softdpu::compress
