#include <cmath>
#include <limits>

#include "kernels/elementwise/ew_test_util.h"

namespace softdpu::testing::ew {
namespace {

using ir::OpType;

TEST(ElementwiseUnary, ExpMatchesLibmOnEveryIsaAndLength) {
  for (int64_t n : kOddLengths) {
    check_unary_f32(
        OpType::kExp, sweep(n, -90.f, 89.f, n > 5),
        [](double x) { return static_cast<float>(std::exp(x)); }, 3e-7, 1e-44);
  }
  // Subnormal results and overflow.
  check_unary_f32(
      OpType::kExp, {-100.f, -87.5f, -103.f, 88.7f, 88.8f, 200.f},
      [](double x) { return static_cast<float>(std::exp(x)); }, 1e-6, 1e-44);
}

TEST(ElementwiseUnary, ErfMatchesLibm) {
  for (int64_t n : kOddLengths) {
    check_unary_f32(
        OpType::kErf, sweep(n, -5.f, 5.f, n > 5), [](double x) { return std::erf(x); }, 1e-6, 5e-7);
  }
  check_unary_f32(
      OpType::kErf, {1e-30f, -1e-20f, 1e-8f, 1e-3f}, [](double x) { return std::erf(x); }, 1e-6, 0);
}

TEST(ElementwiseUnary, SimpleFloatOps) {
  const std::vector<float> x = sweep(33, -7.3f, 6.1f, true);
  check_unary_f32(
      OpType::kAbs, x, [](double v) { return std::fabs(v); }, 0, 0);
  check_unary_f32(
      OpType::kNeg, x, [](double v) { return -v; }, 0, 0);
  check_unary_f32(
      OpType::kCeil, x, [](double v) { return std::ceil(v); }, 0, 0);
  check_unary_f32(
      OpType::kFloor, x, [](double v) { return std::floor(v); }, 0, 0);
  check_unary_f32(
      OpType::kReciprocal, x, [](double v) { return static_cast<float>(1.0 / v); }, 0, 0);
  check_unary_f32(
      OpType::kSqrt, x, [](double v) { return static_cast<float>(std::sqrt(v)); }, 0, 0);
  check_unary_f32(
      OpType::kLog, x, [](double v) { return std::log(v); }, 1e-6, 0);
  check_unary_f32(
      OpType::kSign, x,
      [](double v) { return std::isnan(v) ? v : (v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0)); }, 0, 0);
}

TEST(ElementwiseUnary, RoundHalvesToEven) {
  std::vector<float> x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4f, 2.6f, -2.6f, 1e9f, kNaN};
  check_unary_f32(
      OpType::kRound, x, [](double v) { return std::nearbyint(v); }, 0, 0);
  Tensor y = run_op(OpType::kRound, {in(ftensor({0.5f, 2.5f}))}, {})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{0.f, 2.f}));
}

TEST(ElementwiseUnary, TrigAndHyperbolic) {
  const std::vector<float> x = sweep(7, -0.9f, 0.9f);
  check_unary_f32(
      OpType::kSin, x, [](double v) { return std::sin(v); }, 1e-6, 1e-7);
  check_unary_f32(
      OpType::kCos, x, [](double v) { return std::cos(v); }, 1e-6, 1e-7);
  check_unary_f32(
      OpType::kTan, x, [](double v) { return std::tan(v); }, 1e-6, 1e-7);
  check_unary_f32(
      OpType::kAsin, x, [](double v) { return std::asin(v); }, 1e-6, 1e-7);
  check_unary_f32(
      OpType::kAcos, x, [](double v) { return std::acos(v); }, 1e-6, 1e-7);
  check_unary_f32(
      OpType::kAtan, x, [](double v) { return std::atan(v); }, 1e-6, 1e-7);
  check_unary_f32(
      OpType::kSinh, x, [](double v) { return std::sinh(v); }, 1e-6, 1e-7);
  check_unary_f32(
      OpType::kCosh, x, [](double v) { return std::cosh(v); }, 1e-6, 1e-7);
  check_unary_f32(
      OpType::kAsinh, x, [](double v) { return std::asinh(v); }, 1e-6, 1e-7);
  check_unary_f32(
      OpType::kAtanh, x, [](double v) { return std::atanh(v); }, 1e-6, 1e-7);
  check_unary_f32(
      OpType::kAcosh, sweep(7, 1.f, 9.f), [](double v) { return std::acosh(v); }, 1e-6, 1e-7);
}

TEST(ElementwiseUnary, IntegerAbsNegSignWrap) {
  const int32_t kMin = std::numeric_limits<int32_t>::min();
  Tensor x = make_tensor<int32_t>({5}, {-3, 0, 7, kMin, -1});
  EXPECT_EQ(values<int32_t>(run_op(OpType::kAbs, {in(x)}, {})[0]),
            (std::vector<int32_t>{3, 0, 7, kMin, 1}));
  EXPECT_EQ(values<int32_t>(run_op(OpType::kNeg, {in(x)}, {})[0]),
            (std::vector<int32_t>{3, 0, -7, kMin, 1}));
  EXPECT_EQ(values<int32_t>(run_op(OpType::kSign, {in(x)}, {})[0]),
            (std::vector<int32_t>{-1, 0, 1, -1, -1}));
  Tensor u = make_tensor<uint8_t>({3}, {0, 5, 255});
  EXPECT_EQ(values<uint8_t>(run_op(OpType::kSign, {in(u)}, {})[0]),
            (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(values<uint8_t>(run_op(OpType::kAbs, {in(u)}, {})[0]),
            (std::vector<uint8_t>{0, 5, 255}));
}

TEST(ElementwiseUnary, DoubleUsesLibm) {
  Tensor x = make_tensor<double>({3}, {-1.25, 0.0, 3.5});
  std::vector<double> y = values<double>(run_op(OpType::kExp, {in(x)}, {})[0]);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(y[i], std::exp(x.data_as<double>()[i]));
  y = values<double>(run_op(OpType::kErf, {in(x)}, {})[0]);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(y[i], std::erf(x.data_as<double>()[i]));
}

TEST(ElementwiseUnary, IsNaNAndIsInf) {
  Tensor x = ftensor({kNaN, kInf, -kInf, 0.f, 1e38f, -2.f});
  EXPECT_EQ(values<bool>(run_op(OpType::kIsNaN, {in(x)}, {})[0]),
            (std::vector<bool>{true, false, false, false, false, false}));
  EXPECT_EQ(values<bool>(run_op(OpType::kIsInf, {in(x)}, {})[0]),
            (std::vector<bool>{false, true, true, false, false, false}));
  EXPECT_EQ(values<bool>(run_op(OpType::kIsInf, {in(x)}, {{"detect_negative", attr_int(0)}})[0]),
            (std::vector<bool>{false, true, false, false, false, false}));
  EXPECT_EQ(values<bool>(run_op(OpType::kIsInf, {in(x)}, {{"detect_positive", attr_int(0)}})[0]),
            (std::vector<bool>{false, false, true, false, false, false}));
  Tensor d = make_tensor<double>({2}, {std::numeric_limits<double>::infinity(), 1.0});
  EXPECT_EQ(values<bool>(run_op(OpType::kIsInf, {in(d)}, {})[0]), (std::vector<bool>{true, false}));
}

TEST(ElementwiseUnary, ScalarAndEmptyTensors) {
  Tensor s = make_tensor<float>({}, {2.f});
  Tensor y = run_op(OpType::kExp, {in(s)}, {})[0];
  EXPECT_TRUE(y.shape().empty());
  EXPECT_TRUE(near(y.data_as<float>()[0], std::exp(2.0), 1e-6, 0));
  Tensor e(DType::kFloat32, {2, 0, 3});
  EXPECT_EQ(run_op(OpType::kSigmoid, {in(e)}, {})[0].shape(), (Shape{2, 0, 3}));
}

TEST(ElementwiseUnary, ThreadedRunMatchesSingleThread) {
  Tensor x = random_tensor({3, 50000}, -6.f, 6.f, 7);
  Tensor one = run_op(OpType::kExp, {in(x)}, {}, 1, 1)[0];
  Tensor two = run_op(OpType::kExp, {in(x)}, {}, 1, 2)[0];
  EXPECT_EQ(max_abs_diff(one, two), 0.f);
}

TEST(ElementwiseUnary, RejectsUnsupportedTypes) {
  Tensor i = make_tensor<int32_t>({2}, {1, 2});
  expect_error([&] { run_op(OpType::kSqrt, {in(i)}, {}); }, StatusCode::kUnsupported,
               "input 0 ('input0') has type int32, expected float32");
  Tensor u = make_tensor<uint8_t>({2}, {1, 2});
  expect_error([&] { run_op(OpType::kNeg, {in(u)}, {}); }, StatusCode::kUnsupported, "uint8");
  expect_error([&] { run_op(OpType::kAbs, {none()}, {}); }, StatusCode::kInvalidModel,
               "input 0 is required");
}

}  // namespace
}  // namespace softdpu::testing::ew
