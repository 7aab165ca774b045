// Concat, Split, Slice, Compress, ReverseSequence.
#include <limits>

#include "tensor_test_util.h"

namespace softdpu::tensor_test {
namespace {

using testing::attr_int;
using testing::attr_ints;

TEST(TensorConcatSplit, ConcatMiddleAxisWithAnEmptyInput) {
  const Tensor a = iota<int32_t>({2, 1, 2}), b = i32({2, 0, 2}, {}),
               c = i32({2, 2, 2}, {10, 11, 12, 13, 14, 15, 16, 17});
  const Tensor y = run_op(OpType::kConcat, {in(a), in(b), in(c)}, {{"axis", attr_int(-2)}})[0];
  ASSERT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17}));
}

TEST(TensorConcatSplit, ConcatLargeInParallel) {
  const Tensor a = iota<float>({64, 300}), b = iota<float>({64, 500});
  const Tensor y = run_op(OpType::kConcat, {in(a), in(b)}, {{"axis", attr_int(1)}}, 1, 2)[0];
  ASSERT_EQ(y.shape(), (Shape{64, 800}));
  for (int64_t r = 0; r < 64; ++r) {
    for (int64_t j = 0; j < 800; ++j) {
      const float expect =
          j < 300 ? static_cast<float>(r * 300 + j) : static_cast<float>(r * 500 + j - 300);
      ASSERT_EQ(y.data_as<float>()[r * 800 + j], expect);
    }
  }
}

TEST(TensorConcatSplit, ConcatErrors) {
  const Tensor a(DType::kFloat32, {2, 2}), b(DType::kFloat32, {3, 3}), c(DType::kInt32, {2, 2});
  EXPECT_THROWS_CODE(run_op(OpType::kConcat, {in(a), in(b)}, {{"axis", attr_int(0)}}),
                     StatusCode::kInvalidModel, "does not match input 0");
  EXPECT_THROWS_CODE(run_op(OpType::kConcat, {in(a), in(c)}, {{"axis", attr_int(0)}}),
                     StatusCode::kInvalidModel, "has type int32");
  EXPECT_THROWS_CODE(run_op(OpType::kConcat, {in(a), in(a)}, {}), StatusCode::kInvalidModel,
                     "'axis' is required");
}

TEST(TensorConcatSplit, SplitBySizesEqualAndAttribute) {
  const Tensor x = iota<int64_t>({2, 6});
  // sizes input (opset 13)
  auto outs =
      run_op(OpType::kSplit, {in(x), in(i64({3}, {1, 0, 5}), true)}, {{"axis", attr_int(1)}}, 3);
  EXPECT_EQ(outs[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(outs[1].shape(), (Shape{2, 0}));
  EXPECT_EQ(values<int64_t>(outs[0]), (std::vector<int64_t>{0, 6}));
  EXPECT_EQ(values<int64_t>(outs[2]), (std::vector<int64_t>{1, 2, 3, 4, 5, 7, 8, 9, 10, 11}));
  // equal parts, negative axis
  outs = run_op(OpType::kSplit, {in(x)}, {{"axis", attr_int(-1)}}, 3);
  EXPECT_EQ(values<int64_t>(outs[1]), (std::vector<int64_t>{2, 3, 8, 9}));
  // opset 11: 'split' attribute
  outs = run_op(OpType::kSplit, {in(x)}, {{"axis", attr_int(0)}, {"split", attr_ints({1, 1})}}, 2,
                1, 11);
  EXPECT_EQ(values<int64_t>(outs[1]), (std::vector<int64_t>{6, 7, 8, 9, 10, 11}));
  EXPECT_THROWS_CODE(run_op(OpType::kSplit, {in(x)}, {{"axis", attr_int(1)}}, 4),
                     StatusCode::kInvalidModel, "equal parts");
  EXPECT_THROWS_CODE(
      run_op(OpType::kSplit, {in(x), in(i64({2}, {2, 2}), true)}, {{"axis", attr_int(1)}}, 2),
      StatusCode::kInvalidModel, "sum to 4");
}

// Slices [0, 10) with one axis' parameters; the expected indices are listed by hand.
std::vector<float> slice1d(int64_t start, int64_t end, int64_t step, bool int32 = false) {
  const Tensor x = iota<float>({10});
  std::vector<testing::OpInput> ins = {in(x)};
  if (int32) {
    for (int64_t v : {start, end, int64_t{0}, step})
      ins.push_back(in(i32({1}, {static_cast<int32_t>(v)}), true));
  } else {
    for (int64_t v : {start, end, int64_t{0}, step}) ins.push_back(in(i64({1}, {v}), true));
  }
  return values<float>(run_op(OpType::kSlice, ins, {})[0]);
}

TEST(TensorSlice, StepsNegativesAndClamping) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max(),
                    kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(slice1d(2, 7, 2), (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(slice1d(-3, 1000, 1), (std::vector<float>{7, 8, 9}));
  EXPECT_EQ(slice1d(-100, 2, 1), (std::vector<float>{0, 1}));
  EXPECT_EQ(slice1d(8, 2, -3), (std::vector<float>{8, 5}));
  EXPECT_EQ(slice1d(kMax, kMin, -1), (std::vector<float>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(slice1d(-1, -11, -4), (std::vector<float>{9, 5, 1}));
  EXPECT_EQ(slice1d(0, kMax, kMax), (std::vector<float>{0}));
  EXPECT_EQ(slice1d(5, 5, 1), (std::vector<float>{}));
  EXPECT_EQ(slice1d(7, 3, 1), (std::vector<float>{}));
  EXPECT_EQ(slice1d(1000, 1000, 1), (std::vector<float>{}));
  EXPECT_EQ(slice1d(3, 8, 2, true), (std::vector<float>{3, 5, 7}));
}

TEST(TensorSlice, MultiAxisWithNegativeAxesAgainstNaiveIndexing) {
  const Tensor x = iota<int16_t>({4, 5, 6});
  const Tensor y = run_op(OpType::kSlice,
                          {in(x), in(i64({2}, {4, -1}), true), in(i64({2}, {0, 1}), true),
                           in(i64({2}, {-1, 0}), true), in(i64({2}, {-2, -2}), true)},
                          {})[0];
  // axis 2 (step -2 from 4 down to >0): 4, 2; axis 0 (from 3 down to >1): 3
  ASSERT_EQ(y.shape(), (Shape{1, 5, 2}));
  for (int64_t i = 0; i < y.numel(); ++i) {
    const auto o = unravel(i, y.shape());
    EXPECT_EQ(y.data_as<int16_t>()[i],
              x.data_as<int16_t>()[ravel({3, o[1], 4 - 2 * o[2]}, x.shape())]);
  }
}

TEST(TensorSlice, DefaultAxesStepsOldOpsetAndErrors) {
  const Tensor x = iota<float>({3, 4});
  Tensor y =
      run_op(OpType::kSlice, {in(x), in(i64({1}, {1}), true), in(i64({1}, {3}), true)}, {})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 4}));
  EXPECT_EQ(y.data_as<float>()[0], 4);
  // opset 9: attributes
  y = run_op(OpType::kSlice, {in(x)},
             {{"starts", attr_ints({1})}, {"ends", attr_ints({3})}, {"axes", attr_ints({1})}}, 1, 1,
             9)[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 2, 5, 6, 9, 10}));
  EXPECT_THROWS_CODE(run_op(OpType::kSlice,
                            {in(x), in(i64({1}, {0}), true), in(i64({1}, {2}), true),
                             in(i64({1}, {0}), true), in(i64({1}, {0}), true)},
                            {}),
                     StatusCode::kInvalidModel, "contain 0");
  EXPECT_THROWS_CODE(run_op(OpType::kSlice,
                            {in(x), in(i64({2}, {0, 0}), true), in(i64({2}, {1, 1}), true),
                             in(i64({2}, {1, -1}), true)},
                            {}),
                     StatusCode::kInvalidModel, "repeat");
  EXPECT_THROWS_CODE(
      run_op(OpType::kSlice, {in(x), in(i64({1}, {0})), in(i64({1}, {1}), true)}, {}),
      StatusCode::kNeedsConstant, "('input1')");
}

TEST(TensorSlice, CompressWithAndWithoutAxis) {
  const Tensor x = iota<float>({3, 2});
  auto cond = [](std::vector<bool> v) {
    Tensor t(DType::kBool, {static_cast<int64_t>(v.size())});
    for (size_t i = 0; i < v.size(); ++i) t.data_as<bool>()[i] = v[i];
    return t;
  };
  Tensor y = run_op(OpType::kCompress, {in(x), in(cond({false, true, true}), true)},
                    {{"axis", attr_int(0)}})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{2, 3, 4, 5}));
  y = run_op(OpType::kCompress, {in(x), in(cond({false, true}), true)},
             {{"axis", attr_int(-1)}})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 3, 5}));
  y = run_op(OpType::kCompress, {in(x), in(cond({true, false, false, true}), true)}, {})[0];
  EXPECT_EQ(y.shape(), (Shape{2}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 3}));
  EXPECT_THROWS_CODE(run_op(OpType::kCompress, {in(x), in(cond({false, false, false, true}), true)},
                            {{"axis", attr_int(0)}}),
                     StatusCode::kInvalidModel, "selects index 3");
  EXPECT_THROWS_CODE(run_op(OpType::kCompress, {in(x), in(cond({true}))}, {}),
                     StatusCode::kNeedsConstant, "input1");
}

TEST(TensorSlice, ReverseSequenceTimeAndBatchMajor) {
  const Tensor x = iota<float>({4, 4});
  // batch_axis 0: row b reverses its first lens[b] entries (lens known only at run time).
  Tensor y = run_op(OpType::kReverseSequence, {in(x), in(i64({4}, {1, 2, 3, 4}))},
                    {{"batch_axis", attr_int(0)}, {"time_axis", attr_int(1)}})[0];
  EXPECT_EQ(values<float>(y),
            (std::vector<float>{0, 1, 2, 3, 5, 4, 6, 7, 10, 9, 8, 11, 15, 14, 13, 12}));
  y = run_op(OpType::kReverseSequence, {in(x), in(i32({4}, {4, 3, 2, 1}), true)},
             {{"batch_axis", attr_int(1)}, {"time_axis", attr_int(0)}})[0];
  EXPECT_EQ(values<float>(y),
            (std::vector<float>{12, 9, 6, 3, 8, 5, 2, 7, 4, 1, 10, 11, 0, 13, 14, 15}));
  EXPECT_THROWS_CODE(
      run_op(OpType::kReverseSequence, {in(x), in(i64({4}, {1, 5, 1, 1}), true)}, {}),
      StatusCode::kInvalidModel, "outside [0, 4]");
}

}  // namespace
}  // namespace softdpu::tensor_test
