#include <cmath>

#include "kernels/elementwise/ew_test_util.h"

namespace softdpu::testing::ew {
namespace {

using ir::OpType;

TEST(ElementwiseVariadic, SumMeanMaxMinBroadcastAllInputs) {
  Tensor a = random_tensor({2, 1, 33}, -2, 2, 1);
  Tensor b = random_tensor({3, 1}, -2, 2, 2);
  Tensor c = random_tensor({33}, -2, 2, 3);
  const Shape out = {2, 3, 33};
  for (Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    Tensor sum = run_op(OpType::kSum, {in(a), in(b), in(c)}, {})[0];
    Tensor mean = run_op(OpType::kMean, {in(a), in(b), in(c)}, {})[0];
    Tensor mx = run_op(OpType::kMax, {in(a), in(b), in(c)}, {})[0];
    Tensor mn = run_op(OpType::kMin, {in(a), in(b), in(c)}, {})[0];
    ASSERT_EQ(sum.shape(), out);
    for (int64_t i = 0; i < sum.numel(); ++i) {
      int64_t n = i / 99, h = (i / 33) % 3, w = i % 33;
      float av = a.data_as<float>()[n * 33 + w], bv = b.data_as<float>()[h],
            cv = c.data_as<float>()[w];
      EXPECT_EQ(sum.data_as<float>()[i], (av + bv) + cv);
      EXPECT_EQ(mean.data_as<float>()[i], ((av + bv) + cv) / 3.f);
      EXPECT_EQ(mx.data_as<float>()[i], std::max(std::max(av, bv), cv));
      EXPECT_EQ(mn.data_as<float>()[i], std::min(std::min(av, bv), cv));
    }
  }
}

TEST(ElementwiseVariadic, OneInputIsACopy) {
  Tensor a = random_tensor({7}, -1, 1, 4);
  for (OpType op : {OpType::kSum, OpType::kMean, OpType::kMax, OpType::kMin}) {
    EXPECT_EQ(max_abs_diff(run_op(op, {in(a)}, {})[0], a), 0.f) << ir::op_name(op);
  }
}

TEST(ElementwiseVariadic, MaxMinPropagateNaNAndSupportIntegers) {
  Tensor a = ftensor({kNaN, 1.f, 2.f}), b = ftensor({0.f, kNaN, 3.f});
  std::vector<float> mx = values<float>(run_op(OpType::kMax, {in(a), in(b)}, {})[0]);
  EXPECT_TRUE(std::isnan(mx[0]));
  EXPECT_TRUE(std::isnan(mx[1]));
  EXPECT_EQ(mx[2], 3.f);
  std::vector<float> mn = values<float>(run_op(OpType::kMin, {in(a), in(b)}, {})[0]);
  EXPECT_TRUE(std::isnan(mn[0]) && std::isnan(mn[1]));
  EXPECT_EQ(mn[2], 2.f);
  Tensor u = make_tensor<uint64_t>({2}, {1, UINT64_MAX}), v = make_tensor<uint64_t>({2}, {2, 0});
  EXPECT_EQ(values<uint64_t>(run_op(OpType::kMax, {in(u), in(v)}, {})[0]),
            (std::vector<uint64_t>{2, UINT64_MAX}));
  Tensor i = make_tensor<int8_t>({2}, {-5, 5}), j = make_tensor<int8_t>({1}, {0});
  EXPECT_EQ(values<int8_t>(run_op(OpType::kMin, {in(i), in(j)}, {})[0]),
            (std::vector<int8_t>{-5, 0}));
}

TEST(ElementwiseVariadic, RejectsMixedTypesAndIntegerSum) {
  Tensor f = ftensor({1.f}), d = make_tensor<double>({1}, {1.0});
  expect_error(
      [&] {
        run_op(OpType::kSum, {in(f), in(d)}, {});
      },
      StatusCode::kInvalidModel, "has type float64, expected float32");
  Tensor i = make_tensor<int32_t>({1}, {1});
  expect_error(
      [&] {
        run_op(OpType::kMean, {in(i), in(i)}, {});
      },
      StatusCode::kUnsupported, "has type int32");
}

TEST(ElementwiseWhere, BroadcastsConditionAndBranches) {
  Tensor cond = make_tensor<bool>({2, 1}, {true, false});
  Tensor x = make_tensor<int64_t>({3}, {1, 2, 3});
  Tensor y = make_tensor<int64_t>({}, {-9});
  Tensor z = run_op(OpType::kWhere, {in(cond), in(x), in(y)}, {})[0];
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<int64_t>(z), (std::vector<int64_t>{1, 2, 3, -9, -9, -9}));
  Tensor c2 = make_tensor<bool>({4}, {true, false, false, true});
  Tensor fx = ftensor({1.f, 2.f, 3.f, 4.f}), fy = ftensor({-1.f, -2.f, -3.f, -4.f});
  EXPECT_EQ(values<float>(run_op(OpType::kWhere, {in(c2), in(fx), in(fy)}, {})[0]),
            (std::vector<float>{1.f, -2.f, -3.f, 4.f}));
  Tensor bx = make_tensor<bool>({1}, {true}), by = make_tensor<bool>({1}, {false});
  EXPECT_EQ(values<bool>(run_op(OpType::kWhere, {in(c2), in(bx), in(by)}, {})[0]),
            (std::vector<bool>{true, false, false, true}));
  Tensor big_c = make_tensor<bool>({5000, 1}, {}), big_x = random_tensor({1, 33}, 0, 1, 2);
  for (int i = 0; i < 5000; i += 2) big_c.data_as<bool>()[i] = true;
  Tensor big = run_op(OpType::kWhere, {in(big_c), in(big_x), in(make_tensor<float>({}, {0.f}))}, {},
                      1, 2)[0];
  for (int64_t i = 0; i < big.numel(); i += 101) {
    EXPECT_EQ(big.data_as<float>()[i], (i / 33) % 2 == 0 ? big_x.data_as<float>()[i % 33] : 0.f);
  }
  expect_error(
      [&] {
        run_op(OpType::kWhere, {in(c2), in(fx), in(x)}, {});
      },
      StatusCode::kInvalidModel, "has type int64, expected float32");
  expect_error(
      [&] {
        run_op(OpType::kWhere, {in(fx), in(fx), in(fy)}, {});
      },
      StatusCode::kUnsupported, "expected bool");
}

}  // namespace
}  // namespace softdpu::testing::ew
