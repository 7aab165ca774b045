#include <cmath>
#include <limits>

#include "kernels/elementwise/ew_test_util.h"

namespace softdpu::testing::ew {
namespace {

using ir::OpType;

// Naive numpy broadcasting: the flat index into `in` for output index `o` of shape `out`.
int64_t source_index(const Shape& in, const Shape& out, int64_t o) {
  int64_t idx = 0, stride = 1;
  for (int d = static_cast<int>(out.size()) - 1; d >= 0; --d) {
    int64_t coord = o % out[d];
    o /= out[d];
    int di = d - static_cast<int>(out.size() - in.size());
    if (di >= 0) {
      if (in[di] != 1) idx += coord * stride;
      stride *= in[di];
    }
  }
  return idx;
}

Shape broadcast_ref(const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t da = i + a.size() >= out.size() ? a[i + a.size() - out.size()] : 1;
    int64_t db = i + b.size() >= out.size() ? b[i + b.size() - out.size()] : 1;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

struct ShapePair {
  Shape a, b;
};

const std::vector<ShapePair> kBroadcastCases = {
    {{1000}, {1000}},              // same shape
    {{33}, {}},                    // tensor op scalar
    {{}, {7}},                     // scalar op tensor
    {{1}, {1}},                    // one element
    {{7, 33}, {33}},               // trailing bias
    {{1, 8, 5, 7}, {8, 1, 1}},     // NCHW + per-channel
    {{1, 4, 1, 6}, {3, 1, 5, 6}},  // both sides broadcast
    {{3, 1}, {1, 5}},              // outer product
    {{2, 3, 4, 5}, {2, 1, 4, 1}},  // alternating
    {{5, 1, 1, 1}, {1, 1, 1, 7}},  // size-1 dims everywhere
    {{1, 1}, {3, 1, 1}},           // rank grows
    {{0, 3}, {3}},                 // empty
};

// unidirectional: only the cases where b broadcasts to a's shape (PRelu).
void check_binary_f32(OpType op, double (*ref)(double, double), bool unidirectional = false) {
  for (const ShapePair& c : kBroadcastCases) {
    Tensor a = random_tensor(c.a, -4, 4, 3);
    Tensor b = random_tensor(c.b, -4, 4, 4);
    Shape out = broadcast_ref(c.a, c.b);
    if (unidirectional && out != c.a) continue;
    for (Isa isa : supported_isas()) {
      ScopedIsa scoped(isa);
      for (int threads : {1, 2}) {
        Tensor y = run_op(op, {in(a), in(b)}, {}, 1, threads)[0];
        ASSERT_EQ(y.shape(), out) << shape_to_string(c.a) << " " << shape_to_string(c.b);
        for (int64_t i = 0; i < y.numel(); ++i) {
          float av = a.data_as<float>()[source_index(c.a, out, i)];
          float bv = b.data_as<float>()[source_index(c.b, out, i)];
          ASSERT_TRUE(near(y.data_as<float>()[i], static_cast<float>(ref(av, bv)), 0, 0))
              << ir::op_name(op) << " " << shape_to_string(c.a) << " " << shape_to_string(c.b)
              << " at " << i << " isa " << isa_name(isa);
        }
      }
    }
  }
}

TEST(ElementwiseBinary, ArithmeticBroadcastsOnEveryIsa) {
  check_binary_f32(OpType::kAdd, [](double a, double b) { return a + b; });
  check_binary_f32(OpType::kSub, [](double a, double b) { return a - b; });
  check_binary_f32(OpType::kMul, [](double a, double b) { return a * b; });
  check_binary_f32(OpType::kDiv, [](double a, double b) { return a / b; });
  check_binary_f32(
      OpType::kPRelu, [](double a, double b) { return a < 0 ? a * b : a; }, true);
}

TEST(ElementwiseBinary, LargeTensorsSplitAcrossThreads) {
  Tensor a = random_tensor({2, 3, 40000}, -1, 1, 5), b = random_tensor({3, 1}, -1, 1, 6);
  Tensor one = run_op(OpType::kMul, {in(a), in(b)}, {}, 1, 1)[0];
  Tensor two = run_op(OpType::kMul, {in(a), in(b)}, {}, 1, 2)[0];
  EXPECT_EQ(max_abs_diff(one, two), 0.f);
  for (int64_t i = 0; i < a.numel(); i += 997) {
    EXPECT_EQ(one.data_as<float>()[i], a.data_as<float>()[i] * b.data_as<float>()[(i / 40000) % 3]);
  }
}

TEST(ElementwiseBinary, IntegerArithmeticWrapsAndDividesSafely) {
  const int32_t kMin = std::numeric_limits<int32_t>::min(),
                kMax = std::numeric_limits<int32_t>::max();
  Tensor a = make_tensor<int32_t>({5}, {kMax, kMin, 7, -7, kMin});
  Tensor b = make_tensor<int32_t>({5}, {1, -1, 2, 2, 0});
  EXPECT_EQ(values<int32_t>(run_op(OpType::kAdd, {in(a), in(b)}, {})[0]),
            (std::vector<int32_t>{kMin, kMax, 9, -5, kMin}));
  EXPECT_EQ(values<int32_t>(run_op(OpType::kDiv, {in(a), in(b)}, {})[0]),
            (std::vector<int32_t>{kMax, kMin, 3, -3, 0}));
  Tensor u = make_tensor<uint8_t>({3}, {250, 3, 16}), v = make_tensor<uint8_t>({3}, {10, 5, 16});
  EXPECT_EQ(values<uint8_t>(run_op(OpType::kAdd, {in(u), in(v)}, {})[0]),
            (std::vector<uint8_t>{4, 8, 32}));
  EXPECT_EQ(values<uint8_t>(run_op(OpType::kSub, {in(u), in(v)}, {})[0]),
            (std::vector<uint8_t>{240, 254, 0}));
  EXPECT_EQ(values<uint8_t>(run_op(OpType::kMul, {in(u), in(v)}, {})[0]),
            (std::vector<uint8_t>{196, 15, 0}));
  Tensor s = make_tensor<uint16_t>({1}, {65535});
  EXPECT_EQ(values<uint16_t>(run_op(OpType::kMul, {in(s), in(s)}, {})[0]),
            (std::vector<uint16_t>{1}));
  Tensor d = make_tensor<double>({2}, {1.0, -3.0}), e = make_tensor<double>({}, {4.0});
  EXPECT_EQ(values<double>(run_op(OpType::kDiv, {in(d), in(e)}, {})[0]),
            (std::vector<double>{0.25, -0.75}));
}

TEST(ElementwiseBinary, ModFollowsNumpyModAndFmod) {
  Tensor a = make_tensor<int32_t>({7}, {-4, 7, 5, 4, -7, 8, 9});
  Tensor b = make_tensor<int32_t>({7}, {2, -3, 8, -2, 3, 5, 0});
  EXPECT_EQ(values<int32_t>(run_op(OpType::kMod, {in(a), in(b)}, {})[0]),
            (std::vector<int32_t>{0, -2, 5, 0, 2, 3, 0}));
  EXPECT_EQ(values<int32_t>(run_op(OpType::kMod, {in(a), in(b)}, {{"fmod", attr_int(1)}})[0]),
            (std::vector<int32_t>{0, 1, 5, 0, -1, 3, 0}));
  Tensor i8a = make_tensor<int8_t>({2}, {-128, -7}), i8b = make_tensor<int8_t>({2}, {-1, 3});
  EXPECT_EQ(values<int8_t>(run_op(OpType::kMod, {in(i8a), in(i8b)}, {})[0]),
            (std::vector<int8_t>{0, 2}));
  Tensor fa = ftensor({-4.3f, 7.2f, 5.f}), fb = ftensor({2.1f, -3.4f, 8.f});
  std::vector<float> y =
      values<float>(run_op(OpType::kMod, {in(fa), in(fb)}, {{"fmod", attr_int(1)}})[0]);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(y[i], std::fmod(fa.data_as<float>()[i], fb.data_as<float>()[i]));
  expect_error(
      [&] {
        run_op(OpType::kMod, {in(fa), in(fb)}, {});
      },
      StatusCode::kInvalidModel, "requires attribute fmod=1");
}

TEST(ElementwiseBinary, BitShift) {
  Tensor x = make_tensor<uint8_t>({4}, {16, 4, 1, 255}),
         s = make_tensor<uint8_t>({4}, {1, 2, 3, 8});
  EXPECT_EQ(values<uint8_t>(run_op(OpType::kBitShift, {in(x), in(s)},
                                   {{"direction", attr_string("RIGHT")}})[0]),
            (std::vector<uint8_t>{8, 1, 0, 0}));
  EXPECT_EQ(values<uint8_t>(
                run_op(OpType::kBitShift, {in(x), in(s)}, {{"direction", attr_string("LEFT")}})[0]),
            (std::vector<uint8_t>{32, 16, 8, 0}));
  Tensor x64 = make_tensor<uint64_t>({2}, {1, 3}), s64 = make_tensor<uint64_t>({2}, {63, 64});
  EXPECT_EQ(values<uint64_t>(run_op(OpType::kBitShift, {in(x64), in(s64)},
                                    {{"direction", attr_string("LEFT")}})[0]),
            (std::vector<uint64_t>{uint64_t{1} << 63, 0}));
  expect_error(
      [&] {
        run_op(OpType::kBitShift, {in(x), in(s)}, {{"direction", attr_string("UP")}});
      },
      StatusCode::kInvalidModel, "expected 'LEFT' or 'RIGHT'");
}

TEST(ElementwiseBinary, PReluSlopeBroadcastsOneWay) {
  Tensor x = ftensor({-2.f, 3.f}).reshaped({1, 2, 1});
  Tensor slope = make_tensor<float>({2, 1}, {0.5f, 0.25f});
  EXPECT_EQ(values<float>(run_op(OpType::kPRelu, {in(x), in(slope)}, {})[0]),
            (std::vector<float>{-1.f, 3.f}));
  Tensor wide = make_tensor<float>({3, 2, 1}, {});
  expect_error(
      [&] {
        run_op(OpType::kPRelu, {in(x), in(wide)}, {});
      },
      StatusCode::kInvalidModel, "not unidirectionally broadcastable");
  Tensor ix = make_tensor<int64_t>({2}, {-4, 4}), is = make_tensor<int64_t>({1}, {3});
  EXPECT_EQ(values<int64_t>(run_op(OpType::kPRelu, {in(ix), in(is)}, {})[0]),
            (std::vector<int64_t>{-12, 4}));
}

// PyTorch's old exports: slope [C] against X [N, C, L] means one slope per channel.
TEST(ElementwiseBinary, PReluPerChannelSlopeFromOldExports) {
  Tensor x = make_tensor<float>({1, 3, 2}, {-1.f, -2.f, -1.f, 5.f, -4.f, -8.f});
  Tensor slope = make_tensor<float>({3}, {0.5f, 0.25f, 0.125f});
  EXPECT_EQ(values<float>(run_op(OpType::kPRelu, {in(x), in(slope)}, {})[0]),
            (std::vector<float>{-0.5f, -1.f, -0.25f, 5.f, -0.5f, -1.f}));
}

TEST(ElementwiseBinary, PowMixedTypes) {
  Tensor fx = ftensor({1.f, 2.f, 3.f, -2.f, 0.f});
  Tensor fy = ftensor({4.f, 0.5f, -1.f, 3.f, -1.f});
  std::vector<float> y = values<float>(run_op(OpType::kPow, {in(fx), in(fy)}, {})[0]);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(y[i], std::pow(fx.data_as<float>()[i], fy.data_as<float>()[i]));
  Tensor iy = make_tensor<int64_t>({5}, {4, 5, 6, 3, 2});
  EXPECT_EQ(values<float>(run_op(OpType::kPow, {in(fx), in(iy)}, {})[0]),
            (std::vector<float>{1.f, 32.f, 729.f, -8.f, 0.f}));
  Tensor ux = make_tensor<uint32_t>({5}, {4, 5, 6, 3, 2});
  EXPECT_EQ(values<float>(run_op(OpType::kPow, {in(fx), in(ux)}, {})[0]),
            (std::vector<float>{1.f, 32.f, 729.f, -8.f, 0.f}));
  Tensor ix = make_tensor<int64_t>({4}, {2, -3, 2, 5});
  Tensor ie = make_tensor<int64_t>({4}, {62, 3, -1, 0});
  EXPECT_EQ(values<int64_t>(run_op(OpType::kPow, {in(ix), in(ie)}, {})[0]),
            (std::vector<int64_t>{int64_t{1} << 62, -27, 0, 1}));
  Tensor i32 = make_tensor<int32_t>({3}, {1, 2, 3}), fe = ftensor({4.f, 5.f, 0.5f});
  EXPECT_EQ(values<int32_t>(run_op(OpType::kPow, {in(i32), in(fe)}, {})[0]),
            (std::vector<int32_t>{1, 32, 1}));
}

TEST(ElementwiseBinary, PowConstantSmallExponentFastPath) {
  Tensor x = random_tensor({1000}, -3, 3, 9);
  for (Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    for (int p : {1, 2, 3}) {
      Tensor e = make_tensor<int64_t>({1, 1}, {p});
      Tensor y = run_op(OpType::kPow, {in(x), in(e, true)}, {})[0];
      ASSERT_EQ(y.shape(), (Shape{1, 1000}));
      for (int64_t i = 0; i < 1000; ++i) {
        float v = x.data_as<float>()[i];
        EXPECT_TRUE(near(y.data_as<float>()[i], std::pow(static_cast<double>(v), p), 4e-7, 0));
      }
    }
  }
}

TEST(ElementwiseBinary, Errors) {
  Tensor f = ftensor({1.f, 2.f, 3.f}), i = make_tensor<int32_t>({3}, {1, 2, 3});
  expect_error(
      [&] {
        run_op(OpType::kAdd, {in(f), in(i)}, {});
      },
      StatusCode::kInvalidModel,
      "input 1 ('input1') has type int32, expected float32 like input 0");
  Tensor g = ftensor({1.f, 2.f});
  expect_error(
      [&] {
        run_op(OpType::kMul, {in(f), in(g)}, {});
      },
      StatusCode::kInvalidModel, "cannot be broadcast");
  Tensor b = make_tensor<bool>({3}, {true, false, true});
  expect_error(
      [&] {
        run_op(OpType::kAdd, {in(b), in(b)}, {});
      },
      StatusCode::kUnsupported, "has type bool");
  expect_error(
      [&] {
        run_op(OpType::kBitShift, {in(i), in(i)}, {{"direction", attr_string("LEFT")}});
      },
      StatusCode::kUnsupported, "expected uint8");
}

}  // namespace
}  // namespace softdpu::testing::ew
