// Conv with narrow weights (docs/precision.md) against a naive convolution of the decoded
// weights: 1-D and 2-D, strides, pads, bias, fused Relu, batch 2, every ISA the CPU has.
#include <gtest/gtest.h>

#include <cmath>

#include "core/cpu.h"
#include "formats/packed.h"
#include "softdpu/session.h"
#include "support/model_builder.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using testing::ModelBuilder;

struct Case {
  int64_t n, c, m;
  Shape spatial, kernel;
  int64_t stride, pad;
};

// Naive NC(D)HW convolution, any spatial rank up to 2, double accumulation.
std::vector<float> conv_naive(const Case& t, const float* x, const std::vector<float>& w,
                              const float* b, bool relu, Shape* out_shape) {
  const size_t nd = t.spatial.size();
  Shape os;
  for (size_t d = 0; d < nd; ++d)
    os.push_back((t.spatial[d] + 2 * t.pad - t.kernel[d]) / t.stride + 1);
  const int64_t oh = os[0], ow = nd > 1 ? os[1] : 1;
  const int64_t ih = t.spatial[0], iw = nd > 1 ? t.spatial[1] : 1;
  const int64_t kh = t.kernel[0], kw = nd > 1 ? t.kernel[1] : 1;
  const int64_t pw = nd > 1 ? t.pad : 0, sw = nd > 1 ? t.stride : 1;
  std::vector<float> y(t.n * t.m * oh * ow);
  for (int64_t n = 0; n < t.n; ++n)
    for (int64_t m = 0; m < t.m; ++m)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = b ? b[m] : 0.0;
          for (int64_t c = 0; c < t.c; ++c)
            for (int64_t u = 0; u < kh; ++u)
              for (int64_t v = 0; v < kw; ++v) {
                const int64_t yy = i * t.stride - t.pad + u, xx = j * sw - pw + v;
                if (yy < 0 || yy >= ih || xx < 0 || xx >= iw) continue;
                acc += double(x[((n * t.c + c) * ih + yy) * iw + xx]) *
                       w[((m * t.c + c) * kh + u) * kw + v];
              }
          float r = static_cast<float>(acc);
          y[((n * t.m + m) * oh + i) * ow + j] = relu ? std::max(r, 0.f) : r;
        }
  *out_shape = {t.n, t.m};
  for (int64_t d : os) out_shape->push_back(d);
  return y;
}

class NarrowConv : public ::testing::TestWithParam<std::string> {};

TEST_P(NarrowConv, MatchesNaiveConvOfDecodedWeights) {
  const std::string f = GetParam();
  const std::vector<Case> cases = {
      {2, 3, 8, {9, 10}, {3, 3}, 1, 1},   // 2-D, padded
      {1, 16, 40, {7, 7}, {3, 3}, 2, 0},  // stride 2, K = 144 (not a multiple of 32)
      {2, 5, 6, {17}, {5}, 1, 2},         // 1-D
      {1, 64, 33, {1, 1}, {1, 1}, 1, 0},  // a 1x1 conv acting as a dense layer (few pixels)
  };
  for (const Case& t : cases) {
    Shape ws{t.m, t.c};
    for (int64_t k : t.kernel) ws.push_back(k);
    Shape xs{-1, t.c};
    for (int64_t s : t.spatial) xs.push_back(s);
    const Tensor w = testing::random_tensor(ws, -1.f, 1.f, 21);
    const Tensor b = testing::random_tensor({t.m}, -0.5f, 0.5f, 22);
    ModelBuilder mb;
    mb.input("x", DType::kFloat32, xs).output("y", DType::kFloat32, {});
    mb.initializer("w", w).initializer("b", b);
    auto& conv = mb.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
    ModelBuilder::set_ints(conv, "strides", std::vector<int64_t>(t.spatial.size(), t.stride));
    ModelBuilder::set_ints(conv, "pads", std::vector<int64_t>(2 * t.spatial.size(), t.pad));
    mb.node("Relu", {"c"}, {"y"}, "relu");

    const int64_t k = w.numel() / t.m;
    const std::vector<float> wq =
        formats::PackedMatrix::pack(w.data_as<float>(), t.m, k, k, formats::parse_format(f))
            .decode();
    Shape xshape = xs;
    xshape[0] = t.n;
    const Tensor x = testing::random_tensor(xshape, -1.f, 1.f, 23);
    Shape ys;
    const std::vector<float> want =
        conv_naive(t, x.data_as<float>(), wq, b.data_as<float>(), true, &ys);
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
      if (static_cast<int>(isa) > static_cast<int>(detected_isa())) continue;
      ScopedIsa scoped(isa);
      std::unique_ptr<Session> s;
      ASSERT_TRUE(Session::load_from_bytes(mb.bytes(), ".", &s));
      PlanOptions opt;
      opt.batch = t.n;
      opt.precision = f;
      Status st = s->plan(opt);
      ASSERT_TRUE(st) << st.to_string();
      EXPECT_EQ(s->stats().layer_formats.at("conv"), f);
      std::map<std::string, Tensor> out;
      st = s->run({{"x", x}}, &out);
      ASSERT_TRUE(st) << st.to_string();
      const Tensor& y = out.at("y");
      ASSERT_EQ(y.shape(), ys);
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR(y.data_as<float>()[i], want[i], 1e-4f * (1.f + std::fabs(want[i])))
            << f << " case c=" << t.c << " m=" << t.m << " isa " << isa_name(isa) << " at " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, NarrowConv,
                         ::testing::Values("mxint8", "mxfp4_e2m1", "mxfp6_e2m3", "bf16", "int8"),
                         [](const auto& info) { return info.param; });

TEST(NarrowConvEligibility, DepthwiseAndGroupedStayFp32) {
  ModelBuilder mb;
  mb.input("x", DType::kFloat32, {1, 8, 6, 6}).output("y", DType::kFloat32, {});
  mb.initializer("w", testing::random_tensor({8, 1, 3, 3}));
  mb.initializer("w2", testing::random_tensor({8, 4, 1, 1}));
  auto& dw = mb.node("Conv", {"x", "w"}, {"h"}, "depthwise");
  ModelBuilder::set_int(dw, "group", 8);
  auto& gc = mb.node("Conv", {"h", "w2"}, {"y"}, "grouped");
  ModelBuilder::set_int(gc, "group", 2);
  std::unique_ptr<Session> s;
  ASSERT_TRUE(Session::load_from_bytes(mb.bytes(), ".", &s));
  PlanOptions opt;
  opt.precision = "mxint8";
  ASSERT_TRUE(s->plan(opt));
  EXPECT_TRUE(s->stats().layer_formats.empty());
}

}  // namespace
}  // namespace softdpu
