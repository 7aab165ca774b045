// Pooling ops against naive loops written here (over an explicitly padded copy of the input, as
// the ONNX reference does), plus the semantics the backend tests pin down.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using ir::OpType;
using testing::attr_int;
using testing::attr_ints;
using testing::attr_string;
using testing::in;
using testing::random_tensor;

struct PoolCase {
  Shape x;
  std::vector<int64_t> kernel, strides = {}, pads = {}, dilations = {};
  bool ceil = false;
  bool include_pad = false;
};

// Output of one (n, c) plane for window start positions; `kind` is "max", "avg" or "lp2".
Tensor pool_naive(const PoolCase& t, const Tensor& x, const std::string& kind, Tensor* indices) {
  const size_t nd = t.x.size() - 2;
  std::vector<int64_t> in(3, 1), k(3, 1), s(3, 1), d(3, 1), pb(3, 0), pe(3, 0), out(3, 1);
  for (size_t i = 0; i < nd; ++i) {
    const size_t j = 3 - nd + i;
    in[j] = t.x[2 + i];
    k[j] = t.kernel[i];
    if (!t.strides.empty()) s[j] = t.strides[i];
    if (!t.dilations.empty()) d[j] = t.dilations[i];
    if (!t.pads.empty()) pb[j] = t.pads[i], pe[j] = t.pads[nd + i];
    const double span = double(in[j] + pb[j] + pe[j] - (k[j] - 1) * d[j] - 1) / s[j];
    out[j] = int64_t(t.ceil ? std::ceil(span) : std::floor(span)) + 1;
    if (t.ceil && (out[j] - 1) * s[j] >= in[j] + pb[j]) --out[j];
  }
  Shape os{t.x[0], t.x[1]};
  for (size_t i = 0; i < nd; ++i) os.push_back(out[3 - nd + i]);
  Tensor y(DType::kFloat32, os);
  if (indices) *indices = Tensor(DType::kInt64, os);
  const int64_t plane_in = in[0] * in[1] * in[2];
  // Padded plane: NaN marks padding (ONNX reference style), sized to cover ceil windows too.
  std::vector<int64_t> P(3);
  for (int j = 0; j < 3; ++j)
    P[j] = std::max(in[j] + pb[j] + pe[j], (out[j] - 1) * s[j] + (k[j] - 1) * d[j] + 1);
  int64_t yi = 0;
  for (int64_t plane = 0; plane < t.x[0] * t.x[1]; ++plane) {
    std::vector<float> padded(P[0] * P[1] * P[2], NAN);
    for (int64_t a = 0; a < in[0]; ++a)
      for (int64_t b = 0; b < in[1]; ++b)
        for (int64_t c = 0; c < in[2]; ++c)
          padded[((a + pb[0]) * P[1] + b + pb[1]) * P[2] + c + pb[2]] =
              x.data_as<float>()[plane * plane_in + (a * in[1] + b) * in[2] + c];
    for (int64_t o0 = 0; o0 < out[0]; ++o0)
      for (int64_t o1 = 0; o1 < out[1]; ++o1)
        for (int64_t o2 = 0; o2 < out[2]; ++o2, ++yi) {
          double sum = 0, best = -INFINITY;
          int64_t n = 0, n_pad = 0, best_at = 0;
          for (int64_t k0 = 0; k0 < k[0]; ++k0)
            for (int64_t k1 = 0; k1 < k[1]; ++k1)
              for (int64_t k2 = 0; k2 < k[2]; ++k2) {
                const int64_t p0 = o0 * s[0] + k0 * d[0], p1 = o1 * s[1] + k1 * d[1],
                              p2 = o2 * s[2] + k2 * d[2];
                if (p0 < in[0] + pb[0] + pe[0] && p1 < in[1] + pb[1] + pe[1] &&
                    p2 < in[2] + pb[2] + pe[2])
                  ++n_pad;
                const float v = padded[(p0 * P[1] + p1) * P[2] + p2];
                if (std::isnan(v)) continue;
                ++n;
                sum += kind == "lp2" ? double(v) * v : v;
                if (v > best) {
                  best = v;
                  best_at = ((p0 - pb[0]) * in[1] + (p1 - pb[1])) * in[2] + (p2 - pb[2]);
                }
              }
          float r = kind == "max"   ? float(best)
                    : kind == "lp2" ? float(std::sqrt(sum))
                                    : float(sum / (t.include_pad ? n_pad : n));
          y.data_as<float>()[yi] = r;
          if (indices) indices->data_as<int64_t>()[yi] = plane * plane_in + best_at;
        }
  }
  return y;
}

std::map<std::string, ir::Attribute> attrs_of(const PoolCase& t) {
  std::map<std::string, ir::Attribute> a{{"kernel_shape", attr_ints(t.kernel)}};
  if (!t.strides.empty()) a["strides"] = attr_ints(t.strides);
  if (!t.pads.empty()) a["pads"] = attr_ints(t.pads);
  if (!t.dilations.empty()) a["dilations"] = attr_ints(t.dilations);
  if (t.ceil) a["ceil_mode"] = attr_int(1);
  if (t.include_pad) a["count_include_pad"] = attr_int(1);
  return a;
}

const std::vector<PoolCase>& cases() {
  static const std::vector<PoolCase> c = {
      {.x = {1, 2, 9}, .kernel = {3}, .strides = {2}, .pads = {1, 2}},
      {.x = {2, 3, 7, 8}, .kernel = {3, 2}, .strides = {2, 3}, .pads = {1, 0, 1, 1}},
      {.x = {1, 2, 8, 8}, .kernel = {3, 3}, .strides = {2, 2}, .ceil = true},
      {.x = {1, 2, 7, 9},
       .kernel = {3, 3},
       .strides = {2, 2},
       .pads = {1, 1, 1, 1},
       .ceil = true,
       .include_pad = true},
      {.x = {1, 1, 9, 9}, .kernel = {2, 3}, .strides = {1, 2}, .dilations = {3, 2}},
      {.x = {1, 2, 4, 5, 6}, .kernel = {2, 3, 2}, .strides = {2, 1, 2}, .pads = {0, 1, 1, 1, 1, 0}},
      {.x = {1, 3, 5, 5}, .kernel = {2, 2}, .pads = {1, 1, 1, 1}, .include_pad = true},
  };
  return c;
}

TEST(LinalgPool, MaxWithIndices) {
  for (const PoolCase& t : cases()) {
    SCOPED_TRACE(shape_to_string(t.x) + " k=" + shape_to_string(t.kernel));
    Tensor x = random_tensor(t.x, -1, 1, 21), want_idx;
    Tensor want = pool_naive(t, x, "max", &want_idx);
    for (int threads : {1, 2}) {
      auto out = testing::run_op(OpType::kMaxPool, {in(x)}, attrs_of(t), 2, threads);
      ASSERT_EQ(out[0].shape(), want.shape());
      EXPECT_EQ(testing::max_abs_diff(out[0], want), 0.f);
      for (int64_t i = 0; i < want.numel(); ++i)
        ASSERT_EQ(out[1].data_as<int64_t>()[i], want_idx.data_as<int64_t>()[i]) << i;
    }
  }
}

// Without the Indices output, windows that lie inside the input take a row-wise fast path
// (pool.cc max_plane_inside); the others the general one. Both against the naive loops.
TEST(LinalgPool, MaxWithoutIndices) {
  std::vector<PoolCase> all = cases();
  const std::vector<PoolCase> inside = {
      {.x = {2, 4, 28, 28}, .kernel = {2, 2}, .strides = {2, 2}},
      {.x = {1, 3, 7, 7}, .kernel = {2, 2}, .strides = {2, 2}},  // last row/column unused
      {.x = {1, 2, 9}, .kernel = {3}, .strides = {2}},
      {.x = {1, 2, 6, 7}, .kernel = {3, 2}},  // stride 1, overlapping windows
      {.x = {1, 2, 4, 6, 5}, .kernel = {2, 3, 2}, .strides = {2, 1, 2}},
  };
  all.insert(all.end(), inside.begin(), inside.end());
  for (const PoolCase& t : all) {
    SCOPED_TRACE(shape_to_string(t.x) + " k=" + shape_to_string(t.kernel));
    Tensor x = random_tensor(t.x, -1, 1, 23);
    Tensor want = pool_naive(t, x, "max", nullptr);
    for (int threads : {1, 2}) {
      auto out = testing::run_op(OpType::kMaxPool, {in(x)}, attrs_of(t), 1, threads);
      ASSERT_EQ(out[0].shape(), want.shape());
      EXPECT_EQ(testing::max_abs_diff(out[0], want), 0.f);
    }
  }
}

TEST(LinalgPool, AverageAndLp) {
  for (const PoolCase& t : cases()) {
    SCOPED_TRACE(shape_to_string(t.x) + " k=" + shape_to_string(t.kernel));
    Tensor x = random_tensor(t.x, -1, 1, 22);
    auto avg = testing::run_op(OpType::kAveragePool, {in(x)}, attrs_of(t));
    Tensor want = pool_naive(t, x, "avg", nullptr);
    ASSERT_EQ(avg[0].shape(), want.shape());
    EXPECT_LT(testing::max_abs_diff(avg[0], want), 1e-6f);
    auto lp = testing::run_op(OpType::kLpPool, {in(x)}, attrs_of(t), 1, 2);
    EXPECT_LT(testing::max_abs_diff(lp[0], pool_naive(t, x, "lp2", nullptr)), 1e-5f);
  }
}

TEST(LinalgPool, StorageOrderAndUint8) {
  // 5x5 ramp, 2x2 stride 2 (test_maxpool_with_argmax_2d_precomputed_strides).
  Tensor x(DType::kFloat32, {1, 1, 5, 5});
  for (int i = 0; i < 25; ++i) x.data_as<float>()[i] = float(i + 1);
  auto out = testing::run_op(OpType::kMaxPool, {in(x)},
                             {{"kernel_shape", attr_ints({2, 2})},
                              {"strides", attr_ints({2, 2})},
                              {"storage_order", attr_int(1)}},
                             2);
  const std::vector<int64_t> want = {6, 16, 8, 18};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out[1].data_as<int64_t>()[i], want[i]);
  Tensor u(DType::kUInt8, {1, 1, 2, 3});
  for (int i = 0; i < 6; ++i) u.data_as<uint8_t>()[i] = uint8_t(250 - 40 * i + 60 * (i == 4));
  auto uo = testing::run_op(OpType::kMaxPool, {in(u)}, {{"kernel_shape", attr_ints({2, 2})}});
  EXPECT_EQ(uo[0].dtype(), DType::kUInt8);
  EXPECT_EQ(uo[0].data_as<uint8_t>()[0], 250);
  EXPECT_EQ(uo[0].data_as<uint8_t>()[1], 210);
}

TEST(LinalgPool, Global) {
  Tensor x = random_tensor({2, 3, 5, 7}, -1, 1, 23);
  auto avg = testing::run_op(OpType::kGlobalAveragePool, {in(x)}, {});
  auto mx = testing::run_op(OpType::kGlobalMaxPool, {in(x)}, {}, 1, 2);
  ASSERT_EQ(avg[0].shape(), (Shape{2, 3, 1, 1}));
  for (int p = 0; p < 6; ++p) {
    double s = 0;
    float m = -INFINITY;
    for (int i = 0; i < 35; ++i)
      s += x.data_as<float>()[p * 35 + i], m = std::max(m, x.data_as<float>()[p * 35 + i]);
    EXPECT_NEAR(avg[0].data_as<float>()[p], s / 35, 1e-6);
    EXPECT_EQ(mx[0].data_as<float>()[p], m);
  }
}

TEST(LinalgPool, Errors) {
  Tensor x = random_tensor({1, 1, 4, 4});
  EXPECT_THROW(testing::run_op(OpType::kMaxPool, {in(x)}, {}), Error);  // no kernel_shape
  EXPECT_THROW(testing::run_op(OpType::kMaxPool, {in(x)}, {{"kernel_shape", attr_ints({2})}}),
               Error);
  EXPECT_THROW(testing::run_op(OpType::kAveragePool, {in(x)},
                               {{"kernel_shape", attr_ints({2, 2})}, {"pads", attr_ints({1, 1})}}),
               Error);
  EXPECT_THROW(
      testing::run_op(OpType::kMaxPool, {in(x)},
                      {{"kernel_shape", attr_ints({2, 2})}, {"storage_order", attr_int(2)}}),
      Error);
  EXPECT_THROW(testing::run_op(OpType::kGlobalMaxPool, {in(random_tensor({3, 4}))}, {}), Error);
}

}  // namespace
}  // namespace softdpu
