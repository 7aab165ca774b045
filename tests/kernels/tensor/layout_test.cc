// Transpose, DepthToSpace, SpaceToDepth, Expand, Tile: every output element checked against the
// index formula of the ONNX spec, computed naively here.
#include "tensor_test_util.h"

namespace softdpu::tensor_test {
namespace {

using testing::attr_int;
using testing::attr_ints;
using testing::attr_string;

template <typename T>
void check_transpose(const Shape& shape, const std::vector<int64_t>& perm, int threads = 1) {
  const Tensor x = iota<T>(shape);
  const Tensor y = run_op(OpType::kTranspose, {in(x)}, {{"perm", attr_ints(perm)}}, 1, threads)[0];
  Shape out(shape.size());
  for (size_t i = 0; i < perm.size(); ++i) out[i] = shape[perm[i]];
  ASSERT_EQ(y.shape(), out);
  for (int64_t i = 0; i < y.numel(); ++i) {
    const std::vector<int64_t> o = unravel(i, out);
    std::vector<int64_t> s(shape.size());
    for (size_t k = 0; k < perm.size(); ++k) s[perm[k]] = o[k];
    ASSERT_EQ(y.data_as<T>()[i], x.data_as<T>()[ravel(s, shape)]) << "element " << i;
  }
}

TEST(TensorLayout, TransposeCommonPermutations) {
  check_transpose<float>({37, 53}, {1, 0});            // 2-D, not a multiple of the tile
  check_transpose<float>({2, 5, 7, 3}, {0, 2, 3, 1});  // NCHW -> NHWC
  check_transpose<float>({2, 7, 6, 5}, {0, 3, 1, 2});  // NHWC -> NCHW
  check_transpose<float>({2, 4, 3, 8}, {0, 2, 1, 3});  // attention heads: rows stay contiguous
  check_transpose<float>({3, 2, 5, 4}, {0, 1, 3, 2});  // batched matrix transpose
  check_transpose<float>({2, 3, 4, 5, 2}, {4, 2, 0, 3, 1});
  check_transpose<float>({1, 6, 1, 5}, {3, 2, 1, 0});  // size-1 dims
}

TEST(TensorLayout, TransposeEveryElementSize) {
  check_transpose<uint8_t>({19, 33}, {1, 0});
  check_transpose<uint16_t>({4, 9, 17}, {2, 0, 1});
  check_transpose<int64_t>({5, 3, 18}, {1, 2, 0});
  check_transpose<double>({3, 4}, {1, 0});
}

TEST(TensorLayout, TransposeInParallelMatchesTheFormula) {
  check_transpose<float>({300, 257}, {1, 0}, 2);
  check_transpose<float>({1, 64, 40, 40}, {0, 2, 3, 1}, 2);
}

TEST(TensorLayout, TransposeDefaultReversesAndRejectsBadPerm) {
  const Tensor x = iota<int32_t>({2, 3, 4});
  const Tensor y = run_op(OpType::kTranspose, {in(x)}, {})[0];
  EXPECT_EQ(y.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(y.data_as<int32_t>()[1], 12);  // y[0,0,1] = x[1,0,0]
  EXPECT_THROWS_CODE(run_op(OpType::kTranspose, {in(x)}, {{"perm", attr_ints({0, 0, 1})}}),
                     StatusCode::kInvalidModel, "not a permutation");
  EXPECT_THROWS_CODE(run_op(OpType::kTranspose, {in(x)}, {{"perm", attr_ints({0, 1})}}),
                     StatusCode::kInvalidModel, "rank 3");
}

TEST(TensorLayout, DepthToSpaceBothModes) {
  const int64_t n = 2, c = 8, h = 2, w = 3, b = 2, oc = c / (b * b);
  const Tensor x = iota<float>({n, c, h, w});
  for (const char* mode : {"DCR", "CRD"}) {
    const Tensor y = run_op(OpType::kDepthToSpace, {in(x)},
                            {{"blocksize", attr_int(b)}, {"mode", attr_string(mode)}})[0];
    ASSERT_EQ(y.shape(), (Shape{n, oc, h * b, w * b}));
    for (int64_t i = 0; i < y.numel(); ++i) {
      const auto o = unravel(i, y.shape());  // n, c, y, x
      const int64_t bi = o[2] % b, bj = o[3] % b;
      const int64_t ch =
          std::string(mode) == "DCR" ? (bi * b + bj) * oc + o[1] : o[1] * b * b + bi * b + bj;
      ASSERT_EQ(y.data_as<float>()[i],
                x.data_as<float>()[ravel({o[0], ch, o[2] / b, o[3] / b}, x.shape())])
          << mode << " element " << i;
    }
  }
  EXPECT_THROWS_CODE(run_op(OpType::kDepthToSpace, {in(Tensor(DType::kFloat32, {1, 6, 2, 2}))},
                            {{"blocksize", attr_int(2)}}),
                     StatusCode::kInvalidModel, "multiple of blocksize^2");
}

TEST(TensorLayout, SpaceToDepthFormula) {
  const int64_t b = 3;
  const Tensor x = iota<int64_t>({1, 2, 6, 3});
  const Tensor y = run_op(OpType::kSpaceToDepth, {in(x)}, {{"blocksize", attr_int(b)}})[0];
  ASSERT_EQ(y.shape(), (Shape{1, 18, 2, 1}));
  for (int64_t i = 0; i < y.numel(); ++i) {
    const auto o = unravel(i, y.shape());
    const int64_t blk = o[1] / 2, ch = o[1] % 2;  // out channel = (bi*b + bj)*C + c
    const int64_t bi = blk / b, bj = blk % b;
    EXPECT_EQ(y.data_as<int64_t>()[i],
              x.data_as<int64_t>()[ravel({0, ch, o[2] * b + bi, o[3] * b + bj}, x.shape())]);
  }
  EXPECT_THROWS_CODE(run_op(OpType::kSpaceToDepth, {in(x)}, {{"blocksize", attr_int(4)}}),
                     StatusCode::kInvalidModel, "multiples of blocksize");
}

TEST(TensorLayout, ExpandBroadcastsBothWays) {
  const Tensor x = f32({3, 1}, {1, 2, 3});
  Tensor y = run_op(OpType::kExpand, {in(x), in(i64({3}, {2, 1, 4}), true)}, {})[0];
  ASSERT_EQ(y.shape(), (Shape{2, 3, 4}));
  for (int64_t i = 0; i < y.numel(); ++i) EXPECT_EQ(y.data_as<float>()[i], 1 + (i / 4) % 3);
  // A target dim of 1 keeps the input's larger dim.
  y = run_op(OpType::kExpand, {in(x), in(i64({1}, {1}), true)}, {})[0];
  EXPECT_EQ(y.shape(), (Shape{3, 1}));
  EXPECT_THROWS_CODE(run_op(OpType::kExpand, {in(x), in(i64({2}, {2, 2}), true)}, {}),
                     StatusCode::kInvalidModel, "cannot be broadcast");
}

TEST(TensorLayout, TileRepeatsEveryAxis) {
  const Tensor x = iota<uint8_t>({2, 3});
  const Tensor y = run_op(OpType::kTile, {in(x), in(i64({2}, {3, 2}), true)}, {})[0];
  ASSERT_EQ(y.shape(), (Shape{6, 6}));
  for (int64_t i = 0; i < y.numel(); ++i) {
    const auto o = unravel(i, y.shape());
    EXPECT_EQ(y.data_as<uint8_t>()[i], x.data_as<uint8_t>()[(o[0] % 2) * 3 + o[1] % 3]);
  }
  EXPECT_EQ(run_op(OpType::kTile, {in(x), in(i64({2}, {0, 2}), true)}, {})[0].shape(),
            (Shape{0, 6}));
  EXPECT_THROWS_CODE(run_op(OpType::kTile, {in(x), in(i64({1}, {2}), true)}, {}),
                     StatusCode::kInvalidModel, "one entry per input dimension");
}

}  // namespace
}  // namespace softdpu::tensor_test
