// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss against a reference written after the
// ONNX one: every reduction, with and without weights and ignore_index, several ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <random>

#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using ir::OpType;
using testing::attr_int;
using testing::attr_string;
using testing::in;
using testing::none;
using testing::random_tensor;
using testing::run_op;

struct Case {
  Shape shape;  // [N, C, D...]
  bool weight;
  std::optional<int64_t> ignore;
  std::string reduction;
};

// Loss over log-probabilities lp (double, [N, C, D]); returns per-element losses or the scalar.
std::vector<double> nll_ref(const std::vector<double>& lp, const std::vector<int64_t>& target,
                            const Tensor* weight, const Case& c) {
  const int64_t n = c.shape[0], cls = c.shape[1], d = shape_numel(c.shape) / (n * cls);
  std::vector<double> loss;
  double sum = 0, wsum = 0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < d; ++k) {
      const int64_t t = target[i * d + k];
      double w = 0, l = 0;
      if (!(c.ignore && t == *c.ignore)) {
        w = weight ? weight->data_as<float>()[t] : 1.0;
        l = -lp[(i * cls + t) * d + k] * w;
      }
      loss.push_back(l);
      sum += l;
      wsum += w;
    }
  }
  if (c.reduction == "sum") return {sum};
  if (c.reduction == "mean") return {sum / wsum};
  return loss;
}

std::vector<Case> cases() {
  std::vector<Case> v;
  for (const Shape& s : {Shape{3, 5}, Shape{3, 5, 2}, Shape{2, 4, 3, 7}, Shape{1, 19, 33}}) {
    for (bool w : {false, true}) {
      for (std::optional<int64_t> ii : {std::optional<int64_t>{}, std::optional<int64_t>{1},
                                        std::optional<int64_t>{-1}, std::optional<int64_t>{10}}) {
        for (const char* r : {"none", "sum", "mean"}) v.push_back({s, w, ii, r});
      }
    }
  }
  return v;
}

// Targets in [0, C) with some set to the ignore index.
Tensor make_target(const Case& c, uint32_t seed) {
  Shape ts{c.shape[0]};
  ts.insert(ts.end(), c.shape.begin() + 2, c.shape.end());
  Tensor t(DType::kInt64, ts);
  std::mt19937 rng(seed);
  for (int64_t i = 0; i < t.numel(); ++i) {
    int64_t v = static_cast<int64_t>(rng() % c.shape[1]);
    if (c.ignore && rng() % 4 == 0) v = *c.ignore;
    t.data_as<int64_t>()[i] = v;
  }
  return t;
}

std::map<std::string, ir::Attribute> attrs_for(const Case& c) {
  std::map<std::string, ir::Attribute> a{{"reduction", attr_string(c.reduction)}};
  if (c.ignore) a["ignore_index"] = attr_int(*c.ignore);
  return a;
}

void expect_loss(const Tensor& got, const std::vector<double>& want, const Case& c) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size()));
  if (c.reduction != "none") {
    ASSERT_EQ(got.shape(), Shape{});
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i])) {  // mean over nothing but ignored targets: 0 / 0
      ASSERT_TRUE(std::isnan(got.data_as<float>()[i]));
      continue;
    }
    ASSERT_NEAR(got.data_as<float>()[i], want[i], 1e-5 * (1 + std::fabs(want[i])))
        << shape_to_string(c.shape) << " weight " << c.weight << " ignore "
        << (c.ignore ? *c.ignore : 999) << " " << c.reduction << " at " << i;
  }
}

TEST(ReduceLosses, NegativeLogLikelihoodMatchesReference) {
  for (const Case& c : cases()) {
    const Tensor x = random_tensor(c.shape, -3, 0, 1);
    const Tensor t = make_target(c, 2);
    const Tensor w = random_tensor({c.shape[1]}, 0.2f, 2, 3);
    std::vector<double> lp(x.data_as<float>(), x.data_as<float>() + x.numel());
    const std::vector<int64_t> tv(t.data_as<int64_t>(), t.data_as<int64_t>() + t.numel());
    const Tensor y = run_op(OpType::kNegativeLogLikelihoodLoss,
                            {in(x), in(t), c.weight ? in(w) : none()}, attrs_for(c))[0];
    expect_loss(y, nll_ref(lp, tv, c.weight ? &w : nullptr, c), c);
  }
}

TEST(ReduceLosses, SoftmaxCrossEntropyMatchesReferenceWithLogProbOnEveryIsa) {
  for (Isa isa : testing::supported_isas()) {
    ScopedIsa scoped(isa);
    for (const Case& c : cases()) {
      const Tensor x = random_tensor(c.shape, -4, 4, 4);
      const Tensor t = make_target(c, 5);
      const Tensor w = random_tensor({c.shape[1]}, 0.2f, 2, 6);
      // log-softmax over axis 1 in double.
      const int64_t n = c.shape[0], cls = c.shape[1], d = x.numel() / (n * cls);
      std::vector<double> lp(x.numel());
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t k = 0; k < d; ++k) {
          double m = -INFINITY, s = 0;
          for (int64_t j = 0; j < cls; ++j)
            m = std::max<double>(m, x.data_as<float>()[(i * cls + j) * d + k]);
          for (int64_t j = 0; j < cls; ++j)
            s += std::exp(x.data_as<float>()[(i * cls + j) * d + k] - m);
          for (int64_t j = 0; j < cls; ++j) {
            lp[(i * cls + j) * d + k] = x.data_as<float>()[(i * cls + j) * d + k] - m - std::log(s);
          }
        }
      }
      const std::vector<int64_t> tv(t.data_as<int64_t>(), t.data_as<int64_t>() + t.numel());
      const std::vector<double> want = nll_ref(lp, tv, c.weight ? &w : nullptr, c);
      for (int outputs : {1, 2}) {
        const auto y = run_op(OpType::kSoftmaxCrossEntropyLoss,
                              {in(x), in(t), c.weight ? in(w) : none()}, attrs_for(c), outputs);
        expect_loss(y[0], want, c);
        if (outputs == 2) {
          ASSERT_EQ(y[1].shape(), c.shape);
          for (int64_t i = 0; i < x.numel(); ++i) {
            ASSERT_NEAR(y[1].data_as<float>()[i], lp[i], 1e-5 * (1 + std::fabs(lp[i])));
          }
        }
      }
    }
  }
}

TEST(ReduceLosses, Int32TargetsAndFloat64) {
  Tensor x(DType::kFloat64, {2, 3});
  for (int i = 0; i < 6; ++i) x.data_as<double>()[i] = -0.5 * i;
  const Tensor t = testing::make_tensor<int32_t>({2}, {2, 0});
  const Tensor y = run_op(OpType::kNegativeLogLikelihoodLoss, {in(x), in(t)}, {})[0];
  ASSERT_EQ(y.dtype(), DType::kFloat64);
  EXPECT_DOUBLE_EQ(y.data_as<double>()[0], (1.0 + 1.5) / 2);
}

TEST(ReduceLosses, Errors) {
  auto code = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.code();
    }
    return StatusCode::kOk;
  };
  const Tensor x = random_tensor({3, 5, 2});
  const Tensor bad_target(DType::kInt64, {3, 5});
  EXPECT_EQ(code([&] {
              run_op(OpType::kNegativeLogLikelihoodLoss, {in(x), in(bad_target)}, {});
            }),
            StatusCode::kInvalidModel);
  const Tensor t(DType::kInt64, {3, 2});
  EXPECT_EQ(code([&] {
              run_op(OpType::kSoftmaxCrossEntropyLoss, {in(x), in(t)},
                     {{"reduction", attr_string("avg")}});
            }),
            StatusCode::kInvalidModel);
  EXPECT_EQ(code([&] {
              run_op(OpType::kSoftmaxCrossEntropyLoss, {in(x), in(t), in(random_tensor({4}))}, {});
            }),
            StatusCode::kInvalidModel);
  EXPECT_EQ(code([&] {
              run_op(OpType::kNegativeLogLikelihoodLoss, {in(x), in(x)}, {});
            }),
            StatusCode::kUnsupported);
  // A target outside [0, C) gives NaN, never a wild read.
  const Tensor out_of_range = testing::make_tensor<int64_t>({3, 2}, {0, 1, 7, 2, -3, 4});
  const Tensor y = run_op(OpType::kNegativeLogLikelihoodLoss, {in(x), in(out_of_range)},
                          {{"reduction", attr_string("none")}})[0];
  EXPECT_TRUE(std::isnan(y.data_as<float>()[2]));
  EXPECT_TRUE(std::isnan(y.data_as<float>()[4]));
  EXPECT_FALSE(std::isnan(y.data_as<float>()[0]));
}

}  // namespace
}  // namespace softdpu
