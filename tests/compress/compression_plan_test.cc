// Compressed formats through Session::plan (src/runtime/compression.cc): the bundled
// Fashion-MNIST MLP projected to block-circulant / pruned + weight-shared against the dense plan
// of the same model with the projected weights written into it, lossless detection, RNN gate
// matrices, stats, and the errors.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "compress/circulant.h"
#include "compress/sparse.h"
#include "core/npy.h"
#include "softdpu/session.h"
#include "support/model_builder.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using testing::ModelBuilder;

const std::string kMlp = std::string(SOFTDPU_SOURCE_DIR) + "/models/fashion_mlp/1/model.onnx";

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<float> floats_of(const onnx::TensorProto& t) {
  if (t.has_raw_data()) {
    std::vector<float> v(t.raw_data().size() / 4);
    std::memcpy(v.data(), t.raw_data().data(), v.size() * 4);
    return v;
  }
  return {t.float_data().begin(), t.float_data().end()};
}

void set_floats(onnx::TensorProto& t, const std::vector<float>& v) {
  t.clear_float_data();
  t.set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
}

// Rewrites every Gemm weight of the model with f(W as N x K) and returns the new bytes; the dense
// plan of that model is the reference (its fp32 kernels are checked against PyTorch elsewhere).
template <typename F>
std::string rewrite_gemm_weights(const std::string& bytes, F f) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  for (const onnx::NodeProto& node : m.graph().node()) {
    if (node.op_type() != "Gemm") continue;
    bool trans_b = false;
    for (const auto& a : node.attribute())
      if (a.name() == "transB") trans_b = a.i() != 0;
    for (onnx::TensorProto& t : *m.mutable_graph()->mutable_initializer()) {
      if (t.name() != node.input(1)) continue;
      const int64_t n = trans_b ? t.dims(0) : t.dims(1), k = trans_b ? t.dims(1) : t.dims(0);
      std::vector<float> v = floats_of(t), nk(n * k);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < k; ++j) nk[i * k + j] = trans_b ? v[i * k + j] : v[j * n + i];
      f(nk, n, k);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < k; ++j) (trans_b ? v[i * k + j] : v[j * n + i]) = nk[i * k + j];
      set_floats(t, v);
    }
  }
  return m.SerializeAsString();
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

std::map<std::string, Tensor> run(Session& s, const std::map<std::string, Tensor>& in) {
  std::map<std::string, Tensor> out;
  Status st = s.run(in, &out);
  EXPECT_TRUE(st) << st.to_string();
  return out;
}

void expect_close(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b,
                  float tol) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    const Tensor& u = b.at(name);
    ASSERT_EQ(t.shape(), u.shape()) << name;
    for (int64_t i = 0; i < t.numel(); ++i)
      ASSERT_NEAR(t.data_as<float>()[i], u.data_as<float>()[i],
                  tol * (1.f + std::fabs(u.data_as<float>()[i])))
          << name << "[" << i << "]";
  }
}

std::map<std::string, Tensor> mlp_input(const Session& s, int64_t batch, uint32_t seed) {
  const ValueInfo& in = s.inputs().at(0);
  Shape shape = in.shape;
  shape[0] = batch;
  return {{in.name, testing::random_tensor(shape, 0.f, 1.f, seed)}};
}

TEST(CompressionPlan, BundledMlpCirculantMatchesDenseProjectedModel) {
  const std::string bytes = read_file(kMlp);
  for (int b : {4, 8, 16}) {
    const std::string projected =
        rewrite_gemm_weights(bytes, [&](std::vector<float>& w, int64_t n, int64_t k) {
          if (n < b || k < b) return;  // too small for one block: the planner leaves it dense
          auto v = compress::project_circulant(w.data(), n, k, k, b);
          compress::expand_circulant(v, w.data(), k);
        });
    for (int threads : {1, 2}) {
      for (int64_t batch : {1, 3}) {
        PlanOptions opt;
        opt.batch = batch;
        opt.threads = threads;
        opt.circulant_block = b;
        auto s = planned(bytes, opt);
        PlanOptions ref_opt;
        ref_opt.batch = batch;
        ref_opt.detect_compression = false;
        auto ref = planned(projected, ref_opt);
        ASSERT_TRUE(s && ref);
        for (const auto& [node, f] : s->stats().layer_formats) {
          EXPECT_EQ(
              f, b == 16 && node == "/net/net.5/Gemm" ? "fp32" : "circulant-b" + std::to_string(b))
              << node;
          EXPECT_EQ(ref->stats().layer_formats.at(node), "fp32");
        }
        EXPECT_EQ(s->stats().layer_compression_error.size(), b == 16 ? 2u : 3u);
        for (const auto& [node, e] : s->stats().layer_compression_error) EXPECT_GT(e, 0.3) << node;
        const auto in = mlp_input(*s, batch, 5);
        expect_close(run(*s, in), run(*ref, in), 2e-4f);
      }
    }
  }
}

TEST(CompressionPlan, BundledMlpPrunedMatchesDenseProjectedModel) {
  const std::string bytes = read_file(kMlp);
  for (int bits : {0, 4}) {
    const double density = 0.1;
    const std::string pruned =
        rewrite_gemm_weights(bytes, [&](std::vector<float>& w, int64_t n, int64_t k) {
          compress::prune_by_magnitude(w.data(), n, k, k, density);
          if (bits) compress::share_weights(w.data(), n, k, k, bits, "fp32");
        });
    for (int threads : {1, 2}) {
      PlanOptions opt;
      opt.threads = threads;
      opt.prune_density = density;
      opt.codebook_bits = bits;
      auto s = planned(bytes, opt);
      PlanOptions ref_opt;
      ref_opt.detect_compression = false;
      auto ref = planned(pruned, ref_opt);
      ASSERT_TRUE(s && ref);
      for (const auto& [node, f] : s->stats().layer_formats)
        EXPECT_EQ(f, bits ? "sparse-cb4" : "sparse") << node;
      // 10% of the weights at 1 byte (codebook) or 5 bytes (exact) each, plus column pointers:
      // far below the dense 4 bytes per weight.
      EXPECT_LT(s->stats().weight_bytes, ref->stats().weight_bytes / (bits ? 6 : 3));
      const auto in = mlp_input(*s, 1, 9);
      expect_close(run(*s, in), run(*ref, in), 1e-4f);
    }
  }
}

// x[B, K] -> Gemm(W, transB) -> y, with the weight given.
std::string one_layer(const Tensor& w) {
  ModelBuilder m;
  m.input("x", DType::kFloat32, {-1, w.shape()[1]})
      .output("y", DType::kFloat32, {-1, w.shape()[0]});
  m.initializer("w", w);
  auto& g = m.node("Gemm", {"x", "w"}, {"y"}, "fc");
  ModelBuilder::set_int(g, "transB", 1);
  return m.bytes();
}

TEST(CompressionPlan, LosslessDetectionWithoutFlags) {
  const int64_t n = 48, k = 64;
  // Exactly block-circulant at b = 16 (built from the definition).
  Tensor circ(DType::kFloat32, {n, k});
  const Tensor c = testing::random_tensor({3 * 4 * 16}, -1.f, 1.f, 3);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t s = 0; s < k; ++s)
      circ.data_as<float>()[r * k + s] =
          c.data_as<float>()[((r / 16) * 4 + s / 16) * 16 + ((r - s) % 16 + 16) % 16];
  // 10% dense.
  Tensor sparse = testing::random_tensor({n, k}, -1.f, 1.f, 4);
  for (int64_t i = 0; i < n * k; ++i)
    if (i % 10) sparse.data_as<float>()[i] = 0.f;
  const Tensor dense = testing::random_tensor({n, k}, -1.f, 1.f, 5);
  const std::pair<const Tensor*, std::string> cases[] = {
      {&circ, "circulant-b16"}, {&sparse, "sparse"}, {&dense, "fp32"}};
  for (const auto& [w, want] : cases) {
    PlanOptions opt;
    opt.batch = 2;
    auto s = planned(one_layer(*w), opt);
    opt.detect_compression = false;
    auto ref = planned(one_layer(*w), opt);
    ASSERT_TRUE(s && ref);
    EXPECT_EQ(s->stats().layer_formats.at("fc"), want);
    EXPECT_TRUE(s->stats().layer_compression_error.empty());  // lossless: nothing projected
    if (want == "circulant-b16") {
      EXPECT_EQ(s->stats().weight_bytes, size_t(3 * 4 * 16 * 4));
    }
    const std::map<std::string, Tensor> in{{"x", testing::random_tensor({2, k}, -1.f, 1.f, 6)}};
    expect_close(run(*s, in), run(*ref, in), 1e-5f);
  }
  // A circulant matrix with one entry changed by 1e-3 is no longer detected.
  circ.data_as<float>()[7] += 1e-3f;
  PlanOptions opt;
  auto s = planned(one_layer(circ), opt);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->stats().layer_formats.at("fc"), "fp32");
}

TEST(CompressionPlan, RnnGateMatricesCirculantAndSparse) {
  struct Case {
    const char* op;
    int gates;
    int lbr;
  };
  for (const Case c :
       {Case{"LSTM", 4, 0}, Case{"GRU", 3, 0}, Case{"GRU", 3, 1}, Case{"RNN", 1, 0}}) {
    const int64_t hidden = 16, input = 20, seq = 4;
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
    auto project = [](const Tensor& t, int blk) {
      Tensor o = t;
      const int64_t n = t.shape()[1], k = t.shape()[2];
      auto v = compress::project_circulant(t.data_as<float>(), n, k, k, blk);
      compress::expand_circulant(v, o.data_as<float>(), k);
      return o;
    };
    auto prune = [](const Tensor& t, double d) {
      Tensor o = t;
      compress::prune_by_magnitude(o.data_as<float>(), o.shape()[1], o.shape()[2], o.shape()[2], d);
      return o;
    };
    for (int threads : {1, 2}) {
      const Tensor x = testing::random_tensor({seq, 2, input}, -1.f, 1.f, 34);
      PlanOptions ref_opt;
      ref_opt.detect_compression = false;
      {
        PlanOptions opt;
        opt.threads = threads;
        opt.circulant_block = 8;
        auto s = planned(model(w, r), opt);
        auto ref = planned(model(project(w, 8), project(r, 8)), ref_opt);
        ASSERT_TRUE(s && ref);
        EXPECT_EQ(s->stats().layer_formats.at("rnn"), "circulant-b8") << c.op;
        expect_close(run(*s, {{"x", x}}), run(*ref, {{"x", x}}), 1e-4f);
      }
      {
        PlanOptions opt;
        opt.threads = threads;
        opt.prune_density = 0.3;
        auto s = planned(model(w, r), opt);
        auto ref = planned(model(prune(w, 0.3), prune(r, 0.3)), ref_opt);
        ASSERT_TRUE(s && ref);
        EXPECT_EQ(s->stats().layer_formats.at("rnn"), "sparse") << c.op;
        expect_close(run(*s, {{"x", x}}), run(*ref, {{"x", x}}), 1e-5f);
      }
    }
  }
}

// plan() fails with kInvalidArgument and a message containing every needle.
void expect_plan_error(const std::string& bytes, const PlanOptions& opt,
                       const std::vector<std::string>& needles) {
  std::unique_ptr<Session> s;
  Status st = Session::load_from_bytes(bytes, ".", &s);
  ASSERT_TRUE(st) << st.to_string();
  st = s->plan(opt);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.to_string();
  for (const std::string& n : needles)
    EXPECT_NE(st.message().find(n), std::string::npos) << st.message() << " lacks " << n;
}

TEST(CompressionPlan, BadOptionsAreErrorsSayingWhy) {
  const std::string mlp = read_file(kMlp);
  PlanOptions opt;
  opt.circulant_block = 12;
  expect_plan_error(mlp, opt, {"power of two", "12"});
  opt = {};
  opt.circulant_block = 512;
  expect_plan_error(mlp, opt, {"power of two", "512"});
  opt = {};
  opt.prune_density = 1.5;
  expect_plan_error(mlp, opt, {"(0, 1]", "1.5"});
  opt = {};
  opt.prune_density = -0.2;
  expect_plan_error(mlp, opt, {"(0, 1]"});
  opt = {};
  opt.codebook_bits = 4;
  expect_plan_error(mlp, opt, {"prune density"});
  opt = {};
  opt.prune_density = 0.5;
  opt.codebook_bits = 6;
  expect_plan_error(mlp, opt, {"codebook bits", "6"});
  // The last layer has 10 outputs: one 16x16 block would be bigger than it.
  opt = {};
  opt.circulant_block = 16;
  opt.circulant_layers = {"/net/net.5/Gemm"};
  expect_plan_error(mlp, opt,
                    {"'/net/net.5/Gemm'", "cannot take circulant blocks of 16", "10 outputs"});
  opt.circulant_layers = {"nope"};
  expect_plan_error(mlp, opt, {"'nope'", "not in the model"});
  opt = {};
  opt.circulant_block = 8;
  opt.prune_density = 0.5;
  expect_plan_error(mlp, opt, {"circulant-layers"});
  // An RNN whose hidden size is not a multiple of the block cannot be made circulant.
  ModelBuilder m;
  m.input("x", DType::kFloat32, {3, 1, 16}).output("y", DType::kFloat32, {3, 1, 1, 12});
  m.initializer("w", testing::random_tensor({1, 48, 16}, -1.f, 1.f, 1));
  m.initializer("r", testing::random_tensor({1, 48, 12}, -1.f, 1.f, 2));
  auto& n = m.node("LSTM", {"x", "w", "r"}, {"y"}, "lstm");
  ModelBuilder::set_int(n, "hidden_size", 12);
  opt = {};
  opt.circulant_block = 8;
  opt.circulant_layers = {"lstm"};
  expect_plan_error(m.bytes(), opt, {"'lstm'", "hidden_size 12 is not a multiple of 8"});
}

// The fine-tuned models of models/README.md were trained with block-circulant / pruned and
// weight-shared weights in PyTorch and exported as plain ONNX: detected with no flags, they must
// reproduce PyTorch's logits (written at export). The classifier stays dense where it is smaller
// than one block (10 outputs at b = 16) or was fine-tuned dense (--dense-head).
TEST(CompressionPlan, FineTunedModelsAreDetectedAndMatchPyTorch) {
  const std::string root = std::string(SOFTDPU_SOURCE_DIR);
  struct FineTuned {
    std::string name, format, dense_head;
  };
  for (const FineTuned& ft :
       std::vector<FineTuned>{{"fashion_mlp_circ8", "circulant-b8", ""},
                              {"fashion_mlp_circ16", "circulant-b16", "/net/net.5/Gemm"},
                              {"fashion_mlp_prune15_cb4", "sparse", ""},
                              {"fashion_lstm_circ8", "circulant-b8", "/fc/Gemm"},
                              {"fashion_lstm_circ16", "circulant-b16", "/fc/Gemm"}}) {
    const std::string& name = ft.name;
    for (const char* suffix : {"", "1"}) {
      const std::string data = root + "/tests/data/models/" + name;
      const Tensor x = read_npy(data + "/input" + suffix + ".npy");
      const Tensor want = read_npy(data + "/logits" + suffix + ".npy");
      PlanOptions opt;
      opt.batch = x.shape()[0];
      auto s = planned(read_file(root + "/models/" + name + "/1/model.onnx"), opt);
      ASSERT_TRUE(s);
      ASSERT_GE(s->stats().layer_formats.size(), 2u);
      for (const auto& [node, f] : s->stats().layer_formats)
        EXPECT_EQ(f, node == ft.dense_head ? "fp32" : ft.format) << name << " " << node;
      EXPECT_TRUE(s->stats().layer_compression_error.empty());
      const auto out = run(*s, {{"input", x}});
      const Tensor& y = out.at("logits");
      ASSERT_EQ(y.shape(), want.shape());
      for (int64_t i = 0; i < y.numel(); ++i)
        EXPECT_NEAR(y.data_as<float>()[i], want.data_as<float>()[i], 1e-4f) << name << " " << i;
    }
  }
}

TEST(CompressionPlan, MixedCirculantLayersAndPruning) {
  PlanOptions opt;
  opt.circulant_block = 8;
  opt.circulant_layers = {"/net/net.1/Gemm"};
  opt.prune_density = 0.2;
  opt.codebook_bits = 4;
  opt.codebook_values = "bf16";
  auto s = planned(read_file(kMlp), opt);
  ASSERT_TRUE(s);
  const std::map<std::string, std::string> want{{"/net/net.1/Gemm", "circulant-b8"},
                                                {"/net/net.3/Gemm", "sparse-cb4-bf16"},
                                                {"/net/net.5/Gemm", "sparse-cb4-bf16"}};
  EXPECT_EQ(s->stats().layer_formats, want);
}

}  // namespace
}  // namespace softdpu
