// fuse_residual_add on a ResNet basic block (Conv -> Add(shortcut) -> Relu) built as an ONNX
// model: the Add and the Relu disappear into the Conv, and the output matches a reference
// written here with plain loops.
#include <gtest/gtest.h>

#include <algorithm>

#include "softdpu/session.h"
#include "support/model_builder.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using testing::ModelBuilder;
using testing::random_tensor;

// y [M, H, W] = sum over c, taps of w[M, C, k, k] * x [C, H, W], stride 1, pad k / 2, no bias.
std::vector<double> conv_same(const Tensor& x, const Tensor& w) {
  const int64_t c = x.shape()[1], h = x.shape()[2], wd = x.shape()[3];
  const int64_t m = w.shape()[0], k = w.shape()[2], pad = k / 2;
  std::vector<double> y(static_cast<size_t>(m * h * wd), 0.0);
  const float* X = x.data_as<float>();
  const float* W = w.data_as<float>();
  for (int64_t o = 0; o < m; ++o)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < wd; ++j)
        for (int64_t ci = 0; ci < c; ++ci)
          for (int64_t a = 0; a < k; ++a)
            for (int64_t b = 0; b < k; ++b) {
              const int64_t ii = i + a - pad, jj = j + b - pad;
              if (ii < 0 || ii >= h || jj < 0 || jj >= wd) continue;
              y[static_cast<size_t>((o * h + i) * wd + j)] +=
                  double(X[(ci * h + ii) * wd + jj]) * W[((o * c + ci) * k + a) * k + b];
            }
  return y;
}

// relu(conv3x3(x) + bias + conv1x1(x)), the shortcut listed after the Add's other operand so
// the pass has to reorder the nodes. Width 16 takes the direct path, width 7 im2col.
void check_block(int64_t width, int threads) {
  const int64_t c = 4, m = 6, h = 5;
  Tensor x = random_tensor({1, c, h, width}, -1, 1, 31);
  Tensor w3 = random_tensor({m, c, 3, 3}, -1, 1, 32), b3 = random_tensor({m}, -1, 1, 33);
  Tensor w1 = random_tensor({m, c, 1, 1}, -1, 1, 34);
  ModelBuilder mb;
  mb.input("x", DType::kFloat32, {1, c, h, width}).output("y", DType::kFloat32, {1, m, h, width});
  mb.initializer("w3", w3).initializer("b3", b3).initializer("w1", w1);
  ModelBuilder::set_ints(mb.node("Conv", {"x", "w3", "b3"}, {"main"}), "pads", {1, 1, 1, 1});
  mb.node("Conv", {"x", "w1"}, {"short"});
  mb.node("Add", {"short", "main"}, {"sum"});
  mb.node("Relu", {"sum"}, {"y"});
  std::unique_ptr<Session> s;
  Status st = Session::load_from_bytes(mb.bytes(), ".", &s);
  ASSERT_TRUE(st) << st.to_string();
  PlanOptions opt;
  opt.threads = threads;
  ASSERT_TRUE(st = s->plan(opt)) << st.to_string();
  EXPECT_EQ(s->stats().op_counts.count("Add"), 0u);
  EXPECT_EQ(s->stats().op_counts.count("Relu"), 0u);
  EXPECT_EQ(s->stats().op_counts.at("Conv"), 2);
  std::map<std::string, Tensor> out;
  ASSERT_TRUE(st = s->run({{"x", x}}, &out)) << st.to_string();
  const std::vector<double> main = conv_same(x, w3), shortcut = conv_same(x, w1);
  const float* y = out.at("y").data_as<float>();
  for (int64_t o = 0; o < m; ++o)
    for (int64_t p = 0; p < h * width; ++p) {
      const size_t i = static_cast<size_t>(o * h * width + p);
      const double want = std::max(0.0, main[i] + b3.data_as<float>()[o] + shortcut[i]);
      ASSERT_NEAR(y[i], want, 1e-4) << "width " << width << " channel " << o << " pixel " << p;
    }
}

TEST(FuseResidualAdd, BasicBlockMatchesReference) {
  for (int threads : {1, 2}) {
    check_block(16, threads);
    check_block(7, threads);
  }
}

// An Add that broadcasts (a per-channel bias shaped [1, M, 1, 1]) is not a residual: it stays.
TEST(FuseResidualAdd, BroadcastAddStays) {
  Tensor x = random_tensor({1, 2, 4, 16}, -1, 1, 41), w = random_tensor({3, 2, 1, 1}, -1, 1, 42);
  Tensor b = random_tensor({1, 3, 1, 1}, -1, 1, 43);
  ModelBuilder mb;
  mb.input("x", DType::kFloat32, {1, 2, 4, 16}).output("y", DType::kFloat32, {1, 3, 4, 16});
  mb.initializer("w", w).initializer("b", b);
  mb.node("Conv", {"x", "w"}, {"c"});
  mb.node("Add", {"c", "b"}, {"y"});
  std::unique_ptr<Session> s;
  Status st = Session::load_from_bytes(mb.bytes(), ".", &s);
  ASSERT_TRUE(st) << st.to_string();
  ASSERT_TRUE(st = s->plan({})) << st.to_string();
  EXPECT_EQ(s->stats().op_counts.at("Add"), 1);
}

}  // namespace
}  // namespace softdpu
