// Gather, GatherElements, GatherND, OneHot, ScatterElements, Scatter, ScatterND. Expected values
// are the worked examples of the ONNX operator documentation or naive index arithmetic.
#include <random>

#include "tensor_test_util.h"

namespace softdpu::tensor_test {
namespace {

using testing::attr_int;
using testing::attr_string;

TEST(TensorGather, EmbeddingRowsWithInt32AndNegativeIndices) {
  const Tensor table = iota<float>({5, 3});
  const Tensor y = run_op(OpType::kGather, {in(table), in(i32({2, 2}, {4, -1, 0, 2}))}, {})[0];
  ASSERT_EQ(y.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{12, 13, 14, 12, 13, 14, 0, 1, 2, 6, 7, 8}));
}

TEST(TensorGather, InnerAxisAndScalarIndex) {
  const Tensor x = iota<int64_t>({2, 3, 2});
  Tensor y =
      run_op(OpType::kGather, {in(x), in(i64({2}, {2, 0}), true)}, {{"axis", attr_int(1)}})[0];
  ASSERT_EQ(y.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{4, 5, 0, 1, 10, 11, 6, 7}));
  y = run_op(OpType::kGather, {in(x), in(i64({}, {-1}), true)}, {{"axis", attr_int(-1)}})[0];
  ASSERT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{1, 3, 5, 7, 9, 11}));
  EXPECT_THROWS_CODE(
      run_op(OpType::kGather, {in(x), in(i64({1}, {3}), true)}, {{"axis", attr_int(1)}}),
      StatusCode::kInvalidModel, "index 3 in input 1 is out of range");
}

TEST(TensorGather, LargeLookupInParallel) {
  const Tensor table = iota<float>({1000, 64});
  std::vector<int64_t> ids(300);
  std::mt19937 rng(7);
  for (int64_t& v : ids) v = static_cast<int64_t>(rng() % 2000) - 1000;  // [-1000, 1000)
  const Tensor y = run_op(OpType::kGather, {in(table), in(i64({300}, ids))}, {}, 1, 2)[0];
  for (int64_t t = 0; t < 300; ++t) {
    const int64_t row = ids[t] < 0 ? ids[t] + 1000 : ids[t];
    for (int64_t j = 0; j < 64; ++j) ASSERT_EQ(y.data_as<float>()[t * 64 + j], row * 64 + j);
  }
}

TEST(TensorGather, GatherElementsExamples) {
  Tensor y = run_op(OpType::kGatherElements,
                    {in(f32({2, 2}, {1, 2, 3, 4})), in(i64({2, 2}, {0, 0, 1, 0}))},
                    {{"axis", attr_int(1)}})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 1, 4, 3}));
  const Tensor x = f32({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  y = run_op(OpType::kGatherElements, {in(x), in(i32({2, 3}, {1, 2, 0, 2, 0, 0}))}, {})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{4, 8, 3, 7, 2, 3}));
  // Indices smaller than data on the other axes, negative values.
  y = run_op(OpType::kGatherElements, {in(x), in(i64({1, 2}, {-1, -3}))},
             {{"axis", attr_int(0)}})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{7, 2}));
  EXPECT_THROWS_CODE(run_op(OpType::kGatherElements, {in(x), in(i64({1, 4}, {0, 0, 0, 0}))}, {}),
                     StatusCode::kInvalidModel, "larger than data");
}

TEST(TensorGather, GatherNDExamples) {
  const Tensor m = i32({2, 2}, {0, 1, 2, 3});
  EXPECT_EQ(
      values<int32_t>(run_op(OpType::kGatherND, {in(m), in(i64({2, 2}, {0, 0, 1, 1}))}, {})[0]),
      (std::vector<int32_t>{0, 3}));
  Tensor y = run_op(OpType::kGatherND, {in(m), in(i64({2, 1}, {1, 0}))}, {})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{2, 3, 0, 1}));
  const Tensor c = iota<int32_t>({2, 2, 2});
  y = run_op(OpType::kGatherND, {in(c), in(i64({2, 1, 2}, {0, 1, 1, 0}))}, {})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{2, 3, 4, 5}));
  y = run_op(OpType::kGatherND, {in(c), in(i64({2, 1}, {1, 0}))}, {{"batch_dims", attr_int(1)}})[0];
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{2, 3, 4, 5}));
  EXPECT_EQ(values<int32_t>(run_op(OpType::kGatherND, {in(m), in(i32({1, 2}, {-1, -2}))}, {})[0]),
            (std::vector<int32_t>{2}));
  EXPECT_THROWS_CODE(run_op(OpType::kGatherND, {in(m), in(i64({1, 3}, {0, 0, 0}))}, {}),
                     StatusCode::kInvalidModel, "must be in [1, 2]");
  EXPECT_THROWS_CODE(run_op(OpType::kGatherND, {in(m), in(i64({1, 2}, {0, 2}), true)}, {}),
                     StatusCode::kInvalidModel, "out of range");
}

TEST(TensorGather, OneHotAxesNegativeAndFloatIndices) {
  const Tensor idx = i64({3}, {0, -1, 5});
  const Tensor depth = f32({}, {3});
  const Tensor vals = i32({2}, {0, 1});
  Tensor y = run_op(OpType::kOneHot, {in(idx), in(depth, true), in(vals)}, {})[0];
  ASSERT_EQ(y.shape(), (Shape{3, 3}));
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{1, 0, 0, 0, 0, 1, 0, 0, 0}));
  y = run_op(OpType::kOneHot, {in(idx), in(depth, true), in(vals)}, {{"axis", attr_int(0)}})[0];
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{1, 0, 0, 0, 0, 0, 0, 1, 0}));
  y = run_op(OpType::kOneHot,
             {in(f32({2}, {1.0f, 2.7f})), in(i64({1}, {4}), true), in(f32({2}, {-1, 5}))}, {})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{-1, 5, -1, -1, -1, -1, 5, -1}));
  EXPECT_THROWS_CODE(run_op(OpType::kOneHot, {in(idx), in(depth), in(vals)}, {}),
                     StatusCode::kNeedsConstant, "('input1')");
}

TEST(TensorScatter, ScatterElementsExamplesAndReductions) {
  Tensor y = run_op(OpType::kScatterElements,
                    {in(Tensor(DType::kFloat32, {3, 3})), in(i64({2, 3}, {1, 0, 2, 0, 2, 1})),
                     in(f32({2, 3}, {1.0f, 1.1f, 1.2f, 2.0f, 2.1f, 2.2f}))},
                    {})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{2.0f, 1.1f, 0, 1.0f, 0, 2.2f, 0, 2.1f, 1.2f}));
  const Tensor data = f32({1, 5}, {1, 2, 3, 4, 5});
  const Tensor upd = f32({1, 2}, {1.5f, 2.5f});
  y = run_op(OpType::kScatterElements, {in(data), in(i32({1, 2}, {1, -3})), in(upd)},
             {{"axis", attr_int(1)}})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 1.5f, 2.5f, 4, 5}));
  const Tensor dup = i64({1, 2}, {1, 1});
  y = run_op(OpType::kScatterElements, {in(data), in(dup), in(upd)},
             {{"axis", attr_int(1)}, {"reduction", attr_string("add")}})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 6, 3, 4, 5}));
  y = run_op(OpType::kScatterElements, {in(data), in(dup), in(upd)},
             {{"axis", attr_int(1)}, {"reduction", attr_string("mul")}})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 7.5f, 3, 4, 5}));
  // No reduction: the last duplicate wins.
  y = run_op(OpType::kScatterElements, {in(data), in(dup), in(upd)}, {{"axis", attr_int(1)}})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 2.5f, 3, 4, 5}));
  const Tensor ints = i32({4}, {5, 5, 5, 5});
  y = run_op(OpType::kScatterElements, {in(ints), in(i64({2}, {0, 3})), in(i32({2}, {9, 1}))},
             {{"reduction", attr_string("max")}})[0];
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{9, 5, 5, 5}));
  y = run_op(OpType::kScatterElements, {in(ints), in(i64({2}, {0, 3})), in(i32({2}, {9, 1}))},
             {{"reduction", attr_string("min")}})[0];
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{5, 5, 5, 1}));
}

TEST(TensorScatter, ScatterOpset10AndErrors) {
  const Tensor data = iota<uint8_t>({2, 2});
  Tensor y = run_op(OpType::kScatter,
                    {in(data), in(i64({1, 2}, {1, 0})), in(make_tensor<uint8_t>({1, 2}, {7, 8}))},
                    {{"axis", attr_int(1)}}, 1, 1, 10)[0];
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{8, 7, 2, 3}));
  EXPECT_THROWS_CODE(
      run_op(OpType::kScatterElements,
             {in(data), in(i64({1, 1}, {2}), true), in(make_tensor<uint8_t>({1, 1}, {1}))}, {}),
      StatusCode::kInvalidModel, "index 2 is out of range");
  EXPECT_THROWS_CODE(
      run_op(OpType::kScatterElements, {in(data), in(i64({1, 1}, {0})), in(f32({1, 1}, {1}))}, {}),
      StatusCode::kInvalidModel, "updates (input 2) have type float32");
  EXPECT_THROWS_CODE(
      run_op(OpType::kScatterElements, {in(data), in(i64({1, 1}, {0})), in(data)}, {}),
      StatusCode::kInvalidModel, "shape of indices");
}

TEST(TensorScatter, ScatterNDExamples) {
  const Tensor data = f32({8}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor y =
      run_op(OpType::kScatterND,
             {in(data), in(i64({4, 1}, {4, 3, 1, 7})), in(f32({4}, {9, 10, 11, 12}))}, {})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 11, 3, 10, 9, 6, 7, 12}));
  // Slices: index tuples shorter than the rank replace whole rows.
  y = run_op(OpType::kScatterND,
             {in(iota<int64_t>({3, 2})), in(i32({1, 1}, {-1})), in(i64({1, 2}, {7, 8}))}, {})[0];
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{0, 1, 2, 3, 7, 8}));
  y = run_op(OpType::kScatterND, {in(data), in(i64({2, 1}, {0, 0})), in(f32({2}, {5, 6}))},
             {{"reduction", attr_string("add")}})[0];
  EXPECT_EQ(y.data_as<float>()[0], 12);
  y = run_op(OpType::kScatterND, {in(data), in(i64({2, 1}, {1, 1})), in(f32({2}, {5, 6}))},
             {{"reduction", attr_string("mul")}})[0];
  EXPECT_EQ(y.data_as<float>()[1], 60);
  EXPECT_THROWS_CODE(
      run_op(OpType::kScatterND, {in(data), in(i64({2, 1}, {0, 0})), in(f32({3}, {5, 6, 7}))}, {}),
      StatusCode::kInvalidModel, "expected [2]");
  EXPECT_THROWS_CODE(run_op(OpType::kScatterND, {in(data), in(i64({1, 1}, {0})), in(f32({1}, {5}))},
                            {{"reduction", attr_string("sum")}}),
                     StatusCode::kInvalidModel, "reduction must be");
}

}  // namespace
}  // namespace softdpu::tensor_test
