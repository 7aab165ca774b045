#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <tuple>

#include "kernels/activation.h"
#include "kernels/elementwise/ew_test_util.h"
#include "kernels/elementwise/vector_math.h"

namespace softdpu::testing::ew {
namespace {

using ir::OpType;

double sigmoid_ref(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

TEST(ElementwiseActivation, SigmoidTanhOnEveryIsaAndLength) {
  for (int64_t n : kOddLengths) {
    std::vector<float> x = sweep(n, -40.f, 40.f, n > 5);
    check_unary_f32(OpType::kSigmoid, x, sigmoid_ref, 3e-7, 1e-40);
    check_unary_f32(
        OpType::kTanh, x, [](double v) { return std::tanh(v); }, 3e-7, 0);
  }
  // Small arguments, where tanh switches from its polynomial to the exp form.
  check_unary_f32(
      OpType::kTanh, {1e-30f, -1e-6f, 0.6249f, 0.6251f, -0.625f, 9.f},
      [](double v) { return std::tanh(v); }, 3e-7, 0);
}

TEST(ElementwiseActivation, ReluFamily) {
  std::vector<float> x = sweep(33, -3.f, 3.f, true);
  check_unary_f32(
      OpType::kRelu, x, [](double v) { return std::isnan(v) ? v : (v < 0 ? 0 : v); }, 0, 0);
  check_unary_f32(OpType::kLeakyRelu, x,
                  [](double v) { return v < 0 ? float(0.1f * float(v)) : v; }, 0, 0,
                  {{"alpha", attr_float(0.1f)}});
  check_unary_f32(
      OpType::kLeakyRelu, x, [](double v) { return v < 0 ? float(0.01f * float(v)) : v; }, 0, 0);
  check_unary_f32(OpType::kThresholdedRelu, x, [](double v) { return v > 2.0 ? v : 0; }, 0, 0,
                  {{"alpha", attr_float(2.f)}});
  check_unary_f32(
      OpType::kThresholdedRelu, x, [](double v) { return v > 1.0 ? v : 0; }, 0, 0);
  Tensor i = make_tensor<int8_t>({4}, {-128, -1, 0, 127});
  EXPECT_EQ(values<int8_t>(run_op(OpType::kRelu, {in(i)}, {})[0]),
            (std::vector<int8_t>{0, 0, 0, 127}));
}

TEST(ElementwiseActivation, ExpBasedActivations) {
  std::vector<float> x = sweep(1000, -20.f, 20.f);
  for (float v : {-1e-4f, -1e-7f, 1e-6f, 0.f}) x.push_back(v);
  // ELU/SELU/CELU use expm1, so they are accurate relative to the value even near 0.
  check_unary_f32(OpType::kElu, x, [](double v) { return v < 0 ? 2.0 * std::expm1(v) : v; }, 5e-7,
                  0, {{"alpha", attr_float(2.f)}});
  const double a = 1.67326319217681884765625, g = 1.05070102214813232421875;
  check_unary_f32(
      OpType::kSelu, x, [&](double v) { return v > 0 ? g * v : g * a * std::expm1(v); }, 5e-7, 0);
  check_unary_f32(
      OpType::kCelu, x,
      [](double v) { return std::max(0.0, v) + std::min(0.0, 2.0 * std::expm1(v / 2.0)); }, 5e-7, 0,
      {{"alpha", attr_float(2.f)}});
  check_unary_f32(
      OpType::kSoftplus, x, [](double v) { return std::log1p(std::exp(v)); }, 1e-6, 0);
  check_unary_f32(
      OpType::kSoftplus, {100.f, -100.f}, [](double v) { return std::log1p(std::exp(v)); }, 1e-6,
      1e-44);
}

TEST(ElementwiseActivation, HardActivationsAndSoftsign) {
  std::vector<float> x = sweep(33, -5.f, 5.f);
  check_unary_f32(OpType::kHardSigmoid, x,
                  [](double v) { return std::clamp(0.5 * v + 0.6, 0.0, 1.0); }, 1e-6, 1e-7,
                  {{"alpha", attr_float(0.5f)}, {"beta", attr_float(0.6f)}});
  check_unary_f32(
      OpType::kHardSigmoid, x, [](double v) { return std::clamp(0.2 * v + 0.5, 0.0, 1.0); }, 1e-6,
      1e-7);
  check_unary_f32(
      OpType::kHardSwish, x, [](double v) { return v * std::clamp(v / 6.0 + 0.5, 0.0, 1.0); }, 1e-6,
      1e-7);
  check_unary_f32(
      OpType::kSoftsign, x, [](double v) { return v / (1.0 + std::fabs(v)); }, 1e-6, 0);
}

TEST(ElementwiseActivation, Shrink) {
  std::vector<float> x = {-2.f, -1.f, 0.f, 1.f, 2.f, 1.5f, -1.5f};
  check_unary_f32(OpType::kShrink, x, [](double v) { return v < -1.5 ? v : (v > 1.5 ? v : 0); }, 0,
                  0, {{"lambd", attr_float(1.5f)}});
  check_unary_f32(OpType::kShrink, x,
                  [](double v) { return v < -1.5 ? v + 1.5 : (v > 1.5 ? v - 1.5 : 0); }, 0, 0,
                  {{"lambd", attr_float(1.5f)}, {"bias", attr_float(1.5f)}});
  Tensor i = make_tensor<int32_t>({5}, {-3, -1, 0, 1, 3});
  EXPECT_EQ(values<int32_t>(run_op(OpType::kShrink, {in(i)},
                                   {{"lambd", attr_float(1.f)}, {"bias", attr_float(1.f)}})[0]),
            (std::vector<int32_t>{-2, 0, 0, 0, 2}));
}

TEST(ElementwiseActivation, Gelu) {
  std::vector<float> x = sweep(1000, -6.f, 6.f);
  check_unary_f32(
      OpType::kGelu, x, [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }, 1e-5,
      1e-6);
  check_unary_f32(OpType::kGelu, x,
                  [](double v) {
                    return 0.5 * v *
                           (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
                  },
                  1e-5, 1e-7, {{"approximate", attr_string("tanh")}});
  expect_error(
      [&] {
        run_op(OpType::kGelu, {in(ftensor(x))}, {{"approximate", attr_string("fast")}});
      },
      StatusCode::kInvalidModel, "'approximate' is 'fast'");
}

TEST(ElementwiseActivation, ClipWithRunTimeAndOmittedBounds) {
  Tensor x = ftensor({-3.f, -1.f, 0.f, 0.5f, 2.f, kNaN});
  Tensor lo = make_tensor<float>({}, {-1.f}), hi = make_tensor<float>({}, {1.f});
  EXPECT_EQ(values<float>(run_op(OpType::kClip, {in(x), in(lo), in(hi)}, {})[0])[4], 1.f);
  std::vector<float> y = values<float>(run_op(OpType::kClip, {in(x), in(lo), in(hi)}, {})[0]);
  EXPECT_EQ(std::vector<float>(y.begin(), y.end() - 1),
            (std::vector<float>{-1.f, -1.f, 0.f, 0.5f, 1.f}));
  EXPECT_TRUE(std::isnan(y.back()));
  y = values<float>(run_op(OpType::kClip, {in(x), none(), in(hi)}, {})[0]);
  EXPECT_EQ(y[0], -3.f);
  EXPECT_EQ(y[4], 1.f);
  y = values<float>(run_op(OpType::kClip, {in(x), in(lo, true)}, {})[0]);
  EXPECT_EQ(y[0], -1.f);
  EXPECT_EQ(y[4], 2.f);
  // min > max: everything becomes max.
  y = values<float>(run_op(OpType::kClip, {in(x), in(hi), in(lo)}, {})[0]);
  EXPECT_EQ(y[0], -1.f);
  EXPECT_EQ(y[3], -1.f);
  // Integer data and the float-attribute form of Clip-6.
  Tensor i = make_tensor<int8_t>({4}, {-128, -5, 5, 127});
  Tensor ilo = make_tensor<int8_t>({}, {-4}), ihi = make_tensor<int8_t>({1}, {4});
  EXPECT_EQ(values<int8_t>(run_op(OpType::kClip, {in(i), in(ilo), in(ihi)}, {})[0]),
            (std::vector<int8_t>{-4, -4, 4, 4}));
  EXPECT_EQ(values<int8_t>(run_op(OpType::kClip, {in(i)}, {})[0]), values<int8_t>(i));
  y = values<float>(run_op(OpType::kClip, {in(x)},
                           {{"min", attr_float(0.f)}, {"max", attr_float(1.f)}}, 1, 1, 6)[0]);
  EXPECT_EQ(y[0], 0.f);
  EXPECT_EQ(y[4], 1.f);
  expect_error(
      [&] {
        run_op(OpType::kClip, {in(x), in(ftensor({1.f, 2.f}))}, {});
      },
      StatusCode::kInvalidModel, "'min' must be a scalar");
  expect_error(
      [&] {
        run_op(OpType::kClip, {in(x), in(ilo)}, {});
      },
      StatusCode::kInvalidModel, "'min' has type int8");
}

TEST(ElementwiseActivation, Float16ComputesInFloat) {
  // 1.0, -2.0, 0.5 as IEEE half bits.
  Tensor h(DType::kFloat16, {3});
  uint16_t* p = h.data_as<uint16_t>();
  p[0] = 0x3c00;
  p[1] = 0xc000;
  p[2] = 0x3800;
  Tensor y = run_op(OpType::kRelu, {in(h)}, {})[0];
  ASSERT_EQ(y.dtype(), DType::kFloat16);
  EXPECT_EQ(y.data_as<uint16_t>()[0], 0x3c00);
  EXPECT_EQ(y.data_as<uint16_t>()[1], 0x0000);
  EXPECT_EQ(y.data_as<uint16_t>()[2], 0x3800);
  y = run_op(OpType::kSigmoid, {in(h)}, {})[0];
  EXPECT_EQ(y.data_as<uint16_t>()[0], 0x39d9);  // sigmoid(1) = 0.7310586 -> half 0.731
}

TEST(ElementwiseActivation, VectorMathInPlaceMatchesOutOfPlace) {
  for (Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    for (int64_t n : kOddLengths) {
      std::vector<float> x = sweep(n, -9.f, 9.f), y(n), z = x;
      kernels::vec_sigmoid(x.data(), y.data(), n);
      kernels::vec_sigmoid(z.data(), z.data(), n);
      EXPECT_EQ(y, z) << isa_name(isa);
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_TRUE(near(y[i], sigmoid_ref(x[i]), 3e-7, 0));
        EXPECT_TRUE(near(kernels::sigmoid_scalar(x[i]), sigmoid_ref(x[i]), 3e-7, 0));
      }
    }
  }
}

TEST(ElementwiseActivation, FusedActivationInPlace) {
  using kernels::Activation;
  using kernels::ActKind;
  std::vector<float> base = sweep(33, -4.f, 4.f);
  for (Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    for (const auto& [kind, alpha, beta] :
         std::vector<std::tuple<ActKind, float, float>>{{ActKind::kRelu, 0, 0},
                                                        {ActKind::kLeakyRelu, 0.2f, 0},
                                                        {ActKind::kSigmoid, 0, 0},
                                                        {ActKind::kTanh, 0, 0},
                                                        {ActKind::kClip, -1.f, 2.f},
                                                        {ActKind::kNone, 0, 0}}) {
      Activation a{kind, alpha, beta};
      std::vector<float> x = base;
      kernels::apply_activation_inplace(a, x.data(), static_cast<int64_t>(x.size()));
      for (size_t i = 0; i < x.size(); ++i) {
        double v = base[i], want = v;
        if (kind == ActKind::kRelu) want = std::max(v, 0.0);
        if (kind == ActKind::kLeakyRelu) want = v < 0 ? float(alpha * base[i]) : v;
        if (kind == ActKind::kSigmoid) want = sigmoid_ref(v);
        if (kind == ActKind::kTanh) want = std::tanh(v);
        if (kind == ActKind::kClip) want = std::clamp(v, -1.0, 2.0);
        EXPECT_TRUE(near(x[i], want, 3e-7, 0)) << static_cast<int>(kind) << " at " << v;
      }
    }
  }
}

}  // namespace
}  // namespace softdpu::testing::ew

namespace softdpu::testing::ew {
namespace {

int64_t ulp_distance(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : INT64_MAX;
  auto ordered = [](float f) {
    int32_t i;
    std::memcpy(&i, &f, 4);
    return i < 0 ? int64_t{INT32_MIN} - i : int64_t{i};
  };
  return std::llabs(ordered(a) - ordered(b));
}

// The AVX2 / AVX-512 paths use FMA where the scalar twin cannot; they must stay within a named
// error budget of the twin (the oracle the other paths are held to): a few ulp for the functions
// computed to near full precision, an absolute bound for erf (whose approximation is accurate to
// 4.3e-7 absolute, i.e. several ulp just below 1) and for Gelu, which scales erf's error by x.
TEST(ElementwiseActivation, FastPathsStayWithinBudgetOfTheScalarTwin) {
  struct Budget {
    OpType op;
    int64_t ulps;
    double abs_per_x;
  };
  const std::vector<float> x = sweep(1000, -30.f, 30.f, true);
  for (const Budget& b : std::vector<Budget>{{OpType::kExp, 4, 0},
                                             {OpType::kSigmoid, 4, 0},
                                             {OpType::kTanh, 4, 0},
                                             {OpType::kElu, 4, 0},
                                             {OpType::kSelu, 4, 0},
                                             {OpType::kErf, 0, 1e-6},
                                             {OpType::kGelu, 0, 1e-6}}) {
    Tensor twin;
    {
      ScopedIsa scalar(Isa::kScalar);
      twin = run_op(b.op, {in(ftensor(x))}, {})[0];
    }
    for (Isa isa : supported_isas()) {
      ScopedIsa scoped(isa);
      Tensor y = run_op(b.op, {in(ftensor(x))}, {})[0];
      for (size_t i = 0; i < x.size(); ++i) {
        float got = y.data_as<float>()[i], want = twin.data_as<float>()[i];
        if (b.ulps > 0) {
          if (std::fabs(want) < 1e-30f && std::fabs(got) < 1e-30f) continue;  // subnormal tails
          EXPECT_LE(ulp_distance(got, want), b.ulps)
              << ir::op_name(b.op) << "(" << x[i] << ") " << isa_name(isa) << ": " << got
              << " vs twin " << want;
        } else {
          EXPECT_TRUE(near(got, want, 0, b.abs_per_x * std::max(1.f, std::fabs(x[i]))))
              << ir::op_name(b.op) << "(" << x[i] << ") " << isa_name(isa);
        }
      }
    }
  }
}

}  // namespace
}  // namespace softdpu::testing::ew
