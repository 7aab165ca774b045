// Einsum, Det and MaxUnpool against loops and closed forms written here.
#include <gtest/gtest.h>

#include <cmath>

#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using ir::OpType;
using testing::attr_ints;
using testing::attr_string;
using testing::in;
using testing::random_tensor;

Tensor einsum(const std::string& eq, std::vector<Tensor> ins) {
  std::vector<testing::OpInput> v;
  for (Tensor& t : ins) v.push_back(in(t));
  return testing::run_op(OpType::kEinsum, v, {{"equation", attr_string(eq)}})[0];
}

TEST(LinalgEinsum, MatmulBatchOuterAndImplicit) {
  Tensor a = random_tensor({3, 4}, -1, 1, 1), b = random_tensor({4, 5}, -1, 1, 2);
  const float* A = a.data_as<float>();
  const float* B = b.data_as<float>();
  for (const char* eq : {"ij,jk->ik", "ij, jk", "ab,bc->ac"}) {
    Tensor y = einsum(eq, {a, b});
    ASSERT_EQ(y.shape(), (Shape{3, 5})) << eq;
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 5; ++k) {
        float s = 0;
        for (int j = 0; j < 4; ++j) s += A[i * 4 + j] * B[j * 5 + k];
        EXPECT_NEAR(y.data_as<float>()[i * 5 + k], s, 1e-5) << eq;
      }
  }
  // Implicit output is alphabetical: "ba" transposes.
  Tensor t = einsum("ba", {a});
  ASSERT_EQ(t.shape(), (Shape{4, 3}));
  EXPECT_EQ(t.data_as<float>()[1 * 3 + 2], A[2 * 4 + 1]);
  Tensor outer = einsum("i,j->ij", {random_tensor({3}, -1, 1, 3), random_tensor({2}, -1, 1, 4)});
  EXPECT_EQ(outer.shape(), (Shape{3, 2}));
  Tensor x = random_tensor({2, 3, 3}, -1, 1, 5);
  Tensor diag = einsum("...ii->...i", {x});
  ASSERT_EQ(diag.shape(), (Shape{2, 3}));
  for (int bb = 0; bb < 2; ++bb)
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(diag.data_as<float>()[bb * 3 + i], x.data_as<float>()[bb * 9 + i * 4]);
  Tensor trace = einsum("bii->", {x});
  double tr = 0;
  for (int bb = 0; bb < 2; ++bb)
    for (int i = 0; i < 3; ++i) tr += x.data_as<float>()[bb * 9 + i * 4];
  EXPECT_NEAR(trace.data_as<float>()[0], tr, 1e-5);
  EXPECT_TRUE(trace.shape().empty());
}

TEST(LinalgEinsum, DoubleBroadcastEllipsis) {
  Tensor a(DType::kFloat64, {2, 1, 3}), b(DType::kFloat64, {4, 3});
  for (int i = 0; i < 6; ++i) a.data_as<double>()[i] = i + 1;
  for (int i = 0; i < 12; ++i) b.data_as<double>()[i] = 0.5 * i;
  Tensor y = einsum("...j,...j->...", {a, b});  // broadcast [2,1] with [4] -> [2,4]
  ASSERT_EQ(y.shape(), (Shape{2, 4}));
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 4; ++k) {
      double s = 0;
      for (int j = 0; j < 3; ++j)
        s += a.data_as<double>()[i * 3 + j] * b.data_as<double>()[k * 3 + j];
      EXPECT_DOUBLE_EQ(y.data_as<double>()[i * 4 + k], s);
    }
}

TEST(LinalgEinsum, Errors) {
  Tensor a = random_tensor({3, 4});
  EXPECT_THROW(einsum("ij,jk->ik", {a}), Error);
  EXPECT_THROW(einsum("ijk->i", {a}), Error);
  EXPECT_THROW(einsum("ij,jk->ik", {a, random_tensor({5, 2})}), Error);
  EXPECT_THROW(einsum("ij->iz", {a}), Error);
  EXPECT_THROW(einsum("i$->i", {a}), Error);
}

TEST(LinalgDet, ClosedFormsAndBatches) {
  Tensor x = random_tensor({4, 3, 3}, -2, 2, 7);
  Tensor y = testing::run_op(OpType::kDet, {in(x)}, {})[0];
  ASSERT_EQ(y.shape(), (Shape{4}));
  for (int b = 0; b < 4; ++b) {
    const float* m = x.data_as<float>() + b * 9;
    const double d = double(m[0]) * (double(m[4]) * m[8] - double(m[5]) * m[7]) -
                     double(m[1]) * (double(m[3]) * m[8] - double(m[5]) * m[6]) +
                     double(m[2]) * (double(m[3]) * m[7] - double(m[4]) * m[6]);
    EXPECT_NEAR(y.data_as<float>()[b], d, 1e-4);
  }
  Tensor singular = testing::make_tensor<float>({2, 2}, {1, 2, 2, 4});
  EXPECT_EQ(testing::run_op(OpType::kDet, {in(singular)}, {})[0].data_as<float>()[0], 0.f);
  Tensor swap = testing::make_tensor<float>({2, 2}, {0, 1, 1, 0});
  EXPECT_EQ(testing::run_op(OpType::kDet, {in(swap)}, {})[0].data_as<float>()[0], -1.f);
  EXPECT_THROW(testing::run_op(OpType::kDet, {in(random_tensor({2, 3}))}, {}), Error);
}

TEST(LinalgMaxUnpool, InvertsMaxPool) {
  Tensor x = random_tensor({2, 3, 6, 8}, -1, 1, 9);
  std::map<std::string, ir::Attribute> attrs{{"kernel_shape", attr_ints({2, 2})},
                                             {"strides", attr_ints({2, 2})}};
  auto pooled = testing::run_op(OpType::kMaxPool, {in(x)}, attrs, 2);
  Tensor y = testing::run_op(OpType::kMaxUnpool, {in(pooled[0]), in(pooled[1])}, attrs)[0];
  ASSERT_EQ(y.shape(), x.shape());
  int nonzero = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    const float v = y.data_as<float>()[i];
    if (v != 0.f) {
      ++nonzero;
      EXPECT_EQ(v, x.data_as<float>()[i]);
    }
  }
  EXPECT_EQ(nonzero, pooled[0].numel());
  // A larger output_shape keeps coordinates.
  Tensor shape = testing::make_tensor<int64_t>({4}, {2, 3, 7, 9});
  Tensor big = testing::run_op(OpType::kMaxUnpool, {in(pooled[0]), in(pooled[1]), in(shape, true)},
                               attrs)[0];
  ASSERT_EQ(big.shape(), (Shape{2, 3, 7, 9}));
  for (int64_t p = 0; p < 6; ++p)
    for (int h = 0; h < 6; ++h)
      for (int w = 0; w < 8; ++w)
        EXPECT_EQ(big.data_as<float>()[(p * 7 + h) * 9 + w],
                  y.data_as<float>()[(p * 6 + h) * 8 + w]);
}

}  // namespace
}  // namespace softdpu
