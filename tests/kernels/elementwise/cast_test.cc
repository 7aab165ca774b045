#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/elementwise/ew_test_util.h"

namespace softdpu::testing::ew {
namespace {

using ir::OpType;

Tensor cast(const Tensor& x, DType to, int64_t opset = 17) {
  return run_op(OpType::kCast, {in(x)}, {{"to", attr_int(static_cast<int64_t>(to))}}, 1, 1,
                opset)[0];
}

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(ElementwiseCast, FloatToIntegerTruncates) {
  Tensor x = ftensor({1.9f, -1.9f, 0.5f, -0.f, 2147483520.f});
  EXPECT_EQ(values<int32_t>(cast(x, DType::kInt32)),
            (std::vector<int32_t>{1, -1, 0, 0, 2147483520}));
  EXPECT_EQ(values<int64_t>(cast(x, DType::kInt64)),
            (std::vector<int64_t>{1, -1, 0, 0, 2147483520}));
  // Out of range and NaN are undefined in ONNX; softdpu gives what x86 C casts give.
  Tensor odd = ftensor({kNaN, 3e9f, -1.f, 300.f});
  EXPECT_EQ(values<int32_t>(cast(odd, DType::kInt32))[0], std::numeric_limits<int32_t>::min());
  EXPECT_EQ(values<int32_t>(cast(odd, DType::kInt32))[1], std::numeric_limits<int32_t>::min());
  EXPECT_EQ(values<uint8_t>(cast(odd, DType::kUInt8)), (std::vector<uint8_t>{0, 0, 255, 44}));
  Tensor big = make_tensor<double>({2}, {1e19, -1.0});
  EXPECT_EQ(values<uint64_t>(cast(big, DType::kUInt64)),
            (std::vector<uint64_t>{10000000000000000000ull, UINT64_MAX}));
  EXPECT_EQ(values<int64_t>(cast(big, DType::kInt64))[0], std::numeric_limits<int64_t>::min());
}

TEST(ElementwiseCast, BoolAndIntegerConversions) {
  Tensor x = ftensor({0.f, -0.f, 0.1f, kNaN});
  EXPECT_EQ(values<bool>(cast(x, DType::kBool)), (std::vector<bool>{false, false, true, true}));
  Tensor b = make_tensor<bool>({2}, {true, false});
  EXPECT_EQ(values<float>(cast(b, DType::kFloat32)), (std::vector<float>{1.f, 0.f}));
  EXPECT_EQ(values<int64_t>(cast(b, DType::kInt64)), (std::vector<int64_t>{1, 0}));
  Tensor i = make_tensor<int64_t>({4}, {300, -129, -1, 0});
  EXPECT_EQ(values<int8_t>(cast(i, DType::kInt8)), (std::vector<int8_t>{44, 127, -1, 0}));
  EXPECT_EQ(values<uint16_t>(cast(i, DType::kUInt16)),
            (std::vector<uint16_t>{300, 65407, 65535, 0}));
  EXPECT_EQ(values<bool>(cast(i, DType::kBool)), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(values<double>(cast(i, DType::kFloat64)), (std::vector<double>{300, -129, -1, 0}));
  EXPECT_EQ(values<int64_t>(cast(i, DType::kInt64)), values<int64_t>(i));
}

TEST(ElementwiseCast, Float16RoundsToNearestEven) {
  const float tie_down = 1.f + std::ldexp(1.f, -11), tie_up = 1.f + 3 * std::ldexp(1.f, -11);
  Tensor x = ftensor({1.f, 65504.f, 65519.f, 65520.f, 1e-8f, 5.9604645e-08f, kNaN, -kInf, tie_down,
                      tie_up, -2.f, 6.1035156e-05f});
  std::vector<uint16_t> want = {0x3c00, 0x7bff, 0x7bff, 0x7c00, 0x0000, 0x0001,
                                0x7e00, 0xfc00, 0x3c00, 0x3c02, 0xc000, 0x0400};
  Tensor h = cast(x, DType::kFloat16);
  ASSERT_EQ(h.dtype(), DType::kFloat16);
  EXPECT_EQ(values<uint16_t>(h), want);
  std::vector<float> back = values<float>(cast(h, DType::kFloat32));
  EXPECT_EQ(back[1], 65504.f);
  EXPECT_EQ(back[5], 5.9604645e-08f);
  EXPECT_TRUE(std::isnan(back[6]));
  EXPECT_EQ(back[7], -kInf);
  EXPECT_EQ(back[10], -2.f);
  // double -> half rounds once: just above a tie goes up (a float detour would tie to even).
  Tensor d = make_tensor<double>({1}, {1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40)});
  EXPECT_EQ(values<uint16_t>(cast(d, DType::kFloat16))[0], 0x3c01);
}

TEST(ElementwiseCast, BFloat16TruncatesBeforeOpset19) {
  Tensor x =
      ftensor({bits_float(0x3f80ffffu), bits_float(0x3f808000u), bits_float(0x3f818000u), kNaN});
  EXPECT_EQ(values<uint16_t>(cast(x, DType::kBFloat16, 13)),
            (std::vector<uint16_t>{0x3f80, 0x3f80, 0x3f81, 0x7fc0}));
  EXPECT_EQ(values<uint16_t>(cast(x, DType::kBFloat16, 19)),
            (std::vector<uint16_t>{0x3f81, 0x3f80, 0x3f82, 0x7fc0}));
  Tensor b = cast(x, DType::kBFloat16, 19);
  EXPECT_EQ(float_bits(values<float>(cast(b, DType::kFloat32))[0]), 0x3f810000u);
}

TEST(ElementwiseCast, CastLikeTakesTheSecondInputsType) {
  Tensor x = ftensor({1.5f, -2.25f}), like = make_tensor<double>({1}, {0.0});
  Tensor y = run_op(OpType::kCastLike, {in(x), in(like)}, {})[0];
  ASSERT_EQ(y.dtype(), DType::kFloat64);
  EXPECT_EQ(values<double>(y), (std::vector<double>{1.5, -2.25}));
}

TEST(ElementwiseCast, ParallelLargeCast) {
  Tensor x = random_tensor({100000}, -100, 100, 3);
  Tensor y = run_op(OpType::kCast, {in(x)}, {{"to", attr_int(7)}}, 1, 2)[0];
  for (int64_t i = 0; i < x.numel(); i += 313) {
    EXPECT_EQ(y.data_as<int64_t>()[i], static_cast<int64_t>(std::trunc(x.data_as<float>()[i])));
  }
}

TEST(ElementwiseCast, Errors) {
  Tensor x = ftensor({1.f});
  expect_error([&] { run_op(OpType::kCast, {in(x)}, {}); }, StatusCode::kInvalidModel,
               "attribute 'to' is required");
  expect_error([&] { cast(x, DType::kString); }, StatusCode::kUnsupported, "string");
  expect_error(
      [&] {
        run_op(OpType::kCast, {in(x)}, {{"to", attr_int(17)}});
      },
      StatusCode::kUnsupported, "'to' = 17");
}

}  // namespace
}  // namespace softdpu::testing::ew
