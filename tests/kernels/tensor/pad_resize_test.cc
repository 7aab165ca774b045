// Pad (all modes, pads as inputs and as opset-2 attributes) and Resize / Upsample. Pad's expected
// values come from numpy.pad; Resize's from the interpolation formulas evaluated naively here.
#include <cmath>

#include "tensor_test_util.h"

namespace softdpu::tensor_test {
namespace {

using testing::attr_float;
using testing::attr_int;
using testing::attr_ints;
using testing::attr_string;

std::vector<int64_t> pad2x3(const std::string& mode, std::vector<int64_t> pads, int64_t value = 0) {
  const Tensor x = iota<int64_t>({2, 3});
  std::vector<testing::OpInput> ins = {in(x), in(i64({4}, pads), true)};
  if (mode == "constant") ins.push_back(in(i64({}, {value}), true));
  return values<int64_t>(run_op(OpType::kPad, ins, {{"mode", attr_string(mode)}})[0]);
}

TEST(TensorPad, ModesMatchNumpy) {
  EXPECT_EQ(pad2x3("reflect", {1, 2, 0, 3}),
            (std::vector<int64_t>{5, 4, 3, 4, 5, 4, 3, 4, 2, 1, 0, 1,
                                  2, 1, 0, 1, 5, 4, 3, 4, 5, 4, 3, 4}));
  EXPECT_EQ(pad2x3("edge", {0, 1, 1, 2}),
            (std::vector<int64_t>{0, 0, 1, 2, 2, 2, 3, 3, 4, 5, 5, 5, 3, 3, 4, 5, 5, 5}));
  EXPECT_EQ(pad2x3("wrap", {1, 4, 1, 0}),
            (std::vector<int64_t>{5, 3, 4, 5, 3, 4, 5, 2, 0, 1, 2, 0, 1, 2,
                                  5, 3, 4, 5, 3, 4, 5, 2, 0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(pad2x3("constant", {1, 0, 0, 1}, 9),
            (std::vector<int64_t>{9, 9, 9, 9, 0, 1, 2, 9, 3, 4, 5, 9}));
}

TEST(TensorPad, NegativePadsCropFirst) {
  // Crop column 0 and the last row, then pad one constant column on the right.
  EXPECT_EQ(pad2x3("constant", {0, -1, -1, 1}, 7), (std::vector<int64_t>{1, 2, 7}));
  // Edge after cropping repeats the new border.
  EXPECT_EQ(pad2x3("edge", {0, -2, 0, 1}), (std::vector<int64_t>{2, 2, 5, 5}));
}

TEST(TensorPad, RunTimeConstantValueAxesAndOldOpset) {
  const Tensor x = f32({2}, {1, 2});
  Tensor y = run_op(OpType::kPad, {in(x), in(i64({2}, {1, 2}), true), in(f32({}, {-5}))}, {})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{-5, 1, 2, -5, -5}));
  // opset 18 axes: pads only for the listed axes.
  y = run_op(
      OpType::kPad,
      {in(iota<float>({2, 2})), in(i64({2}, {1, 0}), true), none(), in(i64({1}, {-1}), true)}, {},
      1, 1, 18)[0];
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 0, 1, 0, 2, 3}));
  // opset 2: pads and value are attributes; the float value converts to the data type.
  y = run_op(OpType::kPad, {in(make_tensor<uint8_t>({2}, {1, 2}))},
             {{"pads", attr_ints({2, 0})}, {"value", attr_float(4.f)}}, 1, 1, 2)[0];
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{4, 4, 1, 2}));
}

TEST(TensorPad, LargeReflectInParallelMatchesSerial) {
  const Tensor x = testing::random_tensor({2, 16, 40, 40});
  const std::vector<testing::OpInput> ins = {in(x), in(i64({8}, {0, 0, 3, 2, 0, 0, 1, 4}), true)};
  const Attrs attrs = {{"mode", attr_string("reflect")}};
  const Tensor a = run_op(OpType::kPad, ins, attrs, 1, 1)[0],
               b = run_op(OpType::kPad, ins, attrs, 1, 2)[0];
  EXPECT_EQ(a.shape(), (Shape{2, 16, 44, 46}));
  EXPECT_EQ(values<float>(a), values<float>(b));
  // Spot check: output (0, 0, 0, 0) reflects input (0, 0, 3, 2).
  EXPECT_EQ(a.data_as<float>()[0], x.data_as<float>()[3 * 40 + 2]);
}

TEST(TensorPad, Errors) {
  EXPECT_THROWS_CODE(
      run_op(OpType::kPad, {in(iota<float>({2, 3})), in(i64({2}, {1, 1}), true)}, {}),
      StatusCode::kInvalidModel, "2 x 2 entries");
  EXPECT_THROWS_CODE(pad2x3("edge", {0, -4, 0, 0}), StatusCode::kInvalidModel, "crop 4");
  EXPECT_THROWS_CODE(pad2x3("mirror", {0, 0, 0, 0}), StatusCode::kInvalidModel, "mode must be");
  EXPECT_THROWS_CODE(run_op(OpType::kPad, {in(iota<float>({2})), in(i64({2}, {1, 1}))}, {}),
                     StatusCode::kNeedsConstant, "input1");
}

Attrs resize_attrs(const std::string& mode, const std::string& coord) {
  return {{"mode", attr_string(mode)}, {"coordinate_transformation_mode", attr_string(coord)}};
}

TEST(TensorResize, NearestUpsampleAnyDtype) {
  const Tensor x = make_tensor<uint8_t>({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor y = run_op(OpType::kResize, {in(x), none(), in(f32({4}, {1, 1, 2, 2}), true)},
                          {{"mode", attr_string("nearest")}})[0];
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(values<uint8_t>(y),
            (std::vector<uint8_t>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

// Naive N-D linear interpolation with align_corners coordinates.
float trilinear(const Tensor& x, const Shape& out, const std::vector<int64_t>& o) {
  const Shape& s = x.shape();
  const size_t r = s.size();
  float sum = 0;
  for (int corner = 0; corner < (1 << r); ++corner) {
    float w = 1;
    std::vector<int64_t> idx(r);
    for (size_t d = 0; d < r; ++d) {
      const double c = out[d] == 1 ? 0.0 : static_cast<double>(o[d]) * (s[d] - 1) / (out[d] - 1);
      const int64_t i0 = std::min<int64_t>(static_cast<int64_t>(std::floor(c)), s[d] - 1);
      const double f = c - i0;
      const bool hi = (corner >> d) & 1;
      idx[d] = std::min<int64_t>(i0 + (hi ? 1 : 0), s[d] - 1);
      w *= static_cast<float>(hi ? f : 1 - f);
    }
    sum += w * x.data_as<float>()[ravel(idx, s)];
  }
  return sum;
}

TEST(TensorResize, LinearAlignCornersNDAgainstNaive) {
  const Tensor x2 = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor y = run_op(OpType::kResize, {in(x2), none(), none(), in(i64({4}, {1, 1, 3, 3}), true)},
                    resize_attrs("linear", "align_corners"))[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4}));
  // Three resized axes: three separable passes through the scratch buffers.
  const Tensor x3 = testing::random_tensor({2, 3, 4});
  const Shape out = {3, 5, 2};
  y = run_op(OpType::kResize, {in(x3), none(), none(), in(i64({3}, {3, 5, 2}), true)},
             resize_attrs("linear", "align_corners"))[0];
  ASSERT_EQ(y.shape(), out);
  for (int64_t i = 0; i < y.numel(); ++i) {
    EXPECT_NEAR(y.data_as<float>()[i], trilinear(x3, out, unravel(i, out)), 1e-5) << i;
  }
}

TEST(TensorResize, LinearOnIntegersRoundsHalfPixel1D) {
  // half_pixel, scale 2: source coordinates -0.25, 0.25, 0.75, 1.25 (clamped at the edges).
  const Tensor y =
      run_op(OpType::kResize, {in(i32({2}, {0, 100})), none(), in(f32({1}, {2}), true)},
             {{"mode", attr_string("linear")}})[0];
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{0, 25, 75, 100}));
}

TEST(TensorResize, CubicKeepsConstantsAndTfCropExtrapolates) {
  Tensor x(DType::kFloat32, {1, 1, 3, 5});
  for (int64_t i = 0; i < x.numel(); ++i) x.data_as<float>()[i] = 2.5f;
  for (int exclude : {0, 1}) {
    Attrs a = resize_attrs("cubic", "half_pixel");
    a["exclude_outside"] = attr_int(exclude);
    a["cubic_coeff_a"] = attr_float(-0.5f);
    const Tensor y =
        run_op(OpType::kResize, {in(x), none(), in(f32({4}, {1, 1, 1.7f, 0.6f}), true)}, a)[0];
    EXPECT_EQ(y.shape(), (Shape{1, 1, 5, 3}));
    for (float v : values<float>(y)) EXPECT_NEAR(v, 2.5f, 1e-5);
  }
  // x_original = j * (1.5 - 0) * 3 / 2 = 0, 2.25, 4.5: the last is outside [0, 3].
  Attrs a = resize_attrs("linear", "tf_crop_and_resize");
  a["extrapolation_value"] = attr_float(9.f);
  const Tensor y = run_op(
      OpType::kResize,
      {in(f32({4}, {1, 2, 3, 4})), in(f32({2}, {0, 1.5f}), true), none(), in(i64({1}, {3}), true)},
      a)[0];
  const std::vector<float> v = values<float>(y);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_FLOAT_EQ(v[0], 1);
  EXPECT_FLOAT_EQ(v[1], 3.25f);
  EXPECT_FLOAT_EQ(v[2], 9);
}

TEST(TensorResize, ParallelMatchesSerial) {
  const Tensor x = testing::random_tensor({1, 4, 32, 32});
  for (const char* mode : {"nearest", "linear", "cubic"}) {
    const std::vector<testing::OpInput> ins = {in(x), none(), none(),
                                               in(i64({4}, {1, 4, 48, 40}), true)};
    const Attrs a = {{"mode", attr_string(mode)}};
    EXPECT_EQ(values<float>(run_op(OpType::kResize, ins, a, 1, 1)[0]),
              values<float>(run_op(OpType::kResize, ins, a, 1, 2)[0]))
        << mode;
  }
}

TEST(TensorResize, OldOpsetsAndUpsample) {
  // Resize-10 shrinking with nearest rounds the source coordinate up (1 / 0.6 -> 2).
  Tensor y = run_op(OpType::kResize, {in(f32({4}, {1, 2, 3, 4})), in(f32({1}, {0.6f}), true)},
                    {{"mode", attr_string("nearest")}}, 1, 1, 10)[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 3}));
  const Tensor x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  const std::vector<float> expect = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                     3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
  y = run_op(OpType::kUpsample, {in(x), in(f32({4}, {1, 1, 2, 3}), true)},
             {{"mode", attr_string("nearest")}}, 1, 1, 9)[0];
  EXPECT_EQ(values<float>(y), expect);
  y = run_op(OpType::kUpsample, {in(x)},
             {{"mode", attr_string("nearest")}, {"scales", testing::attr_floats({1, 1, 2, 3})}}, 1,
             1, 7)[0];
  EXPECT_EQ(values<float>(y), expect);
  // Upsample linear is asymmetric: x / 2 -> 0, 0.5, 1, 1.5 (clamped).
  y = run_op(OpType::kUpsample, {in(f32({2}, {0, 8})), in(f32({1}, {2}), true)},
             {{"mode", attr_string("linear")}}, 1, 1, 9)[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 4, 8, 8}));
}

TEST(TensorResize, Errors) {
  const Tensor x = iota<float>({1, 1, 2, 2});
  const Tensor scales = f32({4}, {1, 1, 2, 2});
  const Tensor sizes = i64({4}, {1, 1, 4, 4});
  EXPECT_THROWS_CODE(
      run_op(OpType::kResize, {in(x), none(), in(scales, true), in(sizes, true)}, {}),
      StatusCode::kInvalidModel, "exactly one of scales");
  EXPECT_THROWS_CODE(run_op(OpType::kResize, {in(x), none(), none(), in(sizes)}, {}),
                     StatusCode::kNeedsConstant, "('input3')");
  EXPECT_THROWS_CODE(run_op(OpType::kResize, {in(x), none(), in(f32({2}, {2, 2}), true)}, {}),
                     StatusCode::kInvalidModel, "expected 4");
  EXPECT_THROWS_CODE(
      run_op(OpType::kResize, {in(x), none(), in(scales, true)}, {{"mode", attr_string("area")}}),
      StatusCode::kInvalidModel, "mode must be");
  EXPECT_THROWS_CODE(run_op(OpType::kResize, {in(x), none(), in(scales, true)},
                            {{"antialias", attr_int(1)}}, 1, 1, 18),
                     StatusCode::kUnsupported, "antialias");
  EXPECT_THROWS_CODE(run_op(OpType::kResize, {in(x), none(), in(scales, true)},
                            resize_attrs("linear", "tf_crop_and_resize")),
                     StatusCode::kInvalidModel, "needs roi");
}

}  // namespace
}  // namespace softdpu::tensor_test
