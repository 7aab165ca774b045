// Integer products against loops written here: exact int32 sums, and requantization with
// round-half-to-even and saturation.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using ir::OpType;
using testing::attr_ints;
using testing::in;
using testing::none;

template <typename T>
Tensor rand_q(Shape s, uint32_t seed) {
  Tensor t(DTypeOf<T>::value, s);
  std::mt19937 rng(seed);
  for (int64_t i = 0; i < t.numel(); ++i) t.data_as<T>()[i] = static_cast<T>(rng() & 0xFF);
  return t;
}

template <typename T>
int32_t at(const Tensor& t, int64_t i) {
  return t.data_as<T>()[i];
}

TEST(LinalgQLinear, MatMulIntegerPerRowAndColumnZeroPoints) {
  Tensor a = rand_q<uint8_t>({5, 7}, 1), b = rand_q<int8_t>({7, 3}, 2);
  Tensor azp = rand_q<uint8_t>({5}, 3), bzp = rand_q<int8_t>({3}, 4);
  Tensor y = testing::run_op(OpType::kMatMulInteger, {in(a), in(b), in(azp), in(bzp)}, {})[0];
  ASSERT_EQ(y.dtype(), DType::kInt32);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j) {
      int32_t s = 0;
      for (int k = 0; k < 7; ++k)
        s += (at<uint8_t>(a, i * 7 + k) - at<uint8_t>(azp, i)) *
             (at<int8_t>(b, k * 3 + j) - at<int8_t>(bzp, j));
      EXPECT_EQ(y.data_as<int32_t>()[i * 3 + j], s);
    }
  // Batched, no zero points.
  Tensor a3 = rand_q<int8_t>({2, 3, 4}, 5), b2 = rand_q<int8_t>({4, 2}, 6);
  Tensor y3 = testing::run_op(OpType::kMatMulInteger, {in(a3), in(b2)}, {})[0];
  ASSERT_EQ(y3.shape(), (Shape{2, 3, 2}));
  int32_t s = 0;
  for (int k = 0; k < 4; ++k) s += at<int8_t>(a3, 12 + 2 * 4 + k) * at<int8_t>(b2, k * 2 + 1);
  EXPECT_EQ(y3.data_as<int32_t>()[6 + 2 * 2 + 1], s);
  EXPECT_THROW(
      testing::run_op(OpType::kMatMulInteger, {in(a), in(b), in(rand_q<uint8_t>({2}, 1))}, {}),
      Error);
}

TEST(LinalgQLinear, QLinearMatMulRequantizes) {
  Tensor a = rand_q<uint8_t>({3, 6}, 7), b = rand_q<uint8_t>({6, 4}, 8);
  auto scalar_f = [](float v) { return testing::make_tensor<float>({}, {v}); };
  auto scalar_u8 = [](uint8_t v) { return testing::make_tensor<uint8_t>({}, {v}); };
  const float as = 0.02f, bs = 0.01f, ys = 0.05f;
  Tensor y = testing::run_op(OpType::kQLinearMatMul,
                             {in(a), in(scalar_f(as)), in(scalar_u8(120)), in(b), in(scalar_f(bs)),
                              in(scalar_u8(130)), in(scalar_f(ys)), in(scalar_u8(100))},
                             {})[0];
  ASSERT_EQ(y.dtype(), DType::kUInt8);
  const float mult = as * bs / ys;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      int32_t s = 0;
      for (int k = 0; k < 6; ++k)
        s += (at<uint8_t>(a, i * 6 + k) - 120) * (at<uint8_t>(b, k * 4 + j) - 130);
      const int32_t want = std::clamp(int32_t(std::nearbyint(float(s) * mult)) + 100, 0, 255);
      EXPECT_EQ(at<uint8_t>(y, i * 4 + j), want);
    }
}

// Direct 2-D integer convolution with zero points, stride 1, symmetric padding.
std::vector<int32_t> conv_int_naive(const Tensor& x, int32_t xz, const Tensor& w,
                                    const std::vector<int32_t>& wz, int64_t pad) {
  const int64_t c = x.shape()[1], h = x.shape()[2], wd = x.shape()[3], m = w.shape()[0];
  const int64_t kh = w.shape()[2], kw = w.shape()[3];
  const int64_t oh = h + 2 * pad - kh + 1, ow = wd + 2 * pad - kw + 1;
  std::vector<int32_t> y(m * oh * ow, 0);
  for (int64_t o = 0; o < m; ++o)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t ci = 0; ci < c; ++ci)
          for (int64_t a = 0; a < kh; ++a)
            for (int64_t b = 0; b < kw; ++b) {
              const int64_t ii = i + a - pad, jj = j + b - pad;
              if (ii < 0 || ii >= h || jj < 0 || jj >= wd) continue;
              y[(o * oh + i) * ow + j] += (at<uint8_t>(x, (ci * h + ii) * wd + jj) - xz) *
                                          (at<int8_t>(w, ((o * c + ci) * kh + a) * kw + b) - wz[o]);
            }
  return y;
}

TEST(LinalgQLinear, ConvIntegerAndQLinearConvPerChannel) {
  Tensor x = rand_q<uint8_t>({1, 3, 6, 5}, 11), w = rand_q<int8_t>({4, 3, 3, 3}, 12);
  Tensor xz = testing::make_tensor<uint8_t>({}, {17});
  Tensor wz = testing::make_tensor<int8_t>({4}, {1, -2, 3, 0});
  std::map<std::string, ir::Attribute> pads{{"pads", attr_ints({1, 1, 1, 1})}};
  Tensor y = testing::run_op(OpType::kConvInteger, {in(x), in(w), in(xz), in(wz)}, pads)[0];
  const std::vector<int32_t> want = conv_int_naive(x, 17, w, {1, -2, 3, 0}, 1);
  ASSERT_EQ(y.shape(), (Shape{1, 4, 6, 5}));
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(y.data_as<int32_t>()[i], want[i]) << i;

  Tensor ws = testing::make_tensor<float>({4}, {0.01f, 0.02f, 0.005f, 0.03f});
  Tensor bias = testing::make_tensor<int32_t>({4}, {100, -200, 0, 5});
  Tensor q = testing::run_op(OpType::kQLinearConv,
                             {in(x), in(testing::make_tensor<float>({}, {0.1f})), in(xz), in(w),
                              in(ws), in(wz), in(testing::make_tensor<float>({}, {0.7f})),
                              in(testing::make_tensor<int8_t>({}, {-5})), in(bias)},
                             pads)[0];
  ASSERT_EQ(q.dtype(), DType::kInt8);
  for (int64_t o = 0; o < 4; ++o)
    for (int64_t i = 0; i < 30; ++i) {
      const float mult = 0.1f * ws.data_as<float>()[o] / 0.7f;
      const int32_t acc = want[o * 30 + i] + bias.data_as<int32_t>()[o];
      const int32_t expect = std::clamp(int32_t(std::nearbyint(float(acc) * mult)) - 5, -128, 127);
      ASSERT_EQ(at<int8_t>(q, o * 30 + i), expect) << o << "," << i;
    }
  EXPECT_THROW(testing::run_op(
                   OpType::kConvInteger,
                   {in(x), in(w), in(xz), in(testing::make_tensor<int8_t>({3}, {1, 2, 3}))}, pads),
               Error);
}

}  // namespace
}  // namespace softdpu
