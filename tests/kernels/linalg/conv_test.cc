// Conv against a direct convolution written here with plain loops.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <optional>
#include <tuple>

#include "core/cpu.h"
#include "kernels/linalg/conv_direct.h"
#include "kernels/linalg/conv_split.h"
#include "kernels/linalg/conv_winograd.h"
#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using ir::OpType;
using kernels::Window;
using testing::attr_int;
using testing::attr_ints;
using testing::attr_string;
using testing::in;
using testing::none;
using testing::random_tensor;

struct ConvCase {
  Shape x, w;
  int64_t group = 1;
  std::vector<int64_t> strides = {}, dilations = {}, pads = {};  // empty: attribute absent
  std::string auto_pad = {};
  bool bias = true;
  bool w_const = true;
  std::string act = {};
  bool im2col = false;    // force the im2col path where the direct one would apply
  std::string algo = {};  // "_conv_algo" ("direct", "winograd"); im2col sets "im2col"
  bool residual = false;  // a fused residual (input 3, passes/fuse_residual_add.cc)
};

// Direct convolution; pads resolved here independently of the kernel. r (output-shaped, may be
// null) is added before the activation.
Tensor conv_naive(const ConvCase& t, const Tensor& x, const Tensor& w, const Tensor* b,
                  const Tensor* r = nullptr) {
  const size_t nd = t.x.size() - 2;
  std::vector<int64_t> in(3, 1), k(3, 1), s(3, 1), d(3, 1), pb(3, 0), out(3, 1);
  for (size_t i = 0; i < nd; ++i) {
    const size_t j = 3 - nd + i;
    in[j] = t.x[2 + i];
    k[j] = t.w[2 + i];
    if (!t.strides.empty()) s[j] = t.strides[i];
    if (!t.dilations.empty()) d[j] = t.dilations[i];
    const int64_t dk = (k[j] - 1) * d[j] + 1;
    if (t.auto_pad == "SAME_UPPER" || t.auto_pad == "SAME_LOWER") {
      out[j] = (in[j] + s[j] - 1) / s[j];
      const int64_t total = std::max<int64_t>(0, (out[j] - 1) * s[j] + dk - in[j]);
      pb[j] = t.auto_pad == "SAME_UPPER" ? total / 2 : (total + 1) / 2;
    } else {
      int64_t pe = 0;
      if (!t.pads.empty() && t.auto_pad != "VALID") {
        pb[j] = t.pads[i];
        pe = t.pads[nd + i];
      }
      out[j] = (in[j] + pb[j] + pe - dk) / s[j] + 1;
    }
  }
  const int64_t n = t.x[0], c = t.x[1], m = t.w[0], cg = c / t.group, mg = m / t.group;
  Shape os{n, m};
  for (size_t i = 0; i < nd; ++i) os.push_back(out[3 - nd + i]);
  Tensor y(DType::kFloat32, os);
  const float* X = x.data_as<float>();
  const float* W = w.data_as<float>();
  float* Y = y.data_as<float>();
  int64_t yi = 0;
  for (int64_t b0 = 0; b0 < n; ++b0)
    for (int64_t oc = 0; oc < m; ++oc)
      for (int64_t o0 = 0; o0 < out[0]; ++o0)
        for (int64_t o1 = 0; o1 < out[1]; ++o1)
          for (int64_t o2 = 0; o2 < out[2]; ++o2) {
            double acc = b ? b->data_as<float>()[oc] : 0.0;
            const int64_t g = oc / mg;
            for (int64_t ci = 0; ci < cg; ++ci)
              for (int64_t k0 = 0; k0 < k[0]; ++k0)
                for (int64_t k1 = 0; k1 < k[1]; ++k1)
                  for (int64_t k2 = 0; k2 < k[2]; ++k2) {
                    const int64_t i0 = o0 * s[0] - pb[0] + k0 * d[0];
                    const int64_t i1 = o1 * s[1] - pb[1] + k1 * d[1];
                    const int64_t i2 = o2 * s[2] - pb[2] + k2 * d[2];
                    if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 || i2 >= in[2])
                      continue;
                    const float xv =
                        X[(((b0 * c + g * cg + ci) * in[0] + i0) * in[1] + i1) * in[2] + i2];
                    const float wv = W[(((oc * cg + ci) * k[0] + k0) * k[1] + k1) * k[2] + k2];
                    acc += double(xv) * wv;
                  }
            float v = float(acc);
            if (r) v += r->data_as<float>()[yi];
            if (t.act == "Relu") v = std::max(v, 0.f);
            if (t.act == "Sigmoid") v = 1.f / (1.f + std::exp(-v));
            Y[yi++] = v;
          }
  return y;
}

void run_case(const ConvCase& t, int threads = 1) {
  Tensor x = random_tensor(t.x, -1, 1, 11), w = random_tensor(t.w, -1, 1, 12);
  Tensor b = random_tensor({t.w[0]}, -1, 1, 13);
  std::map<std::string, ir::Attribute> attrs{{"group", attr_int(t.group)}};
  if (!t.strides.empty()) attrs["strides"] = attr_ints(t.strides);
  if (!t.dilations.empty()) attrs["dilations"] = attr_ints(t.dilations);
  if (!t.pads.empty()) attrs["pads"] = attr_ints(t.pads);
  if (!t.auto_pad.empty()) attrs["auto_pad"] = attr_string(t.auto_pad);
  if (!t.act.empty()) attrs["_activation"] = attr_string(t.act);
  if (!t.algo.empty()) attrs["_conv_algo"] = attr_string(t.algo);
  if (t.im2col) attrs["_conv_algo"] = attr_string("im2col");
  std::vector<testing::OpInput> ins{in(x), in(w, t.w_const), t.bias ? in(b, true) : none()};
  std::optional<Tensor> r;
  if (t.residual) {
    r = random_tensor(conv_naive(t, x, w, nullptr).shape(), -2, 2, 14);
    ins.push_back(in(*r));
    attrs["_residual"] = attr_int(1);
  }
  Tensor want = conv_naive(t, x, w, t.bias ? &b : nullptr, r ? &*r : nullptr);
  for (Isa isa : testing::supported_isas()) {
    ScopedIsa scope(isa);
    SCOPED_TRACE(::testing::Message()
                 << isa_name(isa) << " x=" << shape_to_string(t.x) << " w=" << shape_to_string(t.w)
                 << " group=" << t.group << " threads=" << threads << " im2col=" << t.im2col
                 << " algo=" << t.algo << " residual=" << t.residual);
    auto out = testing::run_op(OpType::kConv, ins, attrs, 1, threads);
    ASSERT_EQ(out[0].shape(), want.shape());
    EXPECT_LT(testing::max_abs_diff(out[0], want), 2e-5f * std::sqrt(float(t.w[1] * 27)));
  }
}

TEST(LinalgConv, TwoD) {
  run_case({.x = {1, 1, 28, 28}, .w = {32, 1, 3, 3}});
  run_case({.x = {1, 3, 9, 11},
            .w = {5, 3, 3, 3},
            .strides = {2, 2},
            .pads = {1, 0, 2, 1},
            .bias = false});
  run_case({.x = {2, 4, 10, 9},
            .w = {6, 4, 3, 2},
            .strides = {1, 2},
            .dilations = {2, 1},
            .pads = {1, 1, 1, 1},
            .w_const = false,
            .act = "Relu"});
  run_case({.x = {1, 5, 7, 7}, .w = {7, 5, 1, 1}});  // 1x1
  run_case({.x = {1, 3, 13, 13}, .w = {4, 3, 5, 5}, .strides = {2, 2}, .auto_pad = "SAME_UPPER"});
  run_case({.x = {1, 3, 12, 13}, .w = {4, 3, 4, 4}, .strides = {3, 2}, .auto_pad = "SAME_LOWER"});
  run_case({.x = {1, 3, 12, 13},
            .w = {4, 3, 3, 3},
            .strides = {2, 2},
            .pads = {9, 9, 9, 9},
            .auto_pad = "VALID"});
}

TEST(LinalgConv, GroupsAndDepthwise) {
  run_case({.x = {1, 6, 9, 8},
            .w = {4, 3, 3, 3},
            .group = 2,
            .strides = {1, 1},
            .dilations = {1, 1},
            .pads = {1, 1, 1, 1}});
  run_case({.x = {1, 8, 10, 10},
            .w = {8, 1, 3, 3},
            .group = 8,
            .strides = {2, 2},
            .pads = {1, 1, 1, 1},
            .act = "Relu"});
  run_case({.x = {2, 4, 6, 6},
            .w = {8, 1, 3, 3},
            .group = 4,
            .dilations = {2, 2},
            .pads = {2, 2, 2, 2}});  // channel multiplier 2
}

TEST(LinalgConv, DepthwiseDirectPath) {
  // Rows wider than one vector, a ragged tail, stride 2 and 3, dilation, Sigmoid after the sum.
  run_case(
      {.x = {1, 4, 5, 37}, .w = {4, 1, 3, 3}, .group = 4, .pads = {1, 1, 1, 1}, .act = "Sigmoid"});
  run_case(
      {.x = {1, 3, 9, 40}, .w = {3, 1, 3, 5}, .group = 3, .strides = {2, 2}, .pads = {1, 2, 0, 2}});
  run_case({.x = {1, 2, 11, 23},
            .w = {4, 1, 3, 3},
            .group = 2,
            .strides = {1, 3},
            .dilations = {2, 2},
            .pads = {2, 2, 2, 2}});
  run_case({.x = {2, 3, 6, 20},
            .w = {3, 1, 2, 2},
            .group = 3,
            .strides = {2, 2},
            .auto_pad = "SAME_LOWER"});
  run_case({.x = {1, 2, 3, 4, 18}, .w = {2, 1, 2, 3, 3}, .group = 2, .pads = {1, 1, 1, 0, 1, 1}});
  run_case({.x = {1, 3, 21}, .w = {6, 1, 5}, .group = 3, .strides = {2}, .pads = {2, 2}}, 2);
}

TEST(LinalgConv, OneDAndThreeD) {
  run_case({.x = {2, 3, 17}, .w = {5, 3, 4}, .strides = {2}, .dilations = {2}, .pads = {3, 1}});
  run_case({.x = {1, 2, 5, 6, 7},
            .w = {3, 2, 3, 2, 3},
            .strides = {1, 2, 1},
            .dilations = {1, 1, 2},
            .pads = {1, 0, 1, 1, 1, 0}});
  run_case({.x = {1, 4, 4, 4, 4}, .w = {4, 2, 2, 2, 2}, .group = 2, .auto_pad = "SAME_UPPER"});
}

TEST(LinalgConv, FewPixelsUseTransposedWeights) {
  run_case({.x = {1, 16, 3, 3}, .w = {10, 16, 3, 3}});  // P = 1
  run_case({.x = {2, 7, 4, 4},
            .w = {9, 7, 3, 3},
            .strides = {2, 2},
            .pads = {1, 1, 1, 1},
            .act = "Relu"});                                           // P = 4
  run_case({.x = {1, 7, 4, 4}, .w = {9, 7, 3, 3}, .w_const = false});  // run-time W
}

TEST(LinalgConv, TwoThreadsAndBigBlocks) {
  run_case({.x = {1, 32, 26, 26}, .w = {64, 32, 3, 3}}, 2);
  run_case({.x = {1, 1, 28, 28}, .w = {32, 1, 3, 3}, .pads = {1, 1, 1, 1}, .act = "Relu"}, 2);
  run_case({.x = {1, 16, 12, 12}, .w = {16, 1, 3, 3}, .group = 16, .pads = {1, 1, 1, 1}}, 2);
}

// Output rows of 14..64 pixels take the direct conv (conv_direct.h) when the weights are
// constant; each case also runs through im2col, the path it replaced.
TEST(LinalgConv, DirectPath) {
  Window w;
  w.nd = 2;
  w.out[2] = 14;
  EXPECT_TRUE(kernels::direct_conv_applies(w, 1));
  w.out[2] = 7;
  EXPECT_FALSE(kernels::direct_conv_applies(w, 1));  // 7 of 16 lanes: im2col
  EXPECT_FALSE(kernels::direct_conv_applies(w, 2));
  std::vector<ConvCase> cases = {
      {.x = {1, 1, 28, 28}, .w = {32, 1, 3, 3}, .pads = {1, 1, 1, 1}, .act = "Relu"},
      {.x = {1, 32, 14, 14}, .w = {64, 32, 3, 3}, .pads = {1, 1, 1, 1}, .act = "Relu"},
      // 13 output channels (a partial tile), rows of 16 + 13, no padding, no bias, Sigmoid.
      {.x = {2, 5, 6, 31}, .w = {13, 5, 3, 3}, .bias = false, .act = "Sigmoid"},
      // Stride 2 and dilation 2: four phase planes; asymmetric pads.
      {.x = {1, 4, 11, 33},
       .w = {9, 4, 3, 3},
       .strides = {2, 2},
       .dilations = {2, 2},
       .pads = {2, 1, 1, 2}},
      // Stride (1, 2), kernel 2x5, SAME_UPPER.
      {.x = {1, 3, 7, 50}, .w = {8, 3, 2, 5}, .strides = {1, 2}, .auto_pad = "SAME_UPPER"},
      // The 1x1 stride-2 shortcut of resnet_cnn, and 1-D.
      {.x = {1, 16, 32, 32}, .w = {24, 16, 1, 1}, .strides = {2, 2}},
      {.x = {2, 3, 40}, .w = {10, 3, 5}, .pads = {1, 3}, .act = "Relu"},
  };
  for (ConvCase c : cases) {
    run_case(c);
    run_case(c, 2);
    c.algo = "direct";  // where Winograd would be the planner's choice
    run_case(c);
    c.im2col = true;
    run_case(c);
  }
}

// The direct conv's ranges (one per planned thread, each with its own phase planes and halo
// rows) run on a pool of any size: planned for 1..4 threads, run with 1..3, every ISA. The maps
// split unevenly (13 output rows: ranges of 2 and 3 rows, the shorter one's slot starting a row
// early), stride 1 and 2, a 1x1 stride-2 shortcut (one phase plane of four built).
TEST(LinalgConv, DirectRangesAnyPool) {
  struct Geo {
    int64_t c, m, h, w, k, s, pad;
  };
  for (const Geo& g :
       {Geo{5, 11, 13, 32, 3, 1, 1}, Geo{6, 9, 26, 60, 3, 2, 1}, Geo{16, 16, 26, 62, 1, 2, 0}}) {
    ConvCase t{.x = {1, g.c, g.h, g.w},
               .w = {g.m, g.c, g.k, g.k},
               .strides = {g.s, g.s},
               .pads = {g.pad, g.pad, g.pad, g.pad},
               .act = "Relu"};
    Tensor x = random_tensor(t.x, -1, 1, 21), w = random_tensor(t.w, -1, 1, 22);
    Tensor b = random_tensor({g.m}, -1, 1, 23);
    const Tensor want = conv_naive(t, x, w, &b);
    Window win;
    win.nd = 2;
    win.in[1] = g.h;
    win.in[2] = g.w;
    win.k[1] = win.k[2] = g.k;
    win.stride[1] = win.stride[2] = g.s;
    win.pad[1] = win.pad[2] = win.pad_end[1] = win.pad_end[2] = g.pad;
    win.out[1] = (g.h + 2 * g.pad - g.k) / g.s + 1;
    win.out[2] = (g.w + 2 * g.pad - g.k) / g.s + 1;
    ASSERT_TRUE(kernels::direct_conv_applies(win, 1));
    for (int planned = 1; planned <= 4; ++planned) {
      auto plan = kernels::plan_direct_conv(win, g.c, g.m, w.data_as<float>(), planned);
      EXPECT_EQ(plan->ranges(), planned);
      std::vector<float> scratch(static_cast<size_t>(plan->scratch_floats()) + 16);
      float* aligned = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) &
                                                ~uintptr_t{63});
      for (int threads = 1; threads <= 3; ++threads) {
        ThreadPool pool(threads);
        for (Isa isa : testing::supported_isas()) {
          ScopedIsa scope(isa);
          SCOPED_TRACE(::testing::Message() << isa_name(isa) << " c=" << g.c << " s=" << g.s
                                            << " planned=" << planned << " threads=" << threads);
          Tensor y(DType::kFloat32, want.shape());
          kernels::direct_conv(*plan, x.data_as<float>(), b.data_as<float>(), nullptr,
                               kernels::Activation{kernels::ActKind::kRelu}, y.data_as<float>(),
                               aligned, &pool);
          EXPECT_LT(testing::max_abs_diff(y, want), 2e-5f * std::sqrt(float(g.c * 27)));
        }
      }
    }
  }
}

// The split rule (conv_split.h) at 2 threads: fashion_cnn's 1->32 28x28 conv stays on the
// calling thread, its Winograd 32->64 14x14 conv and resnet_cnn's cheapest split one (the 1x1
// stride-2 shortcut 32->64 to 32x32) are split. The kept-whole plan then runs on a 2-thread pool
// as on 1 (a single range, no pool job), and both convs through the Conv kernel at 1 and 2
// threads, every ISA, match the double-precision loop.
TEST(LinalgConv, SmallConvStaysOnOneThread) {
  if (std::getenv("SOFTDPU_CONV_SPLIT")) GTEST_SKIP() << "SOFTDPU_CONV_SPLIT overrides the rule";
  EXPECT_EQ(kernels::conv_split_threads(2, 32 * 9 * 28 * 28, 32 * 28 * 28 * 4), 1);
  EXPECT_EQ(kernels::conv_split_threads(2, 16 * 7 * 7 * 32 * 64, 64 * 14 * 14 * 4), 2);
  EXPECT_EQ(kernels::conv_split_threads(2, 64 * 32 * 32 * 32, 64 * 32 * 32 * 4), 2);
  EXPECT_EQ(kernels::conv_split_threads(1, int64_t{1} << 40, 0), 1);

  const ConvCase small{
      .x = {1, 1, 28, 28}, .w = {32, 1, 3, 3}, .pads = {1, 1, 1, 1}, .act = "Relu"};
  Tensor x = random_tensor(small.x, -1, 1, 31), w = random_tensor(small.w, -1, 1, 32);
  Tensor b = random_tensor({32}, -1, 1, 33);
  const Tensor want = conv_naive(small, x, w, &b);
  Window win;
  win.nd = 2;
  win.in[1] = win.in[2] = win.out[1] = win.out[2] = 28;
  win.k[1] = win.k[2] = 3;
  win.pad[1] = win.pad[2] = win.pad_end[1] = win.pad_end[2] = 1;
  const int threads = kernels::conv_split_threads(2, 32 * 9 * 28 * 28, 32 * 28 * 28 * 4);
  auto plan = kernels::plan_direct_conv(win, 1, 32, w.data_as<float>(), threads);
  EXPECT_EQ(plan->ranges(), 1);
  std::vector<float> scratch(static_cast<size_t>(plan->scratch_floats()) + 16);
  float* aligned =
      reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t{63});
  ThreadPool pool(2);
  for (Isa isa : testing::supported_isas()) {
    ScopedIsa scope(isa);
    SCOPED_TRACE(isa_name(isa));
    Tensor y(DType::kFloat32, want.shape());
    kernels::direct_conv(*plan, x.data_as<float>(), b.data_as<float>(), nullptr,
                         kernels::Activation{kernels::ActKind::kRelu}, y.data_as<float>(), aligned,
                         &pool);
    EXPECT_LT(testing::max_abs_diff(y, want), 2e-5f * std::sqrt(27.f));
  }
  EXPECT_EQ(pool.jobs(), 0);

  for (int t = 1; t <= 2; ++t) {
    run_case(small, t);
    run_case({.x = {1, 32, 14, 14}, .w = {64, 32, 3, 3}, .pads = {1, 1, 1, 1}, .act = "Relu"}, t);
  }

  // Through the op (prepare_Conv picks the algorithm and applies the rule): at 2 threads the
  // 1->32 conv (direct) must hand no job to the pool and the 32->64 one (Winograd) exactly one,
  // so a Winograd conv that silently stopped splitting fails here.
  {
    Window w14;
    w14.nd = 2;
    w14.in[1] = w14.in[2] = w14.out[1] = w14.out[2] = 14;
    w14.k[1] = w14.k[2] = 3;
    w14.pad[1] = w14.pad[2] = w14.pad_end[1] = w14.pad_end[2] = 1;
    Tensor w64 = random_tensor({64, 32, 3, 3}, -1, 1, 40);
    EXPECT_EQ(
        kernels::winograd_macs(*kernels::plan_winograd_conv(w14, 32, 64, w64.data_as<float>())),
        int64_t{16} * 49 * 32 * 64);  // 7 x 7 tiles of 2 x 2
  }
  for (const auto& [c, m, jobs] : {std::tuple{1, 32, 0}, std::tuple{32, 64, 1}}) {
    const int hw = c == 1 ? 28 : 14;
    Tensor xi = random_tensor({1, c, hw, hw}, -1, 1, 41),
           wi = random_tensor({m, c, 3, 3}, -1, 1, 42);
    int64_t pool_jobs = -1;
    testing::run_op(OpType::kConv, {in(xi), in(wi, true)}, {{"pads", attr_ints({1, 1, 1, 1})}}, 1,
                    2, 17, &pool_jobs);
    EXPECT_EQ(pool_jobs, jobs) << c << "->" << m;
  }
}

// Winograd F(2x2, 3x3) (conv_winograd.h), forced: maps with odd sizes (tiles cut at the right
// and bottom edges, panels spanning several tile rows), padding 1, 0 and asymmetric, channel
// counts that are not multiples of 16, bias, fused residual, Relu (in the vector epilogue) and
// Sigmoid (the scalar one), batch 2, several blocks of tiles over 2 threads; every ISA.
// The shared tolerance holds: the transforms add at most 4 (input) and 9/4 (weights) terms per
// element, so the rounding error stays a few ulps of the sum of |products|, which grows like
// sqrt(C * 9) for these random inputs (measured: at most 7.6e-6 over these cases, against
// a bound of 1.5e-4 .. 5.9e-4; a sign error in one row of the AVX-512 input transform fails).
TEST(LinalgConv, WinogradPath) {
  Window w;
  w.nd = 2;
  w.k[1] = w.k[2] = 3;
  EXPECT_TRUE(kernels::winograd_conv_applies(w, 1));
  EXPECT_FALSE(kernels::winograd_conv_applies(w, 2));
  w.stride[2] = 2;
  EXPECT_FALSE(kernels::winograd_conv_applies(w, 1));
  std::vector<ConvCase> cases = {
      {.x = {1, 20, 13, 11}, .w = {18, 20, 3, 3}, .pads = {1, 1, 1, 1}, .act = "Relu"},
      {.x = {1, 17, 9, 15}, .w = {19, 17, 3, 3}, .bias = false},
      {.x = {1, 3, 7, 40}, .w = {5, 3, 3, 3}, .pads = {2, 0, 1, 2}, .act = "Sigmoid"},
      {.x = {2, 24, 10, 10}, .w = {32, 24, 3, 3}, .pads = {1, 1, 1, 1}, .act = "Relu"},
      {.x = {1, 32, 40, 36}, .w = {32, 32, 3, 3}, .pads = {1, 1, 1, 1}, .act = "Relu"},
      {.x = {1, 2, 3, 3}, .w = {3, 2, 3, 3}, .pads = {1, 1, 1, 1}},
      {.x = {1, 16, 1, 5}, .w = {16, 16, 3, 3}, .pads = {1, 1, 1, 1}},
  };
  for (ConvCase c : cases) {
    c.algo = "winograd";
    run_case(c);
    run_case(c, 2);
    c.residual = true;
    run_case(c);
    run_case(c, 2);
  }
}

// The residual of fuse_residual_add, added before the activation: in the direct path's tile
// epilogue (every ISA, partial tiles and partial vectors) and after the product on the others.
TEST(LinalgConv, FusedResidual) {
  std::vector<ConvCase> cases = {
      // resnet_cnn's block shapes, scaled down: 3x3 s1 and a 1x1 shortcut, Relu.
      {.x = {1, 16, 16, 16}, .w = {16, 16, 3, 3}, .pads = {1, 1, 1, 1}, .act = "Relu"},
      {.x = {1, 8, 32, 32}, .w = {24, 8, 1, 1}, .strides = {2, 2}, .bias = false},
      // 13 output channels (a partial tile), rows of 16 + 13, batch 2, Sigmoid (applied after
      // the tile, not in it).
      {.x = {2, 5, 6, 31}, .w = {13, 5, 3, 3}, .act = "Sigmoid"},
      // Rows of 14 (two partial AVX2 halves), stride 2, LeakyRelu-free Clip-free plain output.
      {.x = {1, 3, 9, 29}, .w = {7, 3, 3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}},
  };
  for (ConvCase c : cases) {
    c.residual = true;
    run_case(c);
    run_case(c, 2);
    c.im2col = true;
    run_case(c);
  }
  // The paths without a residual operand: narrow rows (im2col), few pixels, depthwise, run-time W.
  run_case({.x = {1, 4, 7, 7},
            .w = {6, 4, 3, 3},
            .pads = {1, 1, 1, 1},
            .act = "Relu",
            .residual = true});
  run_case({.x = {1, 6, 2, 2}, .w = {5, 6, 1, 1}, .act = "Relu", .residual = true});
  run_case({.x = {1, 8, 9, 9},
            .w = {8, 1, 3, 3},
            .group = 8,
            .pads = {1, 1, 1, 1},
            .act = "Relu",
            .residual = true});
  run_case({.x = {1, 3, 5, 16},
            .w = {4, 3, 3, 3},
            .pads = {1, 1, 1, 1},
            .w_const = false,
            .residual = true});
}

// The stride-2 row copy of the phase planes, every length around the 16-lane steps, from a
// buffer holding exactly the 2n - 1 floats it may read.
TEST(LinalgConv, StrideTwoRowCopy) {
  for (int64_t n = 1; n <= 40; ++n) {
    std::vector<float> src(static_cast<size_t>(2 * n - 1));
    for (size_t i = 0; i < src.size(); ++i) src[i] = float(i) + 0.5f;
    for (Isa isa : testing::supported_isas()) {
      std::vector<float> dst(static_cast<size_t>(n) + 1, -1.f);
      if (isa == Isa::kAvx512) {
        kernels::detail::copy_stride2_avx512(src.data(), n, dst.data());
      } else {
        kernels::detail::copy_stride2_scalar(src.data(), n, dst.data());
      }
      for (int64_t j = 0; j < n; ++j) ASSERT_EQ(dst[j], float(2 * j) + 0.5f) << "n " << n;
      EXPECT_EQ(dst[n], -1.f) << "n " << n << ": wrote past the end";
    }
  }
}

TEST(LinalgConv, Errors) {
  auto x = random_tensor({1, 4, 5, 5});
  auto expect_fail = [&](std::vector<testing::OpInput> ins,
                         std::map<std::string, ir::Attribute> attrs, const char* needle) {
    try {
      testing::run_op(OpType::kConv, ins, attrs);
      ADD_FAILURE() << "expected an error containing " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_fail({in(x), in(random_tensor({2, 3, 3, 3}))}, {}, "input channels per group");
  expect_fail({in(x), in(random_tensor({3, 2, 3, 3}))}, {{"group", attr_int(2)}},
              "group 2 must divide");
  expect_fail({in(x), in(random_tensor({2, 4, 3, 3}))}, {{"strides", attr_ints({1})}}, "'strides'");
  expect_fail({in(x), in(random_tensor({2, 4, 3, 3}))}, {{"kernel_shape", attr_ints({2, 2})}},
              "kernel_shape");
  expect_fail({in(x), in(random_tensor({2, 4, 7, 7}))}, {}, "larger than the padded input");
  expect_fail({in(x), in(random_tensor({2, 4, 3, 3})), in(random_tensor({3}))}, {}, "bias");
  expect_fail({in(x), in(random_tensor({2, 4, 3, 3}))}, {{"auto_pad", attr_string("SAME")}},
              "auto_pad");
  expect_fail({in(random_tensor({1, 4, 5})), in(random_tensor({2, 4, 3, 3}))}, {}, "rank");
  // A fourth input only with fuse_residual_add's mark, and then shaped like the output.
  auto w = random_tensor({2, 4, 3, 3});
  expect_fail({in(x), in(w), none(), in(random_tensor({1, 2, 3, 3}))}, {}, "at most 3 inputs");
  expect_fail({in(x), in(w), none(), in(random_tensor({1, 2, 3, 4}))}, {{"_residual", attr_int(1)}},
              "residual (input 3) has shape [1, 2, 3, 4]");
}

}  // namespace
}  // namespace softdpu
