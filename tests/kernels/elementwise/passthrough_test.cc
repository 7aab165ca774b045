#include "kernels/elementwise/ew_test_util.h"

namespace softdpu::testing::ew {
namespace {

using ir::OpType;

TEST(ElementwiseIdentity, CopiesAnyType) {
  Tensor i = make_tensor<int64_t>({2, 2}, {1, -2, 3, -4});
  Tensor y = run_op(OpType::kIdentity, {in(i)}, {})[0];
  EXPECT_EQ(y.shape(), i.shape());
  EXPECT_EQ(values<int64_t>(y), values<int64_t>(i));
  EXPECT_NE(y.data(), i.data());
  Tensor b = make_tensor<bool>({3}, {true, false, true});
  EXPECT_EQ(values<bool>(run_op(OpType::kIdentity, {in(b)}, {})[0]), values<bool>(b));
  Tensor big = random_tensor({300000}, -1, 1, 2);
  EXPECT_EQ(max_abs_diff(run_op(OpType::kIdentity, {in(big)}, {}, 1, 2)[0], big), 0.f);
}

TEST(ElementwiseDropout, InferenceIsIdentityWithTrueMask) {
  Tensor x = random_tensor({3, 4, 5}, -1, 1, 3);
  std::vector<Tensor> out = run_op(OpType::kDropout, {in(x)}, {{"seed", attr_int(0)}}, 2);
  EXPECT_EQ(max_abs_diff(out[0], x), 0.f);
  ASSERT_EQ(out[1].dtype(), DType::kBool);
  EXPECT_EQ(values<bool>(out[1]), std::vector<bool>(60, true));
  // Explicit ratio and training_mode = false (constant).
  Tensor r = make_tensor<float>({}, {0.7f});
  Tensor t = make_tensor<bool>({}, {false});
  out = run_op(OpType::kDropout, {in(x), in(r, true), in(t, true)}, {}, 2);
  EXPECT_EQ(max_abs_diff(out[0], x), 0.f);
  // Dropout-7 with a ratio attribute; its mask has the data's type.
  out = run_op(OpType::kDropout, {in(x)}, {{"ratio", attr_float(0.2f)}}, 2, 1, 7);
  EXPECT_EQ(max_abs_diff(out[0], x), 0.f);
  ASSERT_EQ(out[1].dtype(), DType::kFloat32);
  EXPECT_EQ(values<float>(out[1]), std::vector<float>(60, 1.f));
}

TEST(ElementwiseDropout, TrainingModeDecidedAtRunTime) {
  Tensor x = random_tensor({1000}, 1, 2, 4);
  Tensor zero = make_tensor<float>({}, {0.f}), half = make_tensor<float>({}, {0.5f});
  Tensor on = make_tensor<bool>({}, {true});
  std::vector<Tensor> out = run_op(OpType::kDropout, {in(x), in(zero), in(on)}, {}, 2);
  EXPECT_EQ(max_abs_diff(out[0], x), 0.f);
  EXPECT_EQ(values<bool>(out[1]), std::vector<bool>(1000, true));
  out = run_op(OpType::kDropout, {in(x), in(half), in(on)}, {{"seed", attr_int(5)}}, 2);
  int kept = 0;
  for (int64_t i = 0; i < 1000; ++i) {
    bool keep = out[1].data_as<bool>()[i];
    kept += keep;
    EXPECT_EQ(out[0].data_as<float>()[i], keep ? 2.f * x.data_as<float>()[i] : 0.f);
  }
  EXPECT_GT(kept, 400);
  EXPECT_LT(kept, 600);
  // The ONNX reference draws numpy.random.seed(seed); uniform(0, 1, shape) >= ratio. For seed 0
  // numpy's first draws are 0.5488135 0.71518937 0.60276338 0.54488318 0.4236548.
  out = run_op(OpType::kDropout, {in(x), in(half), in(on)}, {{"seed", attr_int(0)}}, 2);
  EXPECT_EQ(std::vector<bool>(out[1].data_as<bool>(), out[1].data_as<bool>() + 5),
            (std::vector<bool>{true, true, true, true, false}));
}

TEST(ElementwiseDropout, RejectsIntegerData) {
  Tensor i = make_tensor<int32_t>({2}, {1, 2});
  expect_error([&] { run_op(OpType::kDropout, {in(i)}, {}); }, StatusCode::kUnsupported,
               "has type int32");
}

}  // namespace
}  // namespace softdpu::testing::ew
