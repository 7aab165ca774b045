// Per-layer weight precision (PlanOptions::precision / layer_precision / keep_fp32) end to end:
// a small MLP planned in narrow formats against a naive product of the decoded weights, the
// stats, the fp32 escapes, the errors, and the bundled Fashion-MNIST MLP.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/npy.h"
#include "formats/packed.h"
#include "softdpu/session.h"
#include "support/model_builder.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using testing::ModelBuilder;

// x[B, 64] -> fc1 (MatMul + Add, fused into a Gemm) -> Relu -> fc2 (Gemm, transB, alpha 0.5)
// -> Relu -> fc3 (MatMul, no bias) -> y[B, 10]. Every K is a multiple of 32, so MX storage is
// exactly 33/128 of fp32.
struct Mlp {
  Tensor w1 = testing::random_tensor({64, 64}, -1.f, 1.f, 11);  // K x N
  Tensor b1 = testing::random_tensor({64}, -0.5f, 0.5f, 12);
  Tensor w2 = testing::random_tensor({32, 64}, -1.f, 1.f, 13);  // N x K (transB)
  Tensor b2 = testing::random_tensor({32}, -0.5f, 0.5f, 14);
  Tensor w3 = testing::random_tensor({32, 10}, -1.f, 1.f, 15);  // K x N

  std::string bytes() const {
    ModelBuilder m;
    m.input("x", DType::kFloat32, {-1, 64}).output("y", DType::kFloat32, {-1, 10});
    m.initializer("w1", w1).initializer("b1", b1).initializer("w2", w2);
    m.initializer("b2", b2).initializer("w3", w3);
    m.node("MatMul", {"x", "w1"}, {"m1"}, "fc1");
    m.node("Add", {"m1", "b1"}, {"a1"}, "add1");
    m.node("Relu", {"a1"}, {"h1"}, "relu1");
    auto& g = m.node("Gemm", {"h1", "w2", "b2"}, {"a2"}, "fc2");
    ModelBuilder::set_int(g, "transB", 1);
    ModelBuilder::set_float(g, "alpha", 0.5f);
    m.node("Relu", {"a2"}, {"h2"}, "relu2");
    m.node("MatMul", {"h2", "w3"}, {"y"}, "fc3");
    return m.bytes();
  }
};

// The values a format stores for an N x K weight, through the scalar reference decoder (fp32:
// the weight itself). Returned N x K.
std::vector<float> decoded(const float* w, int64_t n, int64_t k, bool kn, const std::string& f) {
  std::vector<float> nk(n * k);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) nk[i * k + j] = kn ? w[j * n + i] : w[i * k + j];
  if (f == "fp32") return nk;
  return formats::PackedMatrix::pack(nk.data(), n, k, k, formats::parse_format(f)).decode();
}

// y = act(scale * x * W^T + bias), W N x K, naive double accumulation.
std::vector<float> dense(const std::vector<float>& x, int64_t rows, const std::vector<float>& w,
                         int64_t n, int64_t k, float scale, const float* bias, bool relu) {
  std::vector<float> y(rows * n);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < n; ++i) {
      double acc = 0;
      for (int64_t j = 0; j < k; ++j) acc += double(x[r * k + j]) * w[i * k + j];
      float v = float(scale * acc) + (bias ? bias[i] : 0.f);
      y[r * n + i] = relu ? std::max(v, 0.f) : v;
    }
  return y;
}

std::vector<float> reference(const Mlp& mlp, const Tensor& x, const std::string& f1,
                             const std::string& f2, const std::string& f3) {
  const int64_t rows = x.shape()[0];
  std::vector<float> h(x.data_as<float>(), x.data_as<float>() + x.numel());
  h = dense(h, rows, decoded(mlp.w1.data_as<float>(), 64, 64, true, f1), 64, 64, 1.f,
            mlp.b1.data_as<float>(), true);
  // alpha = 0.5 is a power of two: quantising 0.5 W gives exactly 0.5 x quantised W.
  h = dense(h, rows, decoded(mlp.w2.data_as<float>(), 32, 64, false, f2), 32, 64, 0.5f,
            mlp.b2.data_as<float>(), true);
  return dense(h, rows, decoded(mlp.w3.data_as<float>(), 10, 32, true, f3), 10, 32, 1.f, nullptr,
               false);
}

std::unique_ptr<Session> planned(const std::string& bytes, const PlanOptions& opt) {
  std::unique_ptr<Session> s;
  Status st = Session::load_from_bytes(bytes, ".", &s);
  EXPECT_TRUE(st) << st.to_string();
  if (!st) return nullptr;
  st = s->plan(opt);
  EXPECT_TRUE(st) << st.to_string();
  return st ? std::move(s) : nullptr;
}

void expect_matches(Session& s, const Tensor& x, const std::vector<float>& ref) {
  std::map<std::string, Tensor> out;
  Status st = s.run({{"x", x}}, &out);
  ASSERT_TRUE(st) << st.to_string();
  const Tensor& y = out.at("y");
  ASSERT_EQ(static_cast<size_t>(y.numel()), ref.size());
  for (size_t i = 0; i < ref.size(); ++i)
    EXPECT_NEAR(y.data_as<float>()[i], ref[i], 1e-4f * (1.f + std::fabs(ref[i]))) << i;
}

class PrecisionFormat : public ::testing::TestWithParam<std::string> {};

TEST_P(PrecisionFormat, MlpMatchesDecodedReference) {
  const std::string f = GetParam();
  Mlp mlp;
  for (int threads : {1, 2}) {
    for (int64_t batch : {1, 3}) {
      PlanOptions opt;
      opt.batch = batch;
      opt.threads = threads;
      opt.precision = f;
      auto s = planned(mlp.bytes(), opt);
      ASSERT_TRUE(s);
      const std::map<std::string, std::string> want{{"fc1", f}, {"fc2", f}, {"fc3", f}};
      EXPECT_EQ(s->stats().layer_formats, want);
      Tensor x = testing::random_tensor({batch, 64}, -1.f, 1.f, 7);
      expect_matches(*s, x, reference(mlp, x, f, f, f));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, PrecisionFormat,
                         ::testing::Values("mxint8", "mxfp4_e2m1", "mxfp8_e4m3", "int8", "bf16",
                                           "ms-fp9", "bfp:16,3,8"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Precision, WeightBytesShrink) {
  Mlp mlp;
  PlanOptions opt;
  auto fp32 = planned(mlp.bytes(), opt);
  opt.precision = "mxint8";
  auto narrow = planned(mlp.bytes(), opt);
  ASSERT_TRUE(fp32 && narrow);
  const size_t weights = (64 * 64 + 32 * 64 + 32 * 10) * sizeof(float);
  const size_t biases = (64 + 32) * sizeof(float);
  EXPECT_EQ(fp32->stats().weight_bytes, weights + biases);
  EXPECT_EQ(fp32->stats().weight_bytes_by_format.at("fp32"), weights + biases);
  // MXINT8: 32 one-byte codes + one E8M0 scale byte per 32 weights = 33/128 of fp32.
  const std::map<std::string, size_t> want{{"fp32", biases}, {"mxint8", weights * 33 / 128}};
  EXPECT_EQ(narrow->stats().weight_bytes_by_format, want);
  EXPECT_EQ(narrow->stats().weight_bytes, biases + weights * 33 / 128);
}

TEST(Precision, KeepFp32AndLayerOverrides) {
  Mlp mlp;
  PlanOptions opt;
  opt.batch = 2;
  opt.precision = "mxint8";
  opt.keep_fp32 = {"first", "last"};
  auto s = planned(mlp.bytes(), opt);
  ASSERT_TRUE(s);
  std::map<std::string, std::string> want{{"fc1", "fp32"}, {"fc2", "mxint8"}, {"fc3", "fp32"}};
  EXPECT_EQ(s->stats().layer_formats, want);
  Tensor x = testing::random_tensor({2, 64}, -1.f, 1.f, 8);
  expect_matches(*s, x, reference(mlp, x, "fp32", "mxint8", "fp32"));

  // A named layer_precision wins over keep_fp32 and precision.
  opt.precision = "fp32";
  opt.keep_fp32 = {"fc2"};
  opt.layer_precision = {{"fc1", "mxfp4_e2m1"}, {"fc2", "mxint8"}};
  s = planned(mlp.bytes(), opt);
  ASSERT_TRUE(s);
  want = {{"fc1", "mxfp4_e2m1"}, {"fc2", "mxint8"}, {"fc3", "fp32"}};
  EXPECT_EQ(s->stats().layer_formats, want);
  expect_matches(*s, x, reference(mlp, x, "mxfp4_e2m1", "mxint8", "fp32"));
}

// transA (A copied row-major into scratch for qgemm) and a full C matrix (accumulated onto).
TEST(Precision, GemmTransAFullC) {
  Tensor w = testing::random_tensor({64, 10}, -1.f, 1.f, 21);  // K x N
  Tensor c = testing::random_tensor({3, 10}, -1.f, 1.f, 22);
  ModelBuilder m;
  m.input("x", DType::kFloat32, {64, 3}).output("y", DType::kFloat32, {3, 10});
  m.initializer("w", w).initializer("c", c);
  auto& g = m.node("Gemm", {"x", "w", "c"}, {"y"}, "fc");
  ModelBuilder::set_int(g, "transA", 1);
  for (int threads : {1, 2}) {
    PlanOptions opt;
    opt.threads = threads;
    opt.precision = "mxfp6_e2m3";
    auto s = planned(m.bytes(), opt);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->stats().layer_formats.at("fc"), "mxfp6_e2m3");
    Tensor x = testing::random_tensor({64, 3}, -1.f, 1.f, 23);
    std::vector<float> xt(3 * 64);
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 64; ++j) xt[i * 64 + j] = x.data_as<float>()[j * 3 + i];
    std::vector<float> ref = dense(xt, 3, decoded(w.data_as<float>(), 10, 64, true, "mxfp6_e2m3"),
                                   10, 64, 1.f, nullptr, false);
    for (int64_t i = 0; i < 30; ++i) ref[i] += c.data_as<float>()[i];
    expect_matches(*s, x, ref);
  }
}

// rows x k weights (an RNN's W or R, directions and gates stacked) replaced by the values format
// f stores for them.
Tensor decoded_tensor(const Tensor& w, const std::string& f) {
  const int64_t k = w.shape().back(), n = w.numel() / k;
  Tensor out(DType::kFloat32, w.shape());
  std::vector<float> d = decoded(w.data_as<float>(), n, k, false, f);
  std::copy(d.begin(), d.end(), out.data_as<float>());
  return out;
}

// LSTM / GRU gate matrices: the narrow plan equals the fp32 plan of the same model whose W and R
// hold the decoded weights (the fp32 RNN kernels are checked against onnxruntime elsewhere);
// with native activations, within the activation quantisation's bound.
TEST(Precision, RnnGateMatricesMatchDecodedWeights) {
  struct Case {
    const char* op;
    int gates;
    int lbr;
  };
  for (const Case c : {Case{"LSTM", 4, 0}, Case{"GRU", 3, 0}, Case{"GRU", 3, 1}}) {
    const int64_t hidden = 24, input = 40, seq = 5;
    Tensor w = testing::random_tensor({1, c.gates * hidden, input}, -0.5f, 0.5f, 31);
    Tensor r = testing::random_tensor({1, c.gates * hidden, hidden}, -0.5f, 0.5f, 32);
    Tensor b = testing::random_tensor({1, 2 * c.gates * hidden}, -0.2f, 0.2f, 33);
    auto model = [&](const Tensor& wv, const Tensor& rv) {
      ModelBuilder m;
      m.input("x", DType::kFloat32, {seq, 2, input})
          .output("y", DType::kFloat32, {seq, 1, 2, hidden})
          .output("yh", DType::kFloat32, {1, 2, hidden});
      m.initializer("w", wv).initializer("r", rv).initializer("b", b);
      auto& n = m.node(c.op, {"x", "w", "r", "b"}, {"y", "yh"}, "rnn");
      ModelBuilder::set_int(n, "hidden_size", hidden);
      if (c.lbr) ModelBuilder::set_int(n, "linear_before_reset", 1);
      return m.bytes();
    };
    for (const std::string f : {"mxint8", "mxfp4_e2m1", "int8"}) {
      for (int threads : {1, 2}) {
        for (const char* acts : {"fp32", "native"}) {
          PlanOptions opt;
          opt.threads = threads;
          auto ref = planned(model(decoded_tensor(w, f), decoded_tensor(r, f)), opt);
          opt.precision = f;
          opt.activations = acts;
          auto s = planned(model(w, r), opt);
          // Native activations (mxint8, mxfp4: x and h rounded to MXINT8 blocks, relative error
          // <= 2^-7 of each block's largest value) move the gate pre-activations by at most
          // about 2^-8 * sum |w x| < 0.03 here; a wrong scale or code would be off by far more.
          const bool quantised = std::string(acts) == "native" && f != "int8";
          const float tol = quantised ? 3e-2f : 1e-5f;
          ASSERT_TRUE(ref && s);
          EXPECT_EQ(s->stats().layer_formats.at("rnn"), f);
          EXPECT_EQ(ref->stats().layer_formats.at("rnn"), "fp32");
          // Rows padded to whole blocks along K (input for W, hidden for R), int8 adds row scales.
          const formats::WeightFormat wf = formats::parse_format(f);
          const int64_t rows = c.gates * hidden, scales = f == "int8" ? 2 * rows * 4 : 0;
          EXPECT_EQ(s->stats().weight_bytes,
                    size_t(b.nbytes() + rows * formats::storage_row_bytes(wf, input) +
                           rows * formats::storage_row_bytes(wf, hidden) + scales));
          Tensor x = testing::random_tensor({seq, 2, input}, -1.f, 1.f, 34);
          std::map<std::string, Tensor> a, e;
          Status st = s->run({{"x", x}}, &a);
          ASSERT_TRUE(st) << st.to_string();
          ASSERT_TRUE(st = ref->run({{"x", x}}, &e)) << st.to_string();
          for (const char* name : {"y", "yh"}) {
            const Tensor& ta = a.at(name);
            const Tensor& te = e.at(name);
            ASSERT_EQ(ta.shape(), te.shape());
            for (int64_t i = 0; i < ta.numel(); ++i)
              ASSERT_NEAR(ta.data_as<float>()[i], te.data_as<float>()[i], tol)
                  << c.op << " lbr=" << c.lbr << " " << f << " " << acts << " " << name << "[" << i
                  << "]";
          }
        }
      }
    }
  }
}

// plan() fails with kInvalidArgument and a message containing every `needles`.
void expect_plan_error(const PlanOptions& opt, const std::vector<std::string>& needles) {
  std::unique_ptr<Session> s;
  Status st = Session::load_from_bytes(Mlp().bytes(), ".", &s);
  ASSERT_TRUE(st) << st.to_string();
  st = s->plan(opt);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.to_string();
  for (const std::string& n : needles)
    EXPECT_NE(st.message().find(n), std::string::npos) << st.message() << " lacks " << n;
}

TEST(Precision, BadNamesAreErrorsNamingThem) {
  PlanOptions opt;
  opt.precision = "mxint9";
  expect_plan_error(opt, {"'mxint9'", "mxint8", "mxfp4_e2m1", "bfp:B,M,E"});
  opt = {};
  opt.layer_precision = {{"fc1", "fp33"}};
  expect_plan_error(opt, {"'fc1'", "'fp33'", "mxint8"});
  opt = {};
  opt.layer_precision = {{"nosuch", "mxint8"}};
  expect_plan_error(opt, {"'nosuch'", "fc1, fc2, fc3"});
  opt = {};
  opt.keep_fp32 = {"first", "ghost"};
  expect_plan_error(opt, {"'ghost'", "fc1, fc2, fc3"});
  opt = {};
  opt.layer_precision = {{"relu1", "mxint8"}};  // in the model, but has no weight
  expect_plan_error(opt, {"'relu1'", "not a weight layer", "fc1, fc2, fc3"});
}

// Agreement, not a golden: a bundled model's top-1 at MXINT8 equals its own FP32 top-1 on the
// 8 images of tests/data/models/<name>/input.npy.
class BundledAgreement : public ::testing::TestWithParam<std::string> {};

TEST_P(BundledAgreement, Mxint8Top1EqualsFp32) {
  const std::string root = SOFTDPU_SOURCE_DIR;
  const std::string model = root + "/models/" + GetParam() + "/1/model.onnx";
  ASSERT_TRUE(std::filesystem::exists(model)) << model;
  Tensor x = read_npy(root + "/tests/data/models/" + GetParam() + "/input.npy");
  std::map<std::string, Tensor> y[2];
  const char* formats[2] = {"fp32", "mxint8"};
  for (int i = 0; i < 2; ++i) {
    std::unique_ptr<Session> s;
    Status st = Session::load(model, &s);
    ASSERT_TRUE(st) << st.to_string();
    PlanOptions opt;
    opt.batch = x.shape()[0];
    opt.precision = formats[i];
    ASSERT_TRUE(st = s->plan(opt)) << st.to_string();
    EXPECT_GE(s->stats().layer_formats.size(), 2u);
    for (const auto& [node, f] : s->stats().layer_formats) EXPECT_EQ(f, formats[i]) << node;
    ASSERT_TRUE(st = s->run({{s->inputs()[0].name, x}}, &y[i])) << st.to_string();
  }
  const Tensor& a = y[0].begin()->second;
  const Tensor& b = y[1].begin()->second;
  ASSERT_EQ(a.shape(), b.shape());
  const int64_t rows = a.shape()[0], cols = a.shape()[1];
  ASSERT_EQ(rows, 8);
  bool differs = false;
  for (int64_t r = 0; r < rows; ++r) {
    const float* pa = a.data_as<float>() + r * cols;
    const float* pb = b.data_as<float>() + r * cols;
    EXPECT_EQ(std::max_element(pa, pa + cols) - pa, std::max_element(pb, pb + cols) - pb) << r;
    for (int64_t c = 0; c < cols; ++c) differs = differs || pa[c] != pb[c];
  }
  EXPECT_TRUE(differs) << "mxint8 logits equal fp32 bit for bit: the narrow path did not run";
}

INSTANTIATE_TEST_SUITE_P(Fashion, BundledAgreement,
                         ::testing::Values("fashion_mlp", "fashion_lstm", "fashion_gru",
                                           "fashion_cnn"));

}  // namespace
}  // namespace softdpu
