// The bundled models against PyTorch: tests/data/models/<name>/ holds inputs and the logits
// PyTorch computed for them when models/train.py exported the model (an independent reference).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/npy.h"
#include "softdpu/session.h"

namespace softdpu {
namespace {

const std::string kRoot = SOFTDPU_SOURCE_DIR;

class BundledModel : public ::testing::TestWithParam<std::string> {};

void check_against_pytorch(const std::string& name, const std::string& suffix, int threads) {
  const std::string model = kRoot + "/models/" + name + "/1/model.onnx";
  const std::string data = kRoot + "/tests/data/models/" + name;
  ASSERT_TRUE(std::filesystem::exists(model)) << model;
  Tensor x = read_npy(data + "/input" + suffix + ".npy");
  Tensor expected = read_npy(data + "/logits" + suffix + ".npy");
  std::unique_ptr<Session> s;
  Status st = Session::load(model, &s);
  ASSERT_TRUE(st) << st.to_string();
  PlanOptions opt;
  opt.batch = x.shape()[0];
  opt.threads = threads;
  ASSERT_TRUE(st = s->plan(opt)) << st.to_string();
  std::map<std::string, Tensor> out;
  ASSERT_TRUE(st = s->run({{s->inputs()[0].name, x}}, &out)) << st.to_string();
  const Tensor& y = out.at(s->outputs()[0].name);
  ASSERT_EQ(y.shape(), expected.shape());
  float scale = 1.f, worst = 0.f;
  for (int64_t i = 0; i < expected.numel(); ++i)
    scale = std::max(scale, std::fabs(expected.data_as<float>()[i]));
  for (int64_t i = 0; i < y.numel(); ++i) {
    worst = std::max(worst, std::fabs(y.data_as<float>()[i] - expected.data_as<float>()[i]));
  }
  // Issue #2: max abs error <= 1e-4 relative to the output's scale.
  EXPECT_LE(worst, 1e-4f * scale) << name << suffix << " threads=" << threads << " scale " << scale;
}

TEST_P(BundledModel, MatchesPyTorchBatch8) {
  check_against_pytorch(GetParam(), "", 1);
}
TEST_P(BundledModel, MatchesPyTorchBatch1) {
  check_against_pytorch(GetParam(), "1", 1);
}
TEST_P(BundledModel, MatchesPyTorchTwoThreads) {
  check_against_pytorch(GetParam(), "", 2);
}

INSTANTIATE_TEST_SUITE_P(Models, BundledModel,
                         ::testing::Values("fashion_mlp", "fashion_cnn", "fashion_lstm",
                                           "fashion_gru"));

}  // namespace
}  // namespace softdpu
