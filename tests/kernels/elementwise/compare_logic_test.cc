#include "kernels/elementwise/ew_test_util.h"

namespace softdpu::testing::ew {
namespace {

using ir::OpType;

TEST(ElementwiseCompare, FloatComparisonsWithBroadcastAndNaN) {
  Tensor a = make_tensor<float>({2, 3}, {1.f, 2.f, kNaN, -1.f, 5.f, 3.f});
  Tensor b = make_tensor<float>({3}, {1.f, 3.f, kNaN});
  struct Case {
    OpType op;
    std::vector<bool> want;
  };
  for (Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    for (const Case& c :
         std::vector<Case>{{OpType::kEqual, {true, false, false, false, false, false}},
                           {OpType::kGreater, {false, false, false, false, true, false}},
                           {OpType::kGreaterOrEqual, {true, false, false, false, true, false}},
                           {OpType::kLess, {false, true, false, true, false, false}},
                           {OpType::kLessOrEqual, {true, true, false, true, false, false}}}) {
      Tensor y = run_op(c.op, {in(a), in(b)}, {})[0];
      ASSERT_EQ(y.dtype(), DType::kBool);
      ASSERT_EQ(y.shape(), (Shape{2, 3}));
      EXPECT_EQ(values<bool>(y), c.want) << ir::op_name(c.op) << " " << isa_name(isa);
    }
  }
}

TEST(ElementwiseCompare, IntegerAndBoolEquality) {
  Tensor a = make_tensor<int64_t>({4}, {-1, 0, 7, INT64_MAX});
  Tensor b = make_tensor<int64_t>({}, {7});
  EXPECT_EQ(values<bool>(run_op(OpType::kEqual, {in(a), in(b)}, {})[0]),
            (std::vector<bool>{false, false, true, false}));
  EXPECT_EQ(values<bool>(run_op(OpType::kGreater, {in(a), in(b)}, {})[0]),
            (std::vector<bool>{false, false, false, true}));
  Tensor u = make_tensor<uint32_t>({2}, {0, 4000000000u}), v = make_tensor<uint32_t>({1}, {1});
  EXPECT_EQ(values<bool>(run_op(OpType::kLess, {in(u), in(v)}, {})[0]),
            (std::vector<bool>{true, false}));
  Tensor p = make_tensor<bool>({4}, {true, true, false, false});
  Tensor q = make_tensor<bool>({4}, {true, false, true, false});
  EXPECT_EQ(values<bool>(run_op(OpType::kEqual, {in(p), in(q)}, {})[0]),
            (std::vector<bool>{true, false, false, true}));
}

TEST(ElementwiseLogic, AndOrXorNotWithBroadcast) {
  Tensor p = make_tensor<bool>({2, 2}, {true, true, false, false});
  Tensor q = make_tensor<bool>({2}, {true, false});
  EXPECT_EQ(values<bool>(run_op(OpType::kAnd, {in(p), in(q)}, {})[0]),
            (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(values<bool>(run_op(OpType::kOr, {in(p), in(q)}, {})[0]),
            (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(values<bool>(run_op(OpType::kXor, {in(p), in(q)}, {})[0]),
            (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(values<bool>(run_op(OpType::kNot, {in(p)}, {})[0]),
            (std::vector<bool>{false, false, true, true}));
  // 3-D vs 4-D both-sided broadcast, as in the ONNX and_bcast4v4d test.
  Tensor x = make_tensor<bool>({1, 4, 1, 6}, {});
  Tensor y = make_tensor<bool>({3, 1, 5, 6}, {});
  for (int i = 0; i < 24; i += 3) x.data_as<bool>()[i] = true;
  for (int i = 0; i < 90; i += 2) y.data_as<bool>()[i] = true;
  Tensor z = run_op(OpType::kOr, {in(x), in(y)}, {})[0];
  ASSERT_EQ(z.shape(), (Shape{3, 4, 5, 6}));
  for (int64_t i = 0; i < z.numel(); ++i) {
    int64_t n = i / 120, c = (i / 30) % 4, h = (i / 6) % 5, w = i % 6;
    bool want = x.data_as<bool>()[c * 6 + w] || y.data_as<bool>()[n * 30 + h * 6 + w];
    ASSERT_EQ(z.data_as<bool>()[i], want) << i;
  }
}

TEST(ElementwiseLogic, RejectsNonBool) {
  Tensor f = ftensor({1.f});
  expect_error(
      [&] {
        run_op(OpType::kAnd, {in(f), in(f)}, {});
      },
      StatusCode::kUnsupported, "has type float32, expected bool");
  expect_error([&] { run_op(OpType::kNot, {in(f)}, {}); }, StatusCode::kUnsupported,
               "expected bool");
}

}  // namespace
}  // namespace softdpu::testing::ew
