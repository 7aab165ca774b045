// End-to-end behaviour of load -> plan -> run on small hand-built models: results against
// hand-computed references, the graph passes, and every kind of bad input.
#include "softdpu/session.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "support/model_builder.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using testing::ModelBuilder;
using testing::random_tensor;

std::unique_ptr<Session> load_bytes(const std::string& bytes, Status* st) {
  std::unique_ptr<Session> s;
  *st = Session::load_from_bytes(bytes, ".", &s);
  return s;
}

// y = relu(x W + b) W2 + b2 with x [batch, 8]; the reference is written out with loops.
struct Mlp {
  Tensor w1 = random_tensor({8, 16}, -1, 1, 11), b1 = random_tensor({16}, -1, 1, 12);
  Tensor w2 = random_tensor({16, 4}, -1, 1, 13), b2 = random_tensor({4}, -1, 1, 14);

  std::string model() const {
    ModelBuilder m;
    m.input("x", DType::kFloat32, {-1, 8}).output("y", DType::kFloat32, {-1, 4});
    m.initializer("w1", w1).initializer("b1", b1).initializer("w2", w2).initializer("b2", b2);
    m.node("MatMul", {"x", "w1"}, {"h0"});
    m.node("Add", {"h0", "b1"}, {"h1"});
    m.node("Relu", {"h1"}, {"h2"});
    m.node("Gemm", {"h2", "w2", "b2"}, {"y"});
    return m.bytes();
  }

  std::vector<float> reference(const float* x, int64_t batch) const {
    std::vector<float> y(batch * 4);
    for (int64_t b = 0; b < batch; ++b) {
      float h[16];
      for (int j = 0; j < 16; ++j) {
        double acc = b1.data_as<float>()[j];
        for (int k = 0; k < 8; ++k) acc += x[b * 8 + k] * w1.data_as<float>()[k * 16 + j];
        h[j] = acc > 0 ? static_cast<float>(acc) : 0.f;
      }
      for (int j = 0; j < 4; ++j) {
        double acc = b2.data_as<float>()[j];
        for (int k = 0; k < 16; ++k) acc += h[k] * w2.data_as<float>()[k * 4 + j];
        y[b * 4 + j] = static_cast<float>(acc);
      }
    }
    return y;
  }
};

TEST(Session, MlpMatchesReferenceAndFuses) {
  Mlp mlp;
  Status st;
  auto s = load_bytes(mlp.model(), &st);
  ASSERT_TRUE(st) << st.to_string();
  for (int64_t batch : {1, 3}) {
    PlanOptions opt;
    opt.batch = batch;
    ASSERT_TRUE(st = s->plan(opt)) << st.to_string();
    // MatMul + Add + Relu became one Gemm with a fused activation.
    EXPECT_EQ(s->stats().op_counts.count("Relu"), 0u);
    EXPECT_EQ(s->stats().op_counts.count("Add"), 0u);
    EXPECT_EQ(s->stats().op_counts.at("Gemm"), 2);
    Tensor x = random_tensor({batch, 8}, -1, 1, 7);
    std::map<std::string, Tensor> out;
    ASSERT_TRUE(st = s->run({{"x", x}}, &out)) << st.to_string();
    std::vector<float> ref = mlp.reference(x.data_as<float>(), batch);
    const Tensor& y = out.at("y");
    ASSERT_EQ(y.shape(), (Shape{batch, 4}));
    for (int64_t i = 0; i < y.numel(); ++i) EXPECT_NEAR(y.data_as<float>()[i], ref[i], 1e-4f);
  }
}

// The per-kernel profile (softdpu bench --per-op): off by default; once on, a ring of the last
// n runs, one time per planned kernel, in run order; results unchanged; a new plan drops it.
TEST(Session, StepTimesRecordTheLastRuns) {
  Mlp mlp;
  Status st;
  auto s = load_bytes(mlp.model(), &st);
  ASSERT_TRUE(st) << st.to_string();
  ASSERT_TRUE(st = s->plan(PlanOptions{})) << st.to_string();
  Tensor x = random_tensor({1, 8}, -1, 1, 7);
  std::map<std::string, Tensor> out;
  ASSERT_TRUE(s->run({{"x", x}}, &out));
  Session::StepTimes off = s->step_times();
  ASSERT_EQ(off.names.size(), 2u);  // two Gemms
  EXPECT_TRUE(off.us[0].empty());
  s->record_step_times(3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s->run({{"x", x}}, &out));
  Session::StepTimes on = s->step_times();
  ASSERT_EQ(on.names.size(), 2u);
  EXPECT_EQ(on.ops, (std::vector<std::string>{"Gemm", "Gemm"}));
  for (const auto& us : on.us) {
    ASSERT_EQ(us.size(), 3u);
    for (double t : us) EXPECT_GE(t, 0.0);
  }
  std::vector<float> ref = mlp.reference(x.data_as<float>(), 1);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(out.at("y").data_as<float>()[i], ref[i], 1e-4f);
  ASSERT_TRUE(s->plan(PlanOptions{}));
  EXPECT_TRUE(s->step_times().us[0].empty());
}

TEST(Session, UnoptimizedPlanGivesSameResult) {
  Mlp mlp;
  Status st;
  auto s = load_bytes(mlp.model(), &st);
  ASSERT_TRUE(st);
  PlanOptions opt;
  opt.optimize = false;
  ASSERT_TRUE(st = s->plan(opt)) << st.to_string();
  EXPECT_EQ(s->stats().op_counts.at("Relu"), 1);
  Tensor x = random_tensor({1, 8}, -1, 1, 9);
  std::map<std::string, Tensor> out;
  ASSERT_TRUE(s->run({{"x", x}}, &out));
  std::vector<float> ref = mlp.reference(x.data_as<float>(), 1);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(out.at("y").data_as<float>()[i], ref[i], 1e-4f);
}

TEST(Session, ConvBatchNormFoldsAndMatchesReference) {
  // 1x1 conv, 2 -> 3 channels on a 2x2 image, then BatchNormalization.
  Tensor w = random_tensor({3, 2, 1, 1}, -1, 1, 21), b = random_tensor({3}, -1, 1, 22);
  Tensor gamma = random_tensor({3}, 0.5, 1.5, 23), beta = random_tensor({3}, -1, 1, 24);
  Tensor mean = random_tensor({3}, -1, 1, 25), var = random_tensor({3}, 0.1, 2, 26);
  ModelBuilder m;
  m.input("x", DType::kFloat32, {1, 2, 2, 2}).output("y", DType::kFloat32, {1, 3, 2, 2});
  m.initializer("w", w).initializer("b", b).initializer("g", gamma).initializer("be", beta);
  m.initializer("m", mean).initializer("v", var);
  m.node("Conv", {"x", "w", "b"}, {"c"});
  ModelBuilder::set_float(m.node("BatchNormalization", {"c", "g", "be", "m", "v"}, {"y"}),
                          "epsilon", 1e-3f);
  Status st;
  auto s = load_bytes(m.bytes(), &st);
  ASSERT_TRUE(st) << st.to_string();
  ASSERT_TRUE(st = s->plan({})) << st.to_string();
  EXPECT_EQ(s->stats().op_counts.count("BatchNormalization"), 0u);
  Tensor x = random_tensor({1, 2, 2, 2}, -1, 1, 27);
  std::map<std::string, Tensor> out;
  ASSERT_TRUE(st = s->run({{"x", x}}, &out)) << st.to_string();
  for (int o = 0; o < 3; ++o) {
    for (int p = 0; p < 4; ++p) {
      double c = b.data_as<float>()[o];
      for (int i = 0; i < 2; ++i)
        c += w.data_as<float>()[o * 2 + i] * x.data_as<float>()[i * 4 + p];
      double y = (c - mean.data_as<float>()[o]) / std::sqrt(var.data_as<float>()[o] + 1e-3) *
                     gamma.data_as<float>()[o] +
                 beta.data_as<float>()[o];
      EXPECT_NEAR(out.at("y").data_as<float>()[o * 4 + p], y, 1e-4);
    }
  }
}

TEST(Session, ConstantSubgraphsFoldAway) {
  // Shape -> Gather -> Unsqueeze -> Concat -> Reshape: all known at plan time.
  ModelBuilder m;
  m.input("x", DType::kFloat32, {-1, 2, 3}).output("y", DType::kFloat32, {-1, 6});
  Tensor idx(DType::kInt64, {});
  Tensor minus1(DType::kInt64, {1});
  minus1.data_as<int64_t>()[0] = -1;
  Tensor axes(DType::kInt64, {1});
  m.initializer("idx", idx).initializer("minus1", minus1).initializer("axes", axes);
  m.node("Shape", {"x"}, {"s"});
  m.node("Gather", {"s", "idx"}, {"n"});
  m.node("Unsqueeze", {"n", "axes"}, {"n1"});
  ModelBuilder::set_int(m.node("Concat", {"n1", "minus1"}, {"shape"}), "axis", 0);
  m.node("Reshape", {"x", "shape"}, {"y"});
  Status st;
  auto s = load_bytes(m.bytes(), &st);
  ASSERT_TRUE(st) << st.to_string();
  PlanOptions opt;
  opt.batch = 2;
  ASSERT_TRUE(st = s->plan(opt)) << st.to_string();
  EXPECT_EQ(s->stats().kernel_count, 1);
  EXPECT_EQ(s->outputs()[0].shape, (Shape{2, 6}));
}

TEST(Session, IdentityAndDropoutDisappearButGraphOutputsKeepTheirNames) {
  ModelBuilder m;
  m.input("x", DType::kFloat32, {1, 4}).output("y", DType::kFloat32, {1, 4});
  m.node("Identity", {"x"}, {"a"});
  m.node("Relu", {"a"}, {"b"});
  m.node("Dropout", {"b"}, {"c"});
  m.node("Neg", {"c"}, {"d"});
  m.node("Identity", {"d"}, {"y"});
  Status st;
  auto s = load_bytes(m.bytes(), &st);
  ASSERT_TRUE(st) << st.to_string();
  ASSERT_TRUE(st = s->plan({})) << st.to_string();
  EXPECT_EQ(s->stats().op_counts.count("Dropout"), 0u);
  // The first Identity goes; the last one produces the graph output 'y' and stays.
  EXPECT_EQ(s->stats().op_counts.at("Identity"), 1);
  EXPECT_EQ(s->outputs()[0].name, "y");
  Tensor x = testing::make_tensor<float>({1, 4}, {-1.f, 2.f, -3.f, 4.f});
  std::map<std::string, Tensor> out;
  ASSERT_TRUE(st = s->run({{"x", x}}, &out)) << st.to_string();
  const float* y = out.at("y").data_as<float>();
  EXPECT_EQ(y[0], 0.f);
  EXPECT_EQ(y[1], -2.f);
  EXPECT_EQ(y[2], 0.f);
  EXPECT_EQ(y[3], -4.f);
}

// --- bad input

TEST(SessionErrors, TruncatedModel) {
  Mlp mlp;
  std::string bytes = mlp.model();
  Status st;
  load_bytes(bytes.substr(0, bytes.size() / 2), &st);
  EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("does not parse"), std::string::npos) << st.message();
}

TEST(SessionErrors, GarbageAndEmptyAndMissingFile) {
  Status st;
  load_bytes("this is not a protobuf \xff\xff\xff\xff", &st);
  EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
  load_bytes("", &st);
  EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
  std::unique_ptr<Session> s;
  st = Session::load("/nonexistent/model.onnx", &s);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("/nonexistent/model.onnx"), std::string::npos);
  EXPECT_EQ(s, nullptr);
}

TEST(SessionErrors, UnknownOpNamesNodeAndOp) {
  ModelBuilder m;
  m.input("x", DType::kFloat32, {1, 4}).output("y", DType::kFloat32, {1, 4});
  m.node("FrobnicateV2", {"x"}, {"y"}, "frob");
  Status st;
  load_bytes(m.bytes(), &st);
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("FrobnicateV2"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("'frob'"), std::string::npos) << st.message();
}

TEST(SessionErrors, DanglingInputAndCycle) {
  {
    ModelBuilder m;
    m.input("x", DType::kFloat32, {1, 4}).output("y", DType::kFloat32, {1, 4});
    m.node("Add", {"x", "nowhere"}, {"y"}, "adder");
    Status st;
    load_bytes(m.bytes(), &st);
    EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
    EXPECT_NE(st.message().find("'nowhere'"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("'adder'"), std::string::npos) << st.message();
  }
  {
    ModelBuilder m;
    m.input("x", DType::kFloat32, {1, 4}).output("y", DType::kFloat32, {1, 4});
    m.node("Add", {"x", "b"}, {"a"}, "first");
    m.node("Relu", {"a"}, {"b"}, "second");
    m.node("Relu", {"a"}, {"y"}, "third");
    Status st;
    load_bytes(m.bytes(), &st);
    EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
    EXPECT_NE(st.message().find("cycle"), std::string::npos) << st.message();
  }
}

TEST(SessionErrors, WrongInputNameShapeAndType) {
  Mlp mlp;
  Status st;
  auto s = load_bytes(mlp.model(), &st);
  ASSERT_TRUE(st);
  ASSERT_TRUE(s->plan({}));
  std::map<std::string, Tensor> out;
  st = s->run({{"x", random_tensor({1, 8})}, {"z", random_tensor({1, 8})}}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'z'"), std::string::npos) << st.message();
  st = s->run({{"wrong", random_tensor({1, 8})}}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'x'"), std::string::npos) << st.message();
  st = s->run({{"x", random_tensor({1, 9})}}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("[1, 8]"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("[1, 9]"), std::string::npos) << st.message();
  st = s->run({{"x", Tensor(DType::kInt64, {1, 8})}}, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("int64"), std::string::npos) << st.message();
  // Planning with a shape the model forbids names the input too.
  PlanOptions opt;
  opt.input_shapes["x"] = {1, 7};
  st = s->plan(opt);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'x'"), std::string::npos) << st.message();
}

TEST(SessionErrors, RunBeforePlan) {
  Mlp mlp;
  Status st;
  auto s = load_bytes(mlp.model(), &st);
  std::map<std::string, Tensor> out;
  EXPECT_EQ(s->run({{"x", random_tensor({1, 8})}}, &out).code(), StatusCode::kInvalidArgument);
}

TEST(SessionErrors, KernelShapeErrorNamesNode) {
  ModelBuilder m;
  m.input("x", DType::kFloat32, {1, 4}).output("y", DType::kFloat32, {1, 3});
  m.initializer("w", random_tensor({5, 3}));
  m.node("MatMul", {"x", "w"}, {"y"}, "proj");
  Status st;
  auto s = load_bytes(m.bytes(), &st);
  ASSERT_TRUE(st);
  st = s->plan({});
  EXPECT_FALSE(st);
  EXPECT_NE(st.message().find("'proj'"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace softdpu
