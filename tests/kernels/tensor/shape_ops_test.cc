// Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze.
#include "tensor_test_util.h"

namespace softdpu::tensor_test {
namespace {

using testing::attr_int;
using testing::attr_ints;

TEST(TensorShapeOps, ShapeIsAPlanTimeConstantWithStartEnd) {
  const Tensor x(DType::kFloat32, {3, 4, 5});
  auto outs = prepare_only(OpType::kShape, {in(x)}, {});  // x is a run-time input
  ASSERT_FALSE(outs[0].constant.empty());
  EXPECT_EQ(values<int64_t>(outs[0].constant), (std::vector<int64_t>{3, 4, 5}));
  struct Case {
    int64_t start, end;
    std::vector<int64_t> expect;
  };
  for (const Case& c : std::vector<Case>{{1, 3, {4, 5}},
                                         {-1, 3, {5}},
                                         {0, -1, {3, 4}},
                                         {-10, 10, {3, 4, 5}},
                                         {2, 1, {}},
                                         {3, 3, {}}}) {
    auto o = prepare_only(OpType::kShape, {in(x)},
                          {{"start", attr_int(c.start)}, {"end", attr_int(c.end)}});
    EXPECT_EQ(values<int64_t>(o[0].constant), c.expect) << c.start << ".." << c.end;
  }
}

TEST(TensorShapeOps, SizeIsAPlanTimeScalar) {
  auto outs = prepare_only(OpType::kSize, {in(Tensor(DType::kInt8, {2, 0, 3}))}, {});
  ASSERT_FALSE(outs[0].constant.empty());
  EXPECT_TRUE(outs[0].shape.empty());
  EXPECT_EQ(values<int64_t>(outs[0].constant), (std::vector<int64_t>{0}));
  EXPECT_EQ(values<int64_t>(run_op(OpType::kSize, {in(Tensor(DType::kFloat32, {2, 3}))}, {})[0]),
            (std::vector<int64_t>{6}));
}

TEST(TensorShapeOps, ReshapeZeroCopiesAndMinusOneInfers) {
  const Tensor x = iota<int16_t>({2, 3, 4});
  auto y = run_op(OpType::kReshape, {in(x), in(i64({4}, {2, 0, -1, 2}), true)}, {})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2, 2}));
  EXPECT_EQ(y.dtype(), DType::kInt16);
  EXPECT_EQ(values<int16_t>(y), values<int16_t>(x));  // data unchanged
  // int32 shape input, -1 first.
  y = run_op(OpType::kReshape, {in(x), in(i32({2}, {-1, 8}), true)}, {})[0];
  EXPECT_EQ(y.shape(), (Shape{3, 8}));
}

TEST(TensorShapeOps, ReshapeAllowZeroKeepsLiteralZeros) {
  const Tensor x(DType::kFloat32, {0, 3, 4});
  auto y = run_op(OpType::kReshape, {in(x), in(i64({3}, {3, 4, 0}), true)},
                  {{"allowzero", attr_int(1)}})[0];
  EXPECT_EQ(y.shape(), (Shape{3, 4, 0}));
  EXPECT_THROWS_CODE(
      run_op(OpType::kReshape, {in(x), in(i64({2}, {0, -1}), true)}, {{"allowzero", attr_int(1)}}),
      StatusCode::kInvalidModel, "ambiguous");
}

TEST(TensorShapeOps, ReshapeErrors) {
  const Tensor x(DType::kFloat32, {2, 3});
  EXPECT_THROWS_CODE(run_op(OpType::kReshape, {in(x), in(i64({2}, {4, 2}), true)}, {}),
                     StatusCode::kInvalidModel, "6 elements");
  EXPECT_THROWS_CODE(run_op(OpType::kReshape, {in(x), in(i64({2}, {-1, -1}), true)}, {}),
                     StatusCode::kInvalidModel, "more than one -1");
  EXPECT_THROWS_CODE(run_op(OpType::kReshape, {in(x), in(i64({2}, {4, -1}), true)}, {}),
                     StatusCode::kInvalidModel, "not a multiple");
  EXPECT_THROWS_CODE(run_op(OpType::kReshape, {in(x), in(i64({3}, {1, 1, 0}), true)}, {}),
                     StatusCode::kInvalidModel, "copies an input dimension");
  // A shape computed at run time cannot plan: kNeedsConstant names the value.
  const Thrown t = thrown([&] { run_op(OpType::kReshape, {in(x), in(i64({1}, {6}))}, {}); });
  EXPECT_EQ(t.code, StatusCode::kNeedsConstant);
  EXPECT_EQ(t.subject, "input1");
}

TEST(TensorShapeOps, FlattenAxes) {
  const Tensor x(DType::kUInt8, {2, 3, 4, 5});
  struct Case {
    int64_t axis;
    Shape expect;
  };
  for (const Case& c : std::vector<Case>{
           {0, {1, 120}}, {1, {2, 60}}, {4, {120, 1}}, {-1, {24, 5}}, {-4, {1, 120}}}) {
    EXPECT_EQ(run_op(OpType::kFlatten, {in(x)}, {{"axis", attr_int(c.axis)}})[0].shape(), c.expect)
        << c.axis;
  }
  EXPECT_THROWS_CODE(run_op(OpType::kFlatten, {in(x)}, {{"axis", attr_int(5)}}),
                     StatusCode::kInvalidModel, "out of range");
}

TEST(TensorShapeOps, SqueezeWithAndWithoutAxes) {
  const Tensor x = iota<float>({1, 3, 1, 2});
  EXPECT_EQ(run_op(OpType::kSqueeze, {in(x)}, {})[0].shape(), (Shape{3, 2}));
  auto y = run_op(OpType::kSqueeze, {in(x), in(i64({1}, {-2}), true)}, {})[0];
  EXPECT_EQ(y.shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(values<float>(y), values<float>(x));
  // opset 11: axes is an attribute.
  EXPECT_EQ(run_op(OpType::kSqueeze, {in(x)}, {{"axes", attr_ints({0})}}, 1, 1, 11)[0].shape(),
            (Shape{3, 1, 2}));
  EXPECT_THROWS_CODE(run_op(OpType::kSqueeze, {in(x), in(i64({1}, {1}), true)}, {}),
                     StatusCode::kInvalidModel, "not 1");
  EXPECT_THROWS_CODE(run_op(OpType::kSqueeze, {in(x), in(i64({2}, {0, -4}), true)}, {}),
                     StatusCode::kInvalidModel, "repeat");
}

TEST(TensorShapeOps, UnsqueezeAxesAreAgainstTheOutputRank) {
  const Tensor x(DType::kBool, {3, 4});
  EXPECT_EQ(run_op(OpType::kUnsqueeze, {in(x), in(i64({2}, {3, 0}), true)}, {})[0].shape(),
            (Shape{1, 3, 4, 1}));
  EXPECT_EQ(run_op(OpType::kUnsqueeze, {in(x), in(i64({1}, {-1}), true)}, {})[0].shape(),
            (Shape{3, 4, 1}));
  EXPECT_EQ(run_op(OpType::kUnsqueeze, {in(x)}, {{"axes", attr_ints({1})}}, 1, 1, 11)[0].shape(),
            (Shape{3, 1, 4}));
  EXPECT_THROWS_CODE(run_op(OpType::kUnsqueeze, {in(x), in(i64({1}, {3}), true)}, {}),
                     StatusCode::kInvalidModel, "out of range");
  EXPECT_THROWS_CODE(run_op(OpType::kUnsqueeze, {in(x)}, {}), StatusCode::kInvalidModel,
                     "axes are required");
}

}  // namespace
}  // namespace softdpu::tensor_test
