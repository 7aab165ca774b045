// Each fp32 weight lives once (docs/architecture.md, "Weights live once"): after a plan of a model
// loaded from a file, the heap holds the kernels' packed weights but not the fp32 initializers
// they were packed from, nor the parsed protobuf; a second plan still works (the session imports
// the file again).
#include <gtest/gtest.h>
#include <malloc.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "softdpu/session.h"
#include "support/model_builder.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;  // ASan's allocator does not report through mallinfo2
#else
constexpr bool kSanitized = false;
#endif

size_t heap_in_use() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// y = relu(x W1^T) W2^T with W1 [n, k] and W2 [n, n] (Gemm, transB = 1).
std::string write_mlp(int64_t k, int64_t n, Tensor* w1, Tensor* w2) {
  *w1 = testing::random_tensor({n, k}, -0.05f, 0.05f, 3);
  *w2 = testing::random_tensor({n, n}, -0.05f, 0.05f, 4);
  testing::ModelBuilder b;
  b.input("x", DType::kFloat32, {1, k}).output("y", DType::kFloat32, {1, n});
  b.initializer("w1", *w1).initializer("w2", *w2);
  testing::ModelBuilder::set_int(b.node("Gemm", {"x", "w1"}, {"h"}), "transB", 1);
  b.node("Relu", {"h"}, {"r"});
  testing::ModelBuilder::set_int(b.node("Gemm", {"r", "w2"}, {"y"}), "transB", 1);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("softdpu_live_once_" + std::to_string(::getpid()) + ".onnx"))
                               .string();
  std::ofstream(path, std::ios::binary) << b.bytes();
  return path;
}

std::vector<float> reference(const Tensor& x, const Tensor& w1, const Tensor& w2) {
  const int64_t n = w1.shape()[0], k = w1.shape()[1];
  std::vector<float> h(n), y(n);
  for (int64_t i = 0; i < n; ++i) {
    double acc = 0;
    for (int64_t j = 0; j < k; ++j)
      acc += double(x.data_as<float>()[j]) * w1.data_as<float>()[i * k + j];
    h[i] = std::max(0.f, float(acc));
  }
  for (int64_t i = 0; i < n; ++i) {
    double acc = 0;
    for (int64_t j = 0; j < n; ++j) acc += double(h[j]) * w2.data_as<float>()[i * n + j];
    y[i] = float(acc);
  }
  return y;
}

TEST(WeightsLiveOnce, PlanHoldsPackedWeightsOnly) {
  if (kSanitized) GTEST_SKIP() << "mallinfo2 does not see ASan's heap";
  const int64_t k = 1024, n = 1024;  // two 4 MiB weights
  Tensor w1, w2;
  const std::string path = write_mlp(k, n, &w1, &w2);
  const double weight_bytes = double(w1.nbytes() + w2.nbytes());
  const Tensor x = testing::random_tensor({1, k}, -1, 1, 5);
  const std::vector<float> want = reference(x, w1, w2);

  const size_t before = heap_in_use();
  {
    std::unique_ptr<Session> s;
    ASSERT_TRUE(Session::load(path, &s));
    PlanOptions opt;
    for (int round = 0; round < 2; ++round) {  // the second plan imports the file again
      ASSERT_TRUE(s->plan(opt));
      // Packed weights (1x, plus panel padding and the arena) and nothing of the fp32 copies:
      // holding the initializers as well would make this 2x.
      const double held = double(heap_in_use()) - double(before);
      EXPECT_LT(held, 1.3 * weight_bytes)
          << "round " << round << ": " << held / weight_bytes << "x the weights";
      std::map<std::string, Tensor> out;
      ASSERT_TRUE(s->run({{"x", x}}, &out));
      float diff = 0;
      for (int64_t i = 0; i < n; ++i)
        diff = std::max(diff, std::abs(out["y"].data_as<float>()[i] - want[i]));
      EXPECT_LT(diff, 1e-4f);
    }
  }
  std::filesystem::remove(path);
}

// An LSTM planned in MXINT8 with native activations keeps W and R as panels
// (kernels/quant/qgemv_panels.h), rearranged from a row-major encoding that must not stay alive
// too (in the plan or the encoded-weight store): the heap holds the encoded bytes once.
TEST(WeightsLiveOnce, RnnPanelsHoldTheCodesOnce) {
  if (kSanitized) GTEST_SKIP() << "mallinfo2 does not see ASan's heap";
  const int64_t hidden = 1024, input = 1024, seq = 2;
  const Tensor w = testing::random_tensor({1, 4 * hidden, input}, -0.05f, 0.05f, 6);
  const Tensor r = testing::random_tensor({1, 4 * hidden, hidden}, -0.05f, 0.05f, 7);
  testing::ModelBuilder b;
  b.input("x", DType::kFloat32, {seq, 1, input}).output("y", DType::kFloat32, {seq, 1, 1, hidden});
  b.initializer("w", w).initializer("r", r);
  testing::ModelBuilder::set_int(b.node("LSTM", {"x", "w", "r"}, {"y"}, "lstm"), "hidden_size",
                                 hidden);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("softdpu_live_once_rnn_" + std::to_string(::getpid()) + ".onnx"))
                               .string();
  std::ofstream(path, std::ios::binary) << b.bytes();
  // MXINT8: 33 bytes per 32 weights, W and R.
  const double encoded = double(2 * 4 * hidden * 1024 / 32 * 33);
  const size_t before = heap_in_use();
  {
    std::unique_ptr<Session> s;
    ASSERT_TRUE(Session::load(path, &s));
    PlanOptions opt;
    opt.precision = "mxint8";
    opt.activations = "native";
    ASSERT_TRUE(s->plan(opt));
    const double held = double(heap_in_use()) - double(before);
    // Twice the codes (row-major and panels) would be 2x; the fp32 weights 3.9x.
    EXPECT_LT(held, 1.3 * encoded) << held / encoded << "x the encoded weights";
    std::map<std::string, Tensor> out;
    ASSERT_TRUE(s->run({{"x", testing::random_tensor({seq, 1, input}, -1, 1, 8)}}, &out));
    for (int64_t i = 0; i < seq * hidden; ++i)
      ASSERT_TRUE(std::isfinite(out["y"].data_as<float>()[i]));
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace softdpu
