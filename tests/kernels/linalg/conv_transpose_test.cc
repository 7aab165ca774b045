// ConvTranspose against a direct scatter written here: every input pixel adds W times its value
// at (i * stride + k * dilation - pad_begin) of the output.
#include <gtest/gtest.h>

#include <cmath>

#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using ir::OpType;
using testing::attr_int;
using testing::attr_ints;
using testing::attr_string;
using testing::in;
using testing::none;
using testing::random_tensor;

struct CtCase {
  Shape x, w;  // w: [C, M/group, k...]
  int64_t group = 1;
  std::vector<int64_t> strides = {}, dilations = {}, pads = {}, output_padding = {},
                       output_shape = {};
  std::string auto_pad = {};
  bool bias = true;
};

Tensor ct_naive(const CtCase& t, const Tensor& x, const Tensor& w, const Tensor* b) {
  const size_t nd = t.x.size() - 2;
  std::vector<int64_t> in(3, 1), k(3, 1), s(3, 1), d(3, 1), pb(3, 0), out(3, 1);
  for (size_t i = 0; i < nd; ++i) {
    const size_t j = 3 - nd + i;
    in[j] = t.x[2 + i];
    k[j] = t.w[2 + i];
    if (!t.strides.empty()) s[j] = t.strides[i];
    if (!t.dilations.empty()) d[j] = t.dilations[i];
    const int64_t op = t.output_padding.empty() ? 0 : t.output_padding[i];
    const int64_t full = s[j] * (in[j] - 1) + op + (k[j] - 1) * d[j] + 1;
    if (!t.output_shape.empty() || !t.auto_pad.empty()) {
      out[j] = t.output_shape.empty() ? in[j] * s[j] : t.output_shape[i];
      const int64_t total = std::max<int64_t>(0, full - out[j]);
      pb[j] = t.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else {
      int64_t pe = 0;
      if (!t.pads.empty()) pb[j] = t.pads[i], pe = t.pads[nd + i];
      out[j] = full - pb[j] - pe;
    }
  }
  const int64_t n = t.x[0], c = t.x[1], cg = c / t.group, mg = t.w[1], m = mg * t.group;
  Shape os{n, m};
  for (size_t i = 0; i < nd; ++i) os.push_back(out[3 - nd + i]);
  Tensor y(DType::kFloat32, os);
  float* Y = y.data_as<float>();
  const int64_t po = out[0] * out[1] * out[2];
  for (int64_t b0 = 0; b0 < n; ++b0)
    for (int64_t oc = 0; oc < m; ++oc)
      for (int64_t i = 0; i < po; ++i)
        Y[(b0 * m + oc) * po + i] = b ? b->data_as<float>()[oc] : 0.f;
  for (int64_t b0 = 0; b0 < n; ++b0)
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t i0 = 0; i0 < in[0]; ++i0)
        for (int64_t i1 = 0; i1 < in[1]; ++i1)
          for (int64_t i2 = 0; i2 < in[2]; ++i2) {
            const float xv =
                x.data_as<float>()[(((b0 * c + ci) * in[0] + i0) * in[1] + i1) * in[2] + i2];
            const int64_t g = ci / cg;
            for (int64_t mo = 0; mo < mg; ++mo)
              for (int64_t k0 = 0; k0 < k[0]; ++k0)
                for (int64_t k1 = 0; k1 < k[1]; ++k1)
                  for (int64_t k2 = 0; k2 < k[2]; ++k2) {
                    const int64_t o0 = i0 * s[0] + k0 * d[0] - pb[0],
                                  o1 = i1 * s[1] + k1 * d[1] - pb[1];
                    const int64_t o2 = i2 * s[2] + k2 * d[2] - pb[2];
                    if (o0 < 0 || o0 >= out[0] || o1 < 0 || o1 >= out[1] || o2 < 0 || o2 >= out[2])
                      continue;
                    const float wv =
                        w.data_as<float>()[(((ci * mg + mo) * k[0] + k0) * k[1] + k1) * k[2] + k2];
                    Y[(((b0 * m + g * mg + mo) * out[0] + o0) * out[1] + o1) * out[2] + o2] +=
                        xv * wv;
                  }
          }
  return y;
}

void run_case(const CtCase& t, int threads = 1) {
  Tensor x = random_tensor(t.x, -1, 1, 31), w = random_tensor(t.w, -1, 1, 32);
  Tensor b = random_tensor({t.w[1] * t.group}, -1, 1, 33);
  std::map<std::string, ir::Attribute> attrs{{"group", attr_int(t.group)}};
  if (!t.strides.empty()) attrs["strides"] = attr_ints(t.strides);
  if (!t.dilations.empty()) attrs["dilations"] = attr_ints(t.dilations);
  if (!t.pads.empty()) attrs["pads"] = attr_ints(t.pads);
  if (!t.output_padding.empty()) attrs["output_padding"] = attr_ints(t.output_padding);
  if (!t.output_shape.empty()) attrs["output_shape"] = attr_ints(t.output_shape);
  if (!t.auto_pad.empty()) attrs["auto_pad"] = attr_string(t.auto_pad);
  Tensor want = ct_naive(t, x, w, t.bias ? &b : nullptr);
  for (Isa isa : testing::supported_isas()) {
    ScopedIsa scope(isa);
    SCOPED_TRACE(::testing::Message() << isa_name(isa) << " x=" << shape_to_string(t.x)
                                      << " w=" << shape_to_string(t.w));
    auto out = testing::run_op(OpType::kConvTranspose,
                               {in(x), in(w, true), t.bias ? in(b) : none()}, attrs, 1, threads);
    ASSERT_EQ(out[0].shape(), want.shape());
    EXPECT_LT(testing::max_abs_diff(out[0], want), 1e-4f);
  }
}

TEST(LinalgConvTranspose, TwoD) {
  run_case({.x = {1, 3, 4, 5}, .w = {3, 2, 3, 3}});
  run_case({.x = {2, 2, 3, 3}, .w = {2, 3, 3, 2}, .strides = {3, 2}, .pads = {1, 2, 0, 1}});
  run_case({.x = {1, 2, 3, 3}, .w = {2, 2, 3, 3}, .strides = {3, 2}, .output_padding = {1, 1}});
  run_case({.x = {1, 2, 3, 3}, .w = {2, 2, 3, 3}, .strides = {3, 2}, .output_shape = {10, 8}});
  run_case({.x = {1, 2, 4, 4}, .w = {2, 2, 3, 3}, .strides = {2, 2}, .output_shape = {6, 7}});
  run_case({.x = {1, 1, 3, 3}, .w = {1, 1, 2, 2}, .dilations = {2, 2}, .bias = false});
  run_case({.x = {1, 1, 3, 3}, .w = {1, 2, 3, 3}, .strides = {2, 2}, .auto_pad = "SAME_UPPER"});
  run_case({.x = {1, 1, 3, 3}, .w = {1, 2, 3, 3}, .strides = {2, 2}, .auto_pad = "SAME_LOWER"});
  run_case(
      {.x = {1, 4, 5, 5}, .w = {4, 3, 3, 3}, .group = 2, .strides = {2, 1}, .pads = {1, 1, 1, 1}});
  run_case({.x = {1, 16, 12, 12}, .w = {16, 8, 4, 4}, .strides = {2, 2}, .pads = {1, 1, 1, 1}}, 2);
}

TEST(LinalgConvTranspose, OneDAndThreeD) {
  run_case({.x = {1, 2, 5}, .w = {2, 3, 3}, .strides = {2}, .output_padding = {1}});
  run_case({.x = {1, 2, 3, 4, 3},
            .w = {2, 2, 2, 3, 2},
            .strides = {2, 1, 2},
            .pads = {0, 1, 0, 1, 0, 1}});
}

TEST(LinalgConvTranspose, Errors) {
  Tensor x = random_tensor({1, 4, 3, 3});
  EXPECT_THROW(
      testing::run_op(OpType::kConvTranspose, {in(x), in(random_tensor({3, 2, 3, 3}))}, {}), Error);
  EXPECT_THROW(testing::run_op(OpType::kConvTranspose, {in(x), in(random_tensor({4, 2, 3, 3}))},
                               {{"output_shape", attr_ints({5})}}),
               Error);
  EXPECT_THROW(testing::run_op(OpType::kConvTranspose, {in(x), in(random_tensor({4, 2, 3, 3}))},
                               {{"pads", attr_ints({3, 3, 3, 3})}}),
               Error);
  EXPECT_THROW(
      testing::run_op(OpType::kConvTranspose,
                      {in(x), in(random_tensor({4, 2, 3, 3})), in(random_tensor({3}))}, {}),
      Error);
}

}  // namespace
}  // namespace softdpu
