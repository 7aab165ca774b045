// Plan-time generators (Constant, ConstantOfShape, EyeLike, Range, windows), the value-dependent
// ops (NonZero, Unique), and CumSum, Trilu, TopK.
#include <cmath>
#include <numbers>

#include "kernels/tensor/tensor_util.h"
#include "tensor_test_util.h"

namespace softdpu::tensor_test {
namespace {

using testing::attr_float;
using testing::attr_floats;
using testing::attr_int;
using testing::attr_ints;
using testing::attr_string;

ir::Attribute attr_tensor(Tensor t) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kTensor;
  a.t = std::move(t);
  return a;
}

TEST(TensorGenerators, ConstantEveryValueKind) {
  auto outs = prepare_only(OpType::kConstant, {}, {{"value", attr_tensor(i32({2}, {7, 8}))}});
  EXPECT_EQ(values<int32_t>(outs[0].constant), (std::vector<int32_t>{7, 8}));
  outs = prepare_only(OpType::kConstant, {}, {{"value_float", attr_float(1.5f)}});
  EXPECT_TRUE(outs[0].shape.empty());
  EXPECT_EQ(values<float>(outs[0].constant), (std::vector<float>{1.5f}));
  outs = prepare_only(OpType::kConstant, {}, {{"value_floats", attr_floats({1, 2})}});
  EXPECT_EQ(outs[0].shape, (Shape{2}));
  outs = prepare_only(OpType::kConstant, {}, {{"value_int", attr_int(-3)}});
  EXPECT_EQ(values<int64_t>(outs[0].constant), (std::vector<int64_t>{-3}));
  outs = prepare_only(OpType::kConstant, {}, {{"value_ints", attr_ints({4, 5, 6})}});
  EXPECT_EQ(values<int64_t>(outs[0].constant), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_THROWS_CODE(prepare_only(OpType::kConstant, {}, {{"value_string", attr_string("x")}}),
                     StatusCode::kUnsupported, "string constants");
  EXPECT_THROWS_CODE(prepare_only(OpType::kConstant, {}, {{"sparse_value", attr_int(0)}}),
                     StatusCode::kUnsupported, "sparse_value");
  EXPECT_THROWS_CODE(prepare_only(OpType::kConstant, {}, {}), StatusCode::kInvalidModel,
                     "exactly one");
}

TEST(TensorGenerators, ConstantOfShapeAndEyeLikeAreConstants) {
  auto outs = prepare_only(OpType::kConstantOfShape, {in(i64({2}, {2, 3}), true)},
                           {{"value", attr_tensor(i32({1}, {7}))}});
  ASSERT_FALSE(outs[0].constant.empty());
  EXPECT_EQ(outs[0].shape, (Shape{2, 3}));
  EXPECT_EQ(values<int32_t>(outs[0].constant), (std::vector<int32_t>(6, 7)));
  outs = prepare_only(OpType::kConstantOfShape, {in(i64({1}, {0}), true)}, {});
  EXPECT_EQ(outs[0].dtype, DType::kFloat32);
  EXPECT_EQ(outs[0].shape, (Shape{0}));
  EXPECT_THROWS_CODE(prepare_only(OpType::kConstantOfShape, {in(i64({1}, {3}))}, {}),
                     StatusCode::kNeedsConstant, "in0");
  // EyeLike only needs the shape: a run-time input still gives a constant.
  outs = prepare_only(OpType::kEyeLike, {in(Tensor(DType::kInt32, {3, 4}))},
                      {{"k", attr_int(1)}, {"dtype", attr_int(11)}});
  ASSERT_FALSE(outs[0].constant.empty());
  EXPECT_EQ(values<double>(outs[0].constant),
            (std::vector<double>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}));
  outs = prepare_only(OpType::kEyeLike, {in(Tensor(DType::kInt8, {2, 2}))}, {{"k", attr_int(-1)}});
  EXPECT_EQ(values<int8_t>(outs[0].constant), (std::vector<int8_t>{0, 0, 1, 0}));
}

TEST(TensorGenerators, RangeCounts) {
  auto range = [](Tensor a, Tensor b, Tensor c) {
    return prepare_only(OpType::kRange, {in(a, true), in(b, true), in(c, true)}, {})[0].constant;
  };
  EXPECT_EQ(values<float>(range(f32({}, {1}), f32({}, {5}), f32({}, {2}))),
            (std::vector<float>{1, 3}));
  EXPECT_EQ(values<int32_t>(range(i32({}, {10}), i32({}, {6}), i32({}, {-3}))),
            (std::vector<int32_t>{10, 7}));
  EXPECT_EQ(values<int64_t>(range(i64({}, {5}), i64({}, {1}), i64({}, {1}))),
            (std::vector<int64_t>{}));
  EXPECT_EQ(range(f32({}, {0}), f32({}, {1}), f32({}, {0.3f})).numel(), 4);
  EXPECT_THROWS_CODE(range(i64({}, {0}), i64({}, {1}), i64({}, {0})), StatusCode::kInvalidModel,
                     "delta is 0");
  EXPECT_THROWS_CODE(range(i64({}, {0}), i32({}, {1}), i64({}, {1})), StatusCode::kInvalidModel,
                     "has type int32");
}

TEST(TensorGenerators, WindowsPeriodicAndSymmetric) {
  auto window = [](OpType op, int64_t size, int periodic, int64_t dtype = 1) {
    return prepare_only(op, {in(i64({}, {size}), true)},
                        {{"periodic", attr_int(periodic)}, {"output_datatype", attr_int(dtype)}}, 1,
                        17)[0]
        .constant;
  };
  auto near = [](const std::vector<float>& a, const std::vector<float>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6) << i;
  };
  near(values<float>(window(OpType::kHannWindow, 4, 1)), {0, 0.5f, 1, 0.5f});
  near(values<float>(window(OpType::kHannWindow, 5, 0)), {0, 0.5f, 1, 0.5f, 0});
  const float a0 = 25.f / 46.f;
  near(values<float>(window(OpType::kHammingWindow, 4, 1)), {a0 - (1 - a0), a0, 1, a0});
  near(values<float>(window(OpType::kBlackmanWindow, 4, 1)), {0, 0.34f, 1, 0.34f});
  const Tensor d = window(OpType::kBlackmanWindow, 3, 0, 11);
  EXPECT_EQ(d.dtype(), DType::kFloat64);
  EXPECT_NEAR(values<double>(d)[1], 1.0, 1e-12);
}

TEST(TensorGenerators, NonZeroAndUniqueNeedConstantInputs) {
  Tensor b(DType::kBool, {2, 2});
  b.data_as<bool>()[0] = b.data_as<bool>()[2] = b.data_as<bool>()[3] = true;
  auto outs = prepare_only(OpType::kNonZero, {in(b, true)}, {});
  EXPECT_EQ(outs[0].shape, (Shape{2, 3}));
  EXPECT_EQ(values<int64_t>(outs[0].constant), (std::vector<int64_t>{0, 1, 1, 0, 0, 1}));
  outs = prepare_only(OpType::kNonZero, {in(f32({4}, {0, -0.f, 3, 0}), true)}, {});
  EXPECT_EQ(values<int64_t>(outs[0].constant), (std::vector<int64_t>{2}));
  const Thrown t = thrown([&] { prepare_only(OpType::kNonZero, {in(b)}, {}); });
  EXPECT_EQ(t.code, StatusCode::kNeedsConstant);
  EXPECT_EQ(t.subject, "in0");
  EXPECT_NE(t.message.find("('in0')"), std::string::npos) << t.message;
}

TEST(TensorGenerators, UniqueSortedUnsortedAndAxis) {
  const Tensor x = f32({6}, {2, 1, 1, 3, 4, 3});
  auto outs = prepare_only(OpType::kUnique, {in(x, true)}, {}, 4);
  EXPECT_EQ(values<float>(outs[0].constant), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(values<int64_t>(outs[1].constant), (std::vector<int64_t>{1, 0, 3, 4}));
  EXPECT_EQ(values<int64_t>(outs[2].constant), (std::vector<int64_t>{1, 0, 0, 2, 3, 2}));
  EXPECT_EQ(values<int64_t>(outs[3].constant), (std::vector<int64_t>{2, 1, 2, 1}));
  outs = prepare_only(OpType::kUnique, {in(x, true)}, {{"sorted", attr_int(0)}}, 4);
  EXPECT_EQ(values<float>(outs[0].constant), (std::vector<float>{2, 1, 3, 4}));
  EXPECT_EQ(values<int64_t>(outs[1].constant), (std::vector<int64_t>{0, 1, 3, 4}));
  EXPECT_EQ(values<int64_t>(outs[2].constant), (std::vector<int64_t>{0, 1, 1, 2, 3, 2}));
  EXPECT_EQ(values<int64_t>(outs[3].constant), (std::vector<int64_t>{1, 2, 2, 1}));
  outs = prepare_only(OpType::kUnique, {in(i32({3, 3}, {1, 0, 0, 1, 0, 0, 2, 3, 4}), true)},
                      {{"axis", attr_int(0)}}, 4);
  EXPECT_EQ(outs[0].shape, (Shape{2, 3}));
  EXPECT_EQ(values<int32_t>(outs[0].constant), (std::vector<int32_t>{1, 0, 0, 2, 3, 4}));
  EXPECT_EQ(values<int64_t>(outs[2].constant), (std::vector<int64_t>{0, 0, 1}));
  EXPECT_THROWS_CODE(prepare_only(OpType::kUnique, {in(x)}, {}, 4), StatusCode::kNeedsConstant,
                     "distinct values");
}

TEST(TensorMisc, CumSumModes) {
  const Tensor x = make_tensor<double>({5}, {1, 2, 3, 4, 5});
  const Tensor axis = i32({}, {0});
  auto cs = [&](int excl, int rev) {
    return values<double>(run_op(OpType::kCumSum, {in(x), in(axis, true)},
                                 {{"exclusive", attr_int(excl)}, {"reverse", attr_int(rev)}})[0]);
  };
  EXPECT_EQ(cs(0, 0), (std::vector<double>{1, 3, 6, 10, 15}));
  EXPECT_EQ(cs(1, 0), (std::vector<double>{0, 1, 3, 6, 10}));
  EXPECT_EQ(cs(0, 1), (std::vector<double>{15, 14, 12, 9, 5}));
  EXPECT_EQ(cs(1, 1), (std::vector<double>{14, 12, 9, 5, 0}));
  const Tensor m = iota<int32_t>({2, 3});
  EXPECT_EQ(values<int32_t>(run_op(OpType::kCumSum, {in(m), in(i64({}, {-1}), true)}, {})[0]),
            (std::vector<int32_t>{0, 1, 3, 3, 7, 12}));
  // float16 through its float conversion.
  Tensor h(DType::kFloat16, {3});
  for (int i = 0; i < 3; ++i)
    h.data_as<uint16_t>()[i] = kernels::tensor::Float16(static_cast<float>(i + 1)).bits;
  const Tensor hy = run_op(OpType::kCumSum, {in(h), in(axis, true)}, {})[0];
  EXPECT_EQ(hy.data_as<uint16_t>()[2], kernels::tensor::Float16(6.f).bits);
  EXPECT_THROWS_CODE(run_op(OpType::kCumSum, {in(m), in(axis)}, {}), StatusCode::kNeedsConstant,
                     "input1");
}

TEST(TensorMisc, HalfConversionsRoundToNearestEven) {
  using kernels::tensor::BFloat16;
  using kernels::tensor::Float16;
  EXPECT_EQ(Float16(1.0f).bits, 0x3c00);
  EXPECT_EQ(Float16(65504.f).bits, 0x7bff);
  EXPECT_EQ(Float16(1e6f).bits, 0x7c00);
  EXPECT_EQ(Float16(std::ldexp(1.0f, -24)).bits, 0x0001);         // smallest subnormal
  EXPECT_EQ(Float16(1.0f + std::ldexp(1.0f, -11)).bits, 0x3c00);  // tie -> even
  EXPECT_EQ(static_cast<float>(Float16(-2.5f)), -2.5f);
  EXPECT_TRUE(std::isnan(static_cast<float>(Float16(NAN))));
  EXPECT_EQ(BFloat16(1.0f).bits, 0x3f80);
  EXPECT_EQ(static_cast<float>(BFloat16(3.0f)), 3.0f);
}

TEST(TensorMisc, TriluUpperLowerWithKAndBatches) {
  const Tensor x = iota<int64_t>({2, 3, 4});
  for (int upper : {0, 1}) {
    for (int64_t k : {-4, -1, 0, 2, 5}) {
      const Tensor y =
          run_op(OpType::kTrilu, {in(x), in(i64({}, {k}))}, {{"upper", attr_int(upper)}})[0];
      for (int64_t i = 0; i < y.numel(); ++i) {
        const auto o = unravel(i, x.shape());
        const bool keep = upper ? o[2] - o[1] >= k : o[2] - o[1] <= k;
        ASSERT_EQ(y.data_as<int64_t>()[i], keep ? i : 0)
            << "upper " << upper << " k " << k << " at " << i;
      }
    }
  }
  // k omitted: main diagonal.
  EXPECT_EQ(values<float>(run_op(OpType::kTrilu, {in(f32({2, 2}, {1, 2, 3, 4}))}, {})[0]),
            (std::vector<float>{1, 2, 0, 4}));
}

TEST(TensorMisc, TopKTiesNaNAndAxis) {
  const Tensor x = f32({2, 4}, {3, 1, 3, 2, -1, NAN, 7, 7});
  auto outs = run_op(OpType::kTopK, {in(x), in(i64({1}, {2}), true)}, {}, 2);
  ASSERT_EQ(outs[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(values<int64_t>(outs[1]), (std::vector<int64_t>{0, 2, 1, 2}));  // NaN counts as largest
  EXPECT_EQ(outs[0].data_as<float>()[0], 3);
  outs = run_op(OpType::kTopK, {in(x), in(i64({1}, {3}), true)}, {{"largest", attr_int(0)}}, 2);
  EXPECT_EQ(values<int64_t>(outs[1]), (std::vector<int64_t>{1, 3, 0, 0, 2, 3}));
  EXPECT_EQ(values<float>(outs[0])[1], 2);
  const Tensor m = i32({3, 2}, {5, 1, 9, 1, 7, 0});
  outs = run_op(OpType::kTopK, {in(m), in(i64({1}, {2}), true)}, {{"axis", attr_int(0)}}, 2);
  EXPECT_EQ(values<int32_t>(outs[0]), (std::vector<int32_t>{9, 1, 7, 1}));
  EXPECT_EQ(values<int64_t>(outs[1]), (std::vector<int64_t>{1, 0, 2, 1}));
  // opset 9: k attribute.
  outs = run_op(OpType::kTopK, {in(m)}, {{"k", attr_int(1)}}, 2, 1, 9);
  EXPECT_EQ(values<int32_t>(outs[0]), (std::vector<int32_t>{5, 9, 7}));
  EXPECT_THROWS_CODE(run_op(OpType::kTopK, {in(m), in(i64({1}, {3}), true)}, {}, 2),
                     StatusCode::kInvalidModel, "outside [0, 2]");
  EXPECT_THROWS_CODE(run_op(OpType::kTopK, {in(m), in(i64({1}, {1}))}, {}, 2),
                     StatusCode::kNeedsConstant, "input1");
}

}  // namespace
}  // namespace softdpu::tensor_test
