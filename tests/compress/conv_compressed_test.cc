// Compressed Conv weights through Session::plan: block-circulant over the (out-channel,
// in-channel) blocks at each kernel position (lossless detection and --circulant B projection)
// and EIE sparse (--prune), each against a naive direct convolution (double accumulation) of the
// weights the format should represent, built here per kernel position.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "compress/circulant.h"
#include "compress/sparse.h"
#include "softdpu/session.h"
#include "support/model_builder.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using testing::ModelBuilder;

constexpr int64_t kM = 16, kC = 8, kH = 9, kW = 7, kK = 3;  // 3x3 kernel, pad 1, stride 1

std::string conv_model(const std::vector<float>& w) {
  ModelBuilder m;
  m.input("x", DType::kFloat32, {2, kC, kH, kW});
  m.output("y", DType::kFloat32, {2, kM, kH, kW});
  Tensor wt(DType::kFloat32, {kM, kC, kK, kK});
  std::copy(w.begin(), w.end(), wt.data_as<float>());
  m.initializer("w", wt);
  m.initializer("b", testing::random_tensor({kM}, -0.5f, 0.5f, 9));
  auto& n = m.node("Conv", {"x", "w", "b"}, {"y"}, "conv");
  ModelBuilder::set_ints(n, "pads", {1, 1, 1, 1});
  ModelBuilder::set_ints(n, "kernel_shape", {kK, kK});
  return m.bytes();
}

// y = conv(x, w) + b, pad 1, directly.
std::vector<float> naive_conv(const Tensor& x, const std::vector<float>& w, const Tensor& b) {
  std::vector<float> y(2 * kM * kH * kW);
  const float* xd = x.data_as<float>();
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t o = 0; o < kM; ++o)
      for (int64_t i = 0; i < kH; ++i)
        for (int64_t j = 0; j < kW; ++j) {
          double acc = b.data_as<float>()[o];
          for (int64_t c = 0; c < kC; ++c)
            for (int64_t u = 0; u < kK; ++u)
              for (int64_t v = 0; v < kK; ++v) {
                const int64_t ii = i + u - 1, jj = j + v - 1;
                if (ii < 0 || ii >= kH || jj < 0 || jj >= kW) continue;
                acc += double(w[((o * kC + c) * kK + u) * kK + v]) *
                       xd[((n * kC + c) * kH + ii) * kW + jj];
              }
          y[((n * kM + o) * kH + i) * kW + j] = float(acc);
        }
  return y;
}

// Each kernel position's M x C slice projected to block-circulant b x b blocks (or kept when
// `project` is false: then the slices are made circulant from random vectors).
std::vector<float> circulant_per_position(std::vector<float> w, int b, bool project) {
  for (int64_t pos = 0; pos < kK * kK; ++pos) {
    std::vector<float> slice(kM * kC);
    for (int64_t o = 0; o < kM; ++o)
      for (int64_t c = 0; c < kC; ++c) slice[o * kC + c] = w[(o * kC + c) * kK * kK + pos];
    compress::CirculantVectors v = compress::project_circulant(slice.data(), kM, kC, kC, b);
    if (!project) {
      const Tensor r = testing::random_tensor({int64_t(v.c.size())}, -1.f, 1.f, 100 + pos);
      std::copy(r.data_as<float>(), r.data_as<float>() + r.numel(), v.c.begin());
    }
    compress::expand_circulant(v, slice.data(), kC);
    for (int64_t o = 0; o < kM; ++o)
      for (int64_t c = 0; c < kC; ++c) w[(o * kC + c) * kK * kK + pos] = slice[o * kC + c];
  }
  return w;
}

std::vector<float> random_weight(uint32_t seed) {
  const Tensor t = testing::random_tensor({kM, kC, kK, kK}, -1.f, 1.f, seed);
  return {t.data_as<float>(), t.data_as<float>() + t.numel()};
}

// Plans `bytes` with `opt`, checks the conv's format, and compares with naive_conv(want_w).
void expect_conv(const std::string& bytes, PlanOptions opt, const std::string& format,
                 const std::vector<float>& want_w) {
  std::unique_ptr<Session> s;
  ASSERT_TRUE(Session::load_from_bytes(bytes, ".", &s));
  for (int threads : {1, 2}) {
    opt.threads = threads;
    const Status st = s->plan(opt);
    ASSERT_TRUE(st) << st.to_string();
    EXPECT_EQ(s->stats().layer_formats.at("conv"), format);
    const Tensor x = testing::random_tensor({2, kC, kH, kW}, -1.f, 1.f, 3);
    std::map<std::string, Tensor> out;
    ASSERT_TRUE(s->run({{"x", x}}, &out));
    const std::vector<float> want =
        naive_conv(x, want_w, testing::random_tensor({kM}, -0.5f, 0.5f, 9));
    const Tensor& y = out.at("y");
    ASSERT_EQ(y.numel(), int64_t(want.size()));
    for (int64_t i = 0; i < y.numel(); ++i)
      ASSERT_NEAR(y.data_as<float>()[i], want[i], 1e-4f * (1.f + std::fabs(want[i])))
          << format << " threads " << threads << " [" << i << "]";
  }
}

TEST(ConvCompressed, CirculantAtEveryKernelPositionIsDetected) {
  // Circulant 8x8 blocks at every position (C = 8: one block column per position).
  const std::vector<float> w = circulant_per_position(random_weight(1), 8, false);
  expect_conv(conv_model(w), {}, "circulant-b8", w);
}

TEST(ConvCompressed, CirculantProjectionMatchesPerPositionProjection) {
  const std::vector<float> w = random_weight(2);
  for (int b : {4, 8}) {
    PlanOptions opt;
    opt.circulant_block = b;
    expect_conv(conv_model(w), opt, "circulant-b" + std::to_string(b),
                circulant_per_position(w, b, true));
  }
}

TEST(ConvCompressed, PrunedConvRunsSparse) {
  const std::vector<float> w = random_weight(3);
  std::vector<float> pruned = w;
  compress::prune_by_magnitude(pruned.data(), kM, kC * kK * kK, kC * kK * kK, 0.2);
  PlanOptions opt;
  opt.prune_density = 0.2;
  expect_conv(conv_model(w), opt, "sparse", pruned);
}

TEST(ConvCompressed, ChannelsNotAMultipleOfTheBlockAreRefused) {
  std::unique_ptr<Session> s;
  ASSERT_TRUE(Session::load_from_bytes(conv_model(random_weight(4)), ".", &s));
  PlanOptions opt;
  opt.circulant_block = 16;  // C = 8 < 16 (the weight is 16 x 72, so the size alone would pass)
  opt.circulant_layers = {"conv"};
  const Status st = s->plan(opt);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'conv'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("8 input channels are not a multiple of 16"), std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace softdpu
