#include <cmath>

#include "kernels/elementwise/ew_test_util.h"

namespace softdpu::testing::ew {
namespace {

using ir::OpType;

TEST(ElementwiseQuantize, PerTensorRoundsHalfToEvenAndSaturates) {
  Tensor x = ftensor({0.f, 2.f, 3.f, 1000.f, -254.f, 2.5f, -2.5f, 1.5f, kNaN});
  Tensor scale = make_tensor<float>({}, {2.f});
  Tensor zp = make_tensor<uint8_t>({}, {128});
  for (Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    Tensor y = run_op(OpType::kQuantizeLinear, {in(x), in(scale), in(zp)}, {})[0];
    ASSERT_EQ(y.dtype(), DType::kUInt8);
    EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{128, 129, 130, 255, 1, 129, 127, 129, 0}));
  }
  Tensor zp8 = make_tensor<int8_t>({1}, {-1});
  Tensor one = make_tensor<float>({1}, {1.f});
  Tensor y = run_op(OpType::kQuantizeLinear, {in(ftensor({-300.f, 0.5f, 300.f})), in(one), in(zp8)},
                    {})[0];
  ASSERT_EQ(y.dtype(), DType::kInt8);
  EXPECT_EQ(values<int8_t>(y), (std::vector<int8_t>{-128, -1, 127}));
  // No zero point: uint8 with zero point 0.
  y = run_op(OpType::kQuantizeLinear, {in(ftensor({-1.f, 1.f})), in(one)}, {})[0];
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{0, 1}));
}

TEST(ElementwiseQuantize, PerAxis) {
  Tensor x = make_tensor<float>({2, 3, 2}, {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6});
  Tensor scale = make_tensor<float>({3}, {1.f, 2.f, 4.f});
  Tensor zp = make_tensor<uint8_t>({3}, {0, 10, 20});
  Tensor y = run_op(OpType::kQuantizeLinear, {in(x), in(scale), in(zp)}, {})[0];
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{1, 2, 12, 12, 21, 22, 0, 0, 8, 8, 19, 18}));
  Tensor back = run_op(OpType::kDequantizeLinear, {in(y), in(scale), in(zp)}, {})[0];
  EXPECT_EQ(values<float>(back), (std::vector<float>{1, 2, 4, 4, 4, 8, 0, 0, -4, -4, -4, -8}));
  // axis = -1 over the last dimension.
  Tensor s2 = make_tensor<float>({2}, {1.f, 10.f});
  y = run_op(OpType::kQuantizeLinear, {in(x), in(s2)}, {{"axis", attr_int(-1)}})[0];
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{1, 0, 3, 0, 5, 1, 0, 0, 0, 0, 0, 0}));
  expect_error(
      [&] {
        run_op(OpType::kQuantizeLinear, {in(x), in(s2)}, {});
      },
      StatusCode::kInvalidModel, "scale has 2 elements but axis 1");
}

TEST(ElementwiseQuantize, Dequantize) {
  Tensor x = make_tensor<uint8_t>({4}, {0, 3, 128, 255});
  Tensor scale = make_tensor<float>({}, {2.f});
  Tensor zp = make_tensor<uint8_t>({}, {128});
  EXPECT_EQ(values<float>(run_op(OpType::kDequantizeLinear, {in(x), in(scale), in(zp)}, {})[0]),
            (std::vector<float>{-256, -250, 0, 254}));
  Tensor i = make_tensor<int32_t>({3}, {-2000000000, 5, 2000000001});
  EXPECT_EQ(values<float>(run_op(OpType::kDequantizeLinear, {in(i), in(scale)}, {})[0]),
            (std::vector<float>{-4e9f, 10.f, static_cast<float>(4000000002.0)}));
  Tensor s8 = make_tensor<int8_t>({2}, {-128, 127});
  Tensor zp8 = make_tensor<int8_t>({}, {-128});
  EXPECT_EQ(values<float>(run_op(OpType::kDequantizeLinear, {in(s8), in(scale), in(zp8)}, {})[0]),
            (std::vector<float>{0, 510}));
  expect_error(
      [&] {
        run_op(OpType::kDequantizeLinear, {in(x), in(scale), in(zp8)}, {});
      },
      StatusCode::kInvalidModel, "has type int8, expected uint8");
}

// The ONNX reference: range widened to include 0, scale = range / 255, zero point and values
// rounded half to even and saturated.
void check_dynamic(const std::vector<float>& xs, float want_scale, uint8_t want_zp) {
  Tensor x = ftensor(xs);
  std::vector<Tensor> out = run_op(OpType::kDynamicQuantizeLinear, {in(x)}, {}, 3);
  ASSERT_EQ(out[0].dtype(), DType::kUInt8);
  ASSERT_TRUE(out[1].shape().empty());
  float scale = out[1].data_as<float>()[0];
  uint8_t zp = out[2].data_as<uint8_t>()[0];
  EXPECT_NEAR(scale, want_scale, 1e-9);
  EXPECT_EQ(zp, want_zp);
  for (size_t i = 0; i < xs.size(); ++i) {
    double q = std::nearbyint(static_cast<double>(xs[i] / scale)) + zp;
    EXPECT_EQ(out[0].data_as<uint8_t>()[i], static_cast<uint8_t>(std::clamp(q, 0.0, 255.0))) << i;
  }
}

TEST(ElementwiseQuantize, DynamicQuantizeLinear) {
  check_dynamic({0, 2, -3, -2.5f, 1.34f, 0.5f}, 0.0196078438f, 153);
  check_dynamic({-1.0f, -2.1f, -1.3f, -2.5f, -3.34f, -4.0f}, 0.0156862754f, 255);
  check_dynamic({1, 2.1f, 1.3f, 2.5f, 3.34f, 4.0f, 1.5f, 2.6f, 3.9f, 4.0f, 3.0f, 2.345f},
                0.0156862754f, 0);
  std::vector<float> many = sweep(1000, -1.f, 3.f);
  check_dynamic(many, 4.f / 255.f, 64);
  std::vector<Tensor> zero =
      run_op(OpType::kDynamicQuantizeLinear, {in(ftensor({0.f, 0.f}))}, {}, 3);
  EXPECT_EQ(zero[1].data_as<float>()[0], 0.f);
  EXPECT_EQ(values<uint8_t>(zero[0]), (std::vector<uint8_t>{0, 0}));
}

}  // namespace
}  // namespace softdpu::testing::ew
