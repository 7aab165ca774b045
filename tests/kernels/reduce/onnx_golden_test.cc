// The ONNX backend node tests of the reduce family (Debian libonnx-testdata), run through each
// op's prepare and kernel alone: golden outputs from an independent source, and a failure here
// points at the kernel rather than the importer or planner. Skipped when the data is missing.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "onnx/tensor_proto.h"
#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNodeDir = "/usr/share/libonnx-testdata/data/node";
constexpr const char* kPrefixes[] = {
    "test_reduce_",       "test_argmax_",  "test_argmin_",    "test_softmax_",
    "test_logsoftmax_",   "test_hardmax_", "test_batchnorm_", "test_layer_normalization_",
    "test_instancenorm_", "test_lrn",      "test_mvn",        "test_nllloss_",
    "test_sce_",          "test_lpnorm"};

ir::Attribute to_attr(const onnx::AttributeProto& a) {
  switch (a.type()) {
    case onnx::AttributeProto::INT: return testing::attr_int(a.i());
    case onnx::AttributeProto::FLOAT: return testing::attr_float(a.f());
    case onnx::AttributeProto::STRING: return testing::attr_string(a.s());
    case onnx::AttributeProto::INTS: return testing::attr_ints({a.ints().begin(), a.ints().end()});
    case onnx::AttributeProto::FLOATS:
      return testing::attr_floats({a.floats().begin(), a.floats().end()});
    default: throw Error(StatusCode::kUnsupported, "attribute kind of '" + a.name() + "'");
  }
}

double value(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kFloat32: return t.data_as<float>()[i];
    case DType::kFloat64: return t.data_as<double>()[i];
    case DType::kInt64: return static_cast<double>(t.data_as<int64_t>()[i]);
    case DType::kInt32: return t.data_as<int32_t>()[i];
    default: return NAN;
  }
}

// "" when equal within ONNX's backend tolerances (rtol 1e-3, atol 1e-7), else the first mismatch.
std::string compare(const Tensor& got, const Tensor& want) {
  if (got.dtype() != want.dtype()) {
    return std::string("dtype ") + dtype_name(got.dtype()) + " vs " + dtype_name(want.dtype());
  }
  if (got.shape() != want.shape()) {
    return "shape " + shape_to_string(got.shape()) + " vs " + shape_to_string(want.shape());
  }
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double g = value(got, i), w = value(want, i);
    if (std::isnan(w) && std::isnan(g)) continue;
    if (!(std::fabs(g - w) <= 1e-7 + 1e-3 * std::fabs(w))) {
      return "element " + std::to_string(i) + ": " + std::to_string(g) + " vs " + std::to_string(w);
    }
  }
  return "";
}

// Runs one test directory; returns "" on success or what went wrong.
std::string run_case(const fs::path& dir) {
  onnx::ModelProto model;
  std::ifstream f(dir / "model.onnx", std::ios::binary);
  if (!model.ParseFromIstream(&f)) return "cannot parse model.onnx";
  int64_t opset = 0;
  for (const auto& o : model.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
  }
  const onnx::GraphProto& g = model.graph();
  if (g.node_size() != 1) return "expected one node";
  const onnx::NodeProto& node = g.node(0);
  const auto op = ir::op_from_name(node.op_type());
  if (!op) return "unknown op " + node.op_type();
  std::map<std::string, ir::Attribute> attrs;
  for (const auto& a : node.attribute()) attrs[a.name()] = to_attr(a);

  const fs::path data = dir / "test_data_set_0";
  std::map<std::string, Tensor> feeds;
  for (int i = 0; i < g.input_size(); ++i) {
    feeds[g.input(i).name()] =
        onnx_io::load_tensor_pb((data / ("input_" + std::to_string(i) + ".pb")).string());
  }
  std::vector<testing::OpInput> inputs;
  for (const std::string& name : node.input()) {
    // Every input is visible to prepare, as the planner makes shape-deciding inputs constant.
    inputs.push_back(name.empty() ? testing::none() : testing::in(feeds.at(name), true));
  }
  const auto outs = testing::run_op(*op, inputs, attrs, node.output_size(), 1, opset);
  for (int i = 0; i < g.output_size(); ++i) {
    const Tensor want =
        onnx_io::load_tensor_pb((data / ("output_" + std::to_string(i) + ".pb")).string());
    const std::string diff = compare(outs[i], want);
    if (!diff.empty()) return "output " + std::to_string(i) + ": " + diff;
  }
  return "";
}

TEST(ReduceOnnxGolden, BackendNodeTestsOfTheFamily) {
  if (!fs::is_directory(kNodeDir)) GTEST_SKIP() << kNodeDir << " is not installed";
  int ran = 0;
  for (const auto& e : fs::directory_iterator(kNodeDir)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 9 && name.compare(name.size() - 9, 9, "_expanded") == 0) continue;
    bool mine = false;
    for (const char* p : kPrefixes) mine = mine || name.rfind(p, 0) == 0;
    if (!mine || !fs::exists(e.path() / "model.onnx")) continue;
    std::string result;
    try {
      result = run_case(e.path());
    } catch (const Error& err) {
      result = std::string(status_code_name(err.code())) + ": " + err.what();
    }
    EXPECT_EQ(result, "") << name;
    ++ran;
  }
  EXPECT_GT(ran, 150);
}

}  // namespace
}  // namespace softdpu
