// BatchNormalization, InstanceNormalization and LayerNormalization against double references.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using ir::OpType;
using testing::attr_float;
using testing::attr_int;
using testing::in;
using testing::none;
using testing::random_tensor;
using testing::run_op;

StatusCode error_code(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return StatusCode::kOk;
}

double at(const Tensor& t, int64_t i) {
  return t.dtype() == DType::kFloat64 ? t.data_as<double>()[i] : t.data_as<float>()[i];
}

// --- BatchNormalization

std::vector<double> batchnorm_ref(const Tensor& x, const Tensor& s, const Tensor& b,
                                  const Tensor& mean, const Tensor& var, double eps) {
  const int64_t c = x.shape()[1], hw = x.numel() / (x.shape()[0] * c);
  std::vector<double> y(x.numel());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t ch = (i / hw) % c;
    y[i] = at(s, ch) * (at(x, i) - at(mean, ch)) / std::sqrt(at(var, ch) + eps) + at(b, ch);
  }
  return y;
}

TEST(ReduceBatchNorm, InferenceConstantAndRuntimeParamsEveryIsa) {
  for (const Shape& shape : {Shape{2, 3, 4, 5}, Shape{1, 16, 37}, Shape{4, 7}, Shape{1, 5, 1, 1}}) {
    const int64_t c = shape[1];
    const Tensor x = random_tensor(shape, -2, 2, 1);
    const Tensor s = random_tensor({c}, 0.5, 1.5, 2), b = random_tensor({c}, -1, 1, 3);
    const Tensor mean = random_tensor({c}, -1, 1, 4), var = random_tensor({c}, 0.1f, 2, 5);
    const std::vector<double> want = batchnorm_ref(x, s, b, mean, var, 1e-3);
    for (Isa isa : testing::supported_isas()) {
      ScopedIsa scoped(isa);
      for (bool constant : {true, false}) {
        for (int threads : {1, 2}) {
          const Tensor y = run_op(
              OpType::kBatchNormalization,
              {in(x), in(s, constant), in(b, constant), in(mean, constant), in(var, constant)},
              {{"epsilon", attr_float(1e-3f)}}, 1, threads, 15)[0];
          ASSERT_EQ(y.shape(), shape);
          for (int64_t i = 0; i < y.numel(); ++i) {
            ASSERT_NEAR(at(y, i), want[i], 1e-5 * (1 + std::fabs(want[i])))
                << shape_to_string(shape) << " " << isa_name(isa) << " const " << constant;
          }
        }
      }
    }
  }
}

TEST(ReduceBatchNorm, Float64InputWithFloat32MeanVar) {
  Tensor x(DType::kFloat64, {1, 2, 3});
  for (int i = 0; i < 6; ++i) x.data_as<double>()[i] = i - 2.5;
  Tensor s(DType::kFloat64, {2}), b(DType::kFloat64, {2});
  s.data_as<double>()[0] = 2;
  s.data_as<double>()[1] = 0.5;
  b.data_as<double>()[1] = 1;
  const Tensor mean = testing::make_tensor<float>({2}, {0.5f, -1});
  const Tensor var = testing::make_tensor<float>({2}, {4, 1});
  const Tensor y = run_op(OpType::kBatchNormalization, {in(x), in(s), in(b), in(mean), in(var)},
                          {{"epsilon", attr_float(0)}}, 1, 1, 15)[0];
  ASSERT_EQ(y.dtype(), DType::kFloat64);
  const std::vector<double> want = batchnorm_ref(x, s, b, mean, var, 0);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(y.data_as<double>()[i], want[i], 1e-12);
}

TEST(ReduceBatchNorm, TrainingModeUsesBatchStatisticsAndUpdatesRunningOnes) {
  const Tensor x = random_tensor({2, 3, 4, 5}, -2, 2, 6);
  const Tensor s = random_tensor({3}, 0.5, 1.5, 7), b = random_tensor({3}, -1, 1, 8);
  const Tensor mean = random_tensor({3}, -1, 1, 9), var = random_tensor({3}, 0.1f, 2, 10);
  const auto out =
      run_op(OpType::kBatchNormalization, {in(x), in(s), in(b), in(mean), in(var)},
             {{"training_mode", attr_int(1)}, {"momentum", attr_float(0.8f)}}, 3, 1, 15);
  for (int64_t ch = 0; ch < 3; ++ch) {
    double sum = 0, sq = 0;
    for (int64_t n = 0; n < 2; ++n) {
      for (int64_t k = 0; k < 20; ++k) sum += at(x, (n * 3 + ch) * 20 + k);
    }
    const double m = sum / 40;
    for (int64_t n = 0; n < 2; ++n) {
      for (int64_t k = 0; k < 20; ++k) sq += std::pow(at(x, (n * 3 + ch) * 20 + k) - m, 2);
    }
    const double v = sq / 40;
    EXPECT_NEAR(at(out[1], ch), at(mean, ch) * 0.8 + m * 0.2, 1e-6);
    EXPECT_NEAR(at(out[2], ch), at(var, ch) * 0.8 + v * 0.2, 1e-6);
    for (int64_t n = 0; n < 2; ++n) {
      for (int64_t k = 0; k < 20; ++k) {
        const int64_t i = (n * 3 + ch) * 20 + k;
        const double want = at(s, ch) * (at(x, i) - m) / std::sqrt(v + 1e-5) + at(b, ch);
        EXPECT_NEAR(at(out[0], i), want, 1e-5);
      }
    }
  }
}

TEST(ReduceBatchNorm, Errors) {
  const Tensor x = random_tensor({2, 3, 4});
  const Tensor p = random_tensor({3});
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kBatchNormalization,
                     {in(x), in(random_tensor({4})), in(p), in(p), in(p)}, {});
            }),
            StatusCode::kInvalidModel);
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kBatchNormalization,
                     {in(random_tensor({3})), in(p), in(p), in(p), in(p)}, {});
            }),
            StatusCode::kInvalidModel);
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kBatchNormalization, {in(x), in(p), in(p), in(p), in(p)},
                     {{"spatial", attr_int(0)}}, 1, 1, 7);
            }),
            StatusCode::kUnsupported);
  // Statistics outputs without training_mode (opset < 14 training graphs).
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kBatchNormalization, {in(x), in(p), in(p), in(p), in(p)}, {}, 3, 1, 9);
            }),
            StatusCode::kUnsupported);
}

// --- InstanceNormalization

TEST(ReduceInstanceNorm, MatchesReferenceEveryIsa) {
  for (const Shape& shape : {Shape{2, 3, 4, 5}, Shape{1, 4, 1003}, Shape{1, 2, 1, 3}}) {
    const int64_t c = shape[1], hw = shape_numel(shape) / (shape[0] * c);
    const Tensor x = random_tensor(shape, -2, 3, 11);
    const Tensor s = random_tensor({c}, 0.5, 1.5, 12), b = random_tensor({c}, -1, 1, 13);
    for (Isa isa : testing::supported_isas()) {
      ScopedIsa scoped(isa);
      const Tensor y = run_op(OpType::kInstanceNormalization, {in(x), in(s), in(b)},
                              {{"epsilon", attr_float(1e-2f)}}, 1, 2)[0];
      for (int64_t p = 0; p < shape[0] * c; ++p) {
        double sum = 0, sq = 0;
        for (int64_t k = 0; k < hw; ++k) sum += at(x, p * hw + k);
        const double m = sum / hw;
        for (int64_t k = 0; k < hw; ++k) sq += std::pow(at(x, p * hw + k) - m, 2);
        const double inv = 1 / std::sqrt(sq / hw + 1e-2);
        for (int64_t k = 0; k < hw; ++k) {
          const double want = (at(x, p * hw + k) - m) * inv * at(s, p % c) + at(b, p % c);
          ASSERT_NEAR(at(y, p * hw + k), want, 1e-5) << shape_to_string(shape) << isa_name(isa);
        }
      }
    }
  }
}

// --- LayerNormalization

struct LayerNormRef {
  std::vector<double> y, mean, inv;
};

LayerNormRef layernorm_ref(const Tensor& x, const Tensor& w, const Tensor* b, int axis,
                           double eps) {
  const Shape& s = x.shape();
  if (axis < 0) axis += static_cast<int>(s.size());
  int64_t n = 1;
  for (size_t d = axis; d < s.size(); ++d) n *= s[d];
  LayerNormRef r;
  r.y.resize(x.numel());
  for (int64_t o = 0; o < x.numel() / n; ++o) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i) sum += at(x, o * n + i);
    const double m = sum / n;
    for (int64_t i = 0; i < n; ++i) sq += std::pow(at(x, o * n + i) - m, 2);
    const double inv = 1 / std::sqrt(sq / n + eps);
    for (int64_t i = 0; i < n; ++i) {
      r.y[o * n + i] =
          (at(x, o * n + i) - m) * inv * at(w, i % w.numel()) + (b ? at(*b, i % b->numel()) : 0.0);
    }
    r.mean.push_back(m);
    r.inv.push_back(inv);
  }
  return r;
}

TEST(ReduceLayerNorm, EveryAxisWithStatisticsOutputs) {
  const Shape shape{2, 3, 4, 5};
  const Tensor x = random_tensor(shape, -2, 2, 14);
  for (int axis = -4; axis < 4; ++axis) {
    const int a = axis < 0 ? axis + 4 : axis;
    const Shape norm(shape.begin() + a, shape.end());
    const Tensor w = random_tensor(norm, 0.5, 1.5, 15), b = random_tensor(norm, -1, 1, 16);
    const auto out = run_op(OpType::kLayerNormalization, {in(x), in(w), in(b)},
                            {{"axis", attr_int(axis)}, {"epsilon", attr_float(1e-3f)}}, 3);
    const LayerNormRef want = layernorm_ref(x, w, &b, axis, 1e-3);
    Shape stats(shape.begin(), shape.begin() + a);
    stats.resize(4, 1);
    ASSERT_EQ(out[1].shape(), stats);
    ASSERT_EQ(out[2].dtype(), DType::kFloat32);
    for (int64_t i = 0; i < x.numel(); ++i) ASSERT_NEAR(at(out[0], i), want.y[i], 1e-5) << axis;
    for (size_t o = 0; o < want.mean.size(); ++o) {
      EXPECT_NEAR(at(out[1], o), want.mean[o], 1e-6) << axis;
      EXPECT_NEAR(at(out[2], o), want.inv[o], 1e-5 * want.inv[o]) << axis;
    }
  }
}

TEST(ReduceLayerNorm, LastAxisRowsOnEveryIsaWithBroadcastParams) {
  for (Isa isa : testing::supported_isas()) {
    ScopedIsa scoped(isa);
    for (int64_t n : {1, 5, 8, 17, 64, 768, 1003}) {
      const Tensor x = random_tensor({33, n}, -3, 5, 17);
      const Tensor w = random_tensor({n}, 0.5, 1.5, 18), b = random_tensor({n}, -1, 1, 19);
      const LayerNormRef want = layernorm_ref(x, w, &b, -1, 1e-5);
      const Tensor y = run_op(OpType::kLayerNormalization, {in(x), in(w), in(b)}, {}, 1, 2)[0];
      for (int64_t i = 0; i < x.numel(); ++i) {
        ASSERT_NEAR(at(y, i), want.y[i], 2e-5) << n << " " << isa_name(isa);
      }
      // No bias.
      const Tensor y2 = run_op(OpType::kLayerNormalization, {in(x), in(w), none()}, {})[0];
      const LayerNormRef want2 = layernorm_ref(x, w, nullptr, -1, 1e-5);
      for (int64_t i = 0; i < x.numel(); ++i) ASSERT_NEAR(at(y2, i), want2.y[i], 2e-5);
    }
    // Scale [5] and bias [1, 5] repeat over a [4, 5] normalised shape (axis 1 of [3, 4, 5]).
    const Tensor x = random_tensor({3, 4, 5}, -1, 1, 20);
    const Tensor w = random_tensor({5}, 0.5, 1.5, 21), b = random_tensor({1, 5}, -1, 1, 22);
    const LayerNormRef want = layernorm_ref(x, w, &b, 1, 1e-5);
    const Tensor y =
        run_op(OpType::kLayerNormalization, {in(x), in(w), in(b)}, {{"axis", attr_int(1)}})[0];
    for (int64_t i = 0; i < x.numel(); ++i) ASSERT_NEAR(at(y, i), want.y[i], 1e-5);
  }
}

TEST(ReduceLayerNorm, Float64) {
  Tensor x(DType::kFloat64, {2, 3}), w(DType::kFloat64, {3});
  for (int i = 0; i < 6; ++i) x.data_as<double>()[i] = i * i;
  for (int i = 0; i < 3; ++i) w.data_as<double>()[i] = 1 + i;
  const auto out = run_op(OpType::kLayerNormalization, {in(x), in(w)}, {}, 2);
  const LayerNormRef want = layernorm_ref(x, w, nullptr, -1, 1e-5);
  ASSERT_EQ(out[0].dtype(), DType::kFloat64);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(out[0].data_as<double>()[i], want.y[i], 1e-12);
  EXPECT_NEAR(out[1].data_as<float>()[1], want.mean[1], 1e-5);
}

TEST(ReduceLayerNorm, Errors) {
  const Tensor x = random_tensor({2, 3, 4});
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kLayerNormalization, {in(x), in(random_tensor({3}))}, {});
            }),
            StatusCode::kUnsupported);  // [3] is no suffix of [4]
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kLayerNormalization, {in(x), in(random_tensor({4}))},
                     {{"axis", attr_int(3)}});
            }),
            StatusCode::kInvalidModel);
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kLayerNormalization, {in(x), in(random_tensor({4}))},
                     {{"stash_type", attr_int(11)}});
            }),
            StatusCode::kUnsupported);
  EXPECT_EQ(error_code([&] { run_op(OpType::kLayerNormalization, {in(x)}, {}); }),
            StatusCode::kInvalidModel);  // Scale is required
}

}  // namespace
}  // namespace softdpu
