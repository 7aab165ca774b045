// eval::score on cases worked out by hand, eval::predict on the bundled MLP against PyTorch's own
// predictions, and the --precision auto search against an independent re-measurement.
#include "eval/evaluate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/npy.h"
#include "data/dataset.h"
#include "eval/precision_search.h"
#include "eval/svg_plot.h"

namespace softdpu {
namespace {

eval::Predictions preds(int64_t classes, std::vector<float> scores) {
  eval::Predictions p;
  p.classes = classes;
  p.rows = static_cast<int64_t>(scores.size()) / classes;
  p.scores = std::move(scores);
  return p;
}

TEST(EvalScore, HandWorkedValues) {
  // Row 0: reference logits (0, 0) -> (1/2, 1/2); q logits (ln 3, 0) -> (3/4, 1/4).
  // KL(p||q) = 1/2 ln(2/3) + 1/2 ln 2. Row 1: identical -> 0.
  const eval::Predictions ref = preds(2, {0.f, 0.f, 2.f, 1.f});
  const eval::Predictions q = preds(2, {std::log(3.f), 0.f, 2.f, 1.f});
  const eval::Scores s = eval::score(q, ref, {1, 0});
  EXPECT_DOUBLE_EQ(s.top1, 50.0);  // row 0 predicts 0 (label 1), row 1 predicts 0 (label 0)
  // Reference row 0 ties: argmax takes the first class, as q does.
  EXPECT_DOUBLE_EQ(s.agreement, 100.0);
  const double kl0 = 0.5 * std::log(0.5 / 0.75) + 0.5 * std::log(0.5 / 0.25);
  EXPECT_NEAR(s.kl, kl0 / 2, 1e-6);
}

TEST(EvalScore, ProbabilitiesAreNotSoftmaxedAgain) {
  const eval::Predictions ref = preds(2, {0.5f, 0.5f});
  const eval::Predictions q = preds(2, {0.25f, 0.75f});
  const eval::Scores s = eval::score(q, ref, {1});
  EXPECT_DOUBLE_EQ(s.top1, 100.0);
  EXPECT_DOUBLE_EQ(s.agreement, 0.0);
  EXPECT_NEAR(s.kl, 0.5 * std::log(0.5 / 0.25) + 0.5 * std::log(0.5 / 0.75), 1e-6);
}

// A DIR dataset from the stored PyTorch inputs, labelled with PyTorch's own argmax: FP32
// softdpu must score 100 %.
std::string pytorch_dataset_dir() {
  const std::string src = std::string(SOFTDPU_SOURCE_DIR) + "/tests/data/models/fashion_mlp/";
  const std::string dir =
      (std::filesystem::temp_directory_path() / "softdpu_eval_pytorch_mlp").string();
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(src + "input.npy", dir + "/inputs.npy",
                             std::filesystem::copy_options::overwrite_existing);
  const Tensor logits = read_npy(src + "logits.npy");
  Tensor labels(DType::kInt64, {logits.shape()[0]});
  for (int64_t r = 0; r < logits.shape()[0]; ++r) {
    labels.data_as<int64_t>()[r] =
        eval::argmax(logits.data_as<float>() + r * logits.shape()[1], logits.shape()[1]);
  }
  write_npy(dir + "/labels.npy", labels);
  return dir;
}

std::unique_ptr<Session> load_mlp() {
  std::unique_ptr<Session> s;
  Status st =
      Session::load(std::string(SOFTDPU_SOURCE_DIR) + "/models/fashion_mlp/1/model.onnx", &s);
  EXPECT_TRUE(st) << st.to_string();
  return s;
}

TEST(EvalPredict, BundledMlpAgreesWithPyTorch) {
  const data::Dataset d = data::load_dataset(pytorch_dataset_dir());
  auto s = load_mlp();
  ASSERT_TRUE(s);
  for (int64_t batch : {1, 3, 8}) {  // 3: a tail batch of 2 is planned separately
    eval::RunOptions ro;
    ro.batch = batch;
    const eval::Predictions p = eval::predict(*s, PlanOptions{}, d, ro);
    ASSERT_EQ(p.rows, d.size());
    const eval::Scores sc = eval::score(p, p, d.labels);
    EXPECT_DOUBLE_EQ(sc.top1, 100.0) << "batch " << batch;
  }
}

TEST(EvalPredict, ShapeMismatchNamesTheInput) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / "softdpu_eval_bad_shape").string();
  std::filesystem::create_directories(dir);
  write_npy(dir + "/inputs.npy", Tensor(DType::kFloat32, {4, 27, 28}));
  write_npy(dir + "/labels.npy", Tensor(DType::kInt64, {4}));
  const data::Dataset d = data::load_dataset(dir);
  auto s = load_mlp();
  ASSERT_TRUE(s);
  try {
    eval::predict(*s, PlanOptions{}, d, eval::RunOptions{});
    ADD_FAILURE() << "a 27x28 sample was accepted by a 28x28 model";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("784"), std::string::npos) << m;
    EXPECT_NE(m.find("756"), std::string::npos) << m;
  }
}

TEST(PrecisionSearch, StaysWithinBudgetWhenRemeasured) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  const data::Dataset calib = data::load_dataset("fashion-mnist", data::Split::kTrain, 500);
  auto s = load_mlp();
  ASSERT_TRUE(s);
  eval::SearchOptions so;
  so.budget = 0.4;
  const eval::SearchResult r = eval::search_precision(*s, PlanOptions{}, calib, so);
  ASSERT_FALSE(r.layers.empty());
  // Re-measure the chosen plan independently of the search's bookkeeping.
  PlanOptions chosen;
  chosen.layer_precision = r.layer_precision;
  const eval::Predictions ref = eval::predict(*s, PlanOptions{}, calib, {});
  const eval::Predictions got = eval::predict(*s, chosen, calib, {});
  const double agreement = eval::score(got, ref, calib.labels).agreement;
  EXPECT_GE(agreement, 100.0 - so.budget);
  EXPECT_DOUBLE_EQ(agreement, r.agreement);
  // Something was narrowed (mxint8 alone costs the MLP about 0.1 point).
  double narrowest = 32;
  for (const eval::LayerChoice& c : r.layers) narrowest = std::min(narrowest, c.bits);
  EXPECT_LT(narrowest, 16);

  so.budget = -1;
  EXPECT_THROW(eval::search_precision(*s, PlanOptions{}, calib, so), Error);

  // Impossible: layers pinned to ms-fp8 (about 3 points of agreement on this MLP) cost more than
  // a zero budget allows; the message says so and names the layers.
  PlanOptions pinned;
  pinned.layer_precision = {
      {"/net/net.1/Gemm", "ms-fp8"}, {"/net/net.3/Gemm", "ms-fp8"}, {"/net/net.5/Gemm", "ms-fp8"}};
  so.budget = 0;
  try {
    eval::search_precision(*s, pinned, calib, so);
    ADD_FAILURE() << "an impossible budget was accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cannot be met"), std::string::npos) << m;
    EXPECT_NE(m.find("/net/net.1/Gemm=ms-fp8"), std::string::npos) << m;
  }
}

TEST(SvgPlot, PointsLandInsideThePlotArea) {
  eval::PlotSpec spec;
  spec.title = "t <&>";
  spec.series.push_back({"a", {{4, 80, "mxfp4"}, {32, 90, "fp32"}}});
  const std::string svg = eval::render_svg(spec);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("t &lt;&amp;&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
}

}  // namespace
}  // namespace softdpu
