// The packed GEMM against a plain triple loop written here (not gemm_reference, which is itself
// checked against the same loop), over every ISA path this CPU has.
#include "kernels/linalg/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/cpu.h"
#include "support/run_op.h"

namespace softdpu::kernels {
namespace {

std::vector<float> rand_vec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

float act_ref(const Activation& a, float x) {
  switch (a.kind) {
    case ActKind::kRelu: return std::max(x, 0.f);
    case ActKind::kLeakyRelu: return x < 0 ? a.alpha * x : x;
    case ActKind::kSigmoid: return 1.f / (1.f + std::exp(-x));
    case ActKind::kTanh: return std::tanh(x);
    case ActKind::kClip: return std::min(std::max(x, a.alpha), a.beta);
    default: return x;
  }
}

struct Case {
  int64_t m, n, k;
  bool trans_b;
  bool bias, row_bias, accumulate;
  Activation act;
  bool strided_a = false;  // A read transposed through the general entry point
  bool reverse_panels = false;
  bool tile_prefetch = true;
};

void check_case(const Case& t, Isa isa, int threads) {
  SCOPED_TRACE(::testing::Message()
               << "isa=" << isa_name(isa) << " m=" << t.m << " n=" << t.n << " k=" << t.k
               << " transB=" << t.trans_b << " threads=" << threads << " act=" << int(t.act.kind)
               << " reverse=" << t.reverse_panels << " prefetch=" << t.tile_prefetch);
  ScopedIsa scope(isa);
  const int64_t lda = t.k + 3, ldb = (t.trans_b ? t.k : t.n) + 5, ldc = t.n + 2;
  std::vector<float> a = rand_vec(t.m * lda, 1), b = rand_vec((t.trans_b ? t.n : t.k) * ldb, 2);
  std::vector<float> bias = rand_vec(t.n, 3), row_bias = rand_vec(t.m, 4);
  std::vector<float> c0 = rand_vec(t.m * ldc, 5);
  // A transposed (K x M) copy for the strided entry point.
  std::vector<float> at(t.k * t.m);
  for (int64_t i = 0; i < t.m; ++i)
    for (int64_t kk = 0; kk < t.k; ++kk) at[kk * t.m + i] = a[i * lda + kk];

  std::vector<float> want = c0;
  for (int64_t i = 0; i < t.m; ++i) {
    for (int64_t j = 0; j < t.n; ++j) {
      double acc = 0;
      for (int64_t kk = 0; kk < t.k; ++kk)
        acc += double(a[i * lda + kk]) * (t.trans_b ? b[j * ldb + kk] : b[kk * ldb + j]);
      if (t.accumulate) acc += c0[i * ldc + j];
      if (t.bias) acc += bias[j];
      if (t.row_bias) acc += row_bias[i];
      want[i * ldc + j] = act_ref(t.act, float(acc));
    }
  }
  GemmEpilogue ep;
  ep.bias = t.bias ? bias.data() : nullptr;
  ep.row_bias = t.row_bias ? row_bias.data() : nullptr;
  ep.accumulate = t.accumulate;
  ep.activation = t.act;
  ep.reverse_panels = t.reverse_panels;
  ep.tile_prefetch = t.tile_prefetch;
  PackedB packed = PackedB::pack(b.data(), t.k, t.n, ldb, t.trans_b);
  std::vector<float> got = c0;
  ThreadPool pool(threads);
  if (t.strided_a)
    gemm_packed(t.m, at.data(), 1, t.m, packed.view(), got.data(), ldc, ep, &pool);
  else
    gemm_packed(t.m, a.data(), lda, packed, got.data(), ldc, ep, &pool);
  std::vector<float> ref = c0;
  gemm_reference(t.m, t.n, t.k, a.data(), lda, b.data(), ldb, t.trans_b, ref.data(), ldc, ep);
  const float tol = 1e-5f * std::sqrt(float(t.k) + 1) + 1e-6f;
  for (int64_t i = 0; i < t.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t idx = i * ldc + j;
      if (j >= t.n) {  // padding columns of C must stay untouched
        ASSERT_EQ(got[idx], c0[idx]) << "wrote past N at " << i << "," << j;
        continue;
      }
      ASSERT_NEAR(got[idx], want[idx], tol * 4) << "packed at " << i << "," << j;
      ASSERT_NEAR(ref[idx], want[idx], tol * 4) << "reference at " << i << "," << j;
    }
  }
}

TEST(LinalgGemm, SweepShapesAllIsas) {
  const Activation none{};
  const std::vector<Case> cases = {
      {1, 1, 1, false, false, false, false, none},
      {1, 17, 3, false, true, false, false, none},
      {1, 64, 64, true, true, false, true, none},
      {1, 100, 513, false, true, true, false, {ActKind::kRelu}},
      {1, 130, 33, true, false, false, true, {ActKind::kSigmoid}},
      {2, 33, 7, false, true, false, false, none},
      {5, 31, 9, true, false, true, true, {ActKind::kLeakyRelu, 0.1f}},
      {7, 16, 300, false, true, false, false, {ActKind::kClip, -0.2f, 0.3f}},
      {8, 48, 257, false, false, true, true, none},
      {13, 47, 65, true, true, true, false, {ActKind::kTanh}},
      {17, 96, 19, false, true, false, true, {ActKind::kRelu}},
      {6, 50, 600, true, true, false, false, none},
      {3, 5, 0, false, true, true, true, {ActKind::kRelu}},
      {9, 20, 11, false, true, true, false, none, true},
      {1, 70, 23, false, true, false, false, none, true},
  };
  for (Isa isa : testing::supported_isas())
    for (const Case& c : cases) check_case(c, isa, 1);
}

TEST(LinalgGemm, TwoThreadsSplitNAndM) {
  const Activation relu{ActKind::kRelu};
  for (Isa isa : testing::supported_isas()) {
    check_case({1, 1000, 300, false, true, false, false, relu}, isa, 2);
    check_case({64, 40, 200, true, true, true, true, relu}, isa, 2);
    check_case({40, 300, 150, false, false, false, false, {}}, isa, 2);
  }
}

// A packed B of >= 8 MiB takes the AVX-512 tile loop that prefetches the next panel pair
// (gemm_avx512.cc): several K slices, a ragged last panel and an odd panel count (the last pair
// is a single panel), on one thread and split across two.
TEST(LinalgGemm, LargeBTakesThePrefetchingTileLoop) {
  const Case c{10, 1900, 1200, true, true, false, true, {}};  // 119 panels, the last ragged
  ASSERT_GE(packed_b_floats(c.k, c.n) * int64_t{sizeof(float)}, int64_t{8} << 20);
  // m = 64: A is 300 KiB, over the 256 KiB under which the tile loop runs a panel pair's K
  // slices in turn, so this one takes the prefetch with the slice-outer order.
  Case big_a = c;
  big_a.m = 64;
  for (Isa isa : testing::supported_isas()) {
    check_case(c, isa, 1);
    check_case(c, isa, 2);
    check_case(big_a, isa, 1);
  }
}

// The same prefetching loop switched off (GemmEpilogue::tile_prefetch, what BM_GemmNoPrefetch
// times) computes the same product.
TEST(LinalgGemm, LargeBWithoutThePrefetch) {
  Case c{10, 1900, 1200, true, true, false, true, {}};
  c.tile_prefetch = false;
  for (Isa isa : testing::supported_isas()) check_case(c, isa, 1);
}

// m == 1 with the panels visited last to first (GemmEpilogue::reverse_panels, as an RNN's odd
// steps run): 4-panel groups with a short last group, a single short panel, split over threads.
TEST(LinalgGemm, ReversedPanelOrder) {
  std::vector<Case> cases = {
      {1, 100, 513, false, true, true, false, {ActKind::kRelu}},  // 7 panels: groups 4 + 3
      {1, 130, 33, true, false, false, true, {ActKind::kSigmoid}},
      {1, 9, 40, true, true, false, false, {}},
      {1, 1000, 300, false, true, false, true, {}},
      {1, 70, 23, false, true, false, false, {}, true},
  };
  for (Case& c : cases) c.reverse_panels = true;
  for (Isa isa : testing::supported_isas()) {
    for (const Case& c : cases) {
      check_case(c, isa, 1);
      check_case(c, isa, 2);
    }
  }
  // At m > 1 the flag is ignored: same product.
  Case m3{3, 70, 40, true, true, true, false, {}};
  m3.reverse_panels = true;
  for (Isa isa : testing::supported_isas()) check_case(m3, isa, 1);
}

// The tile loop's row split (25 rows: 7 + 6 + 6 + 6) and both loop orders: pair-outer while A
// (rows x K) fits kPairOuterABytes (256 KiB), K slice outer above it (64 x 1100: 275 KiB), each
// with several K slices, an odd panel count and a ragged last panel.
TEST(LinalgGemm, RowTilesAndLoopOrders) {
  const std::vector<Case> cases = {
      {25, 2048, 512, true, true, false, false, {}},  // lstm_h512's input projection
      {25, 300, 600, false, true, true, true, {ActKind::kRelu}},
      {9, 47, 513, true, false, true, false, {}},
      {64, 150, 1100, false, true, true, true, {}},
      {23, 61, 700, true, true, false, false, {}, true},
  };
  for (Isa isa : testing::supported_isas()) {
    for (const Case& c : cases) {
      check_case(c, isa, 1);
      check_case(c, isa, 2);
    }
  }
}

TEST(LinalgGemm, PackLayoutIsPanelMajor) {
  // The panel layout is a public contract (Conv writes im2col into it).
  const int64_t k = 3, n = 20;
  std::vector<float> b(k * n);
  for (int64_t i = 0; i < k * n; ++i) b[i] = float(i);
  PackedB p = PackedB::pack(b.data(), k, n, n, false, 2.f);
  ASSERT_EQ(p.bytes(), size_t(packed_b_floats(k, n)) * sizeof(float));
  EXPECT_EQ(packed_b_floats(k, n), k * 32);
  for (int64_t kk = 0; kk < k; ++kk) {
    for (int64_t j = 0; j < 32; ++j) {
      const float want = j < n ? 2.f * b[kk * n + j] : 0.f;
      EXPECT_EQ(p.data()[(j / 16) * k * 16 + kk * 16 + j % 16], want);
    }
  }
}

}  // namespace
}  // namespace softdpu::kernels
