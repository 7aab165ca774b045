#include "onnx/importer.h"

#include <onnx/onnx_pb.h>

#include <fstream>
#include <unordered_map>

#include "onnx/tensor_proto.h"
#include "softdpu/status.h"

namespace softdpu::onnx_io {
namespace {

// Opsets whose semantics the kernels follow. Older models import too: ops whose meaning changed
// check ctx.opset() themselves.
constexpr int64_t kMaxOpset = 17;

[[noreturn]] void invalid(const std::string& msg) {
  throw Error(StatusCode::kInvalidModel, msg);
}

void read_value_info(const onnx::ValueInfoProto& vi, ir::Value& v) {
  if (!vi.has_type()) return;
  const onnx::TypeProto& type = vi.type();
  if (!type.has_tensor_type()) {
    throw Error(StatusCode::kUnsupported,
                "value '" + vi.name() +
                    "' is not a tensor (sequence, map or optional types are not supported)");
  }
  const auto& tt = type.tensor_type();
  if (tt.has_elem_type()) v.dtype = static_cast<DType>(tt.elem_type());
  if (tt.has_shape()) {
    v.has_shape = true;
    v.shape.clear();
    v.dim_names.clear();
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) {
        v.shape.push_back(d.dim_value());
        v.dim_names.emplace_back();
      } else {
        v.shape.push_back(-1);
        v.dim_names.push_back(d.has_dim_param() ? d.dim_param() : std::string("?"));
      }
    }
  }
}

ir::Attribute convert_attribute(const onnx::AttributeProto& a, const std::string& node_desc,
                                const std::string& base_dir) {
  ir::Attribute out;
  using K = ir::Attribute::Kind;
  switch (a.type()) {
    case onnx::AttributeProto::INT:
      out.kind = K::kInt;
      out.i = a.i();
      break;
    case onnx::AttributeProto::FLOAT:
      out.kind = K::kFloat;
      out.f = a.f();
      break;
    case onnx::AttributeProto::STRING:
      out.kind = K::kString;
      out.s = a.s();
      break;
    case onnx::AttributeProto::INTS:
      out.kind = K::kInts;
      out.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case onnx::AttributeProto::FLOATS:
      out.kind = K::kFloats;
      out.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case onnx::AttributeProto::STRINGS:
      out.kind = K::kStrings;
      out.strings.assign(a.strings().begin(), a.strings().end());
      break;
    case onnx::AttributeProto::TENSOR:
      out.kind = K::kTensor;
      out.t = tensor_from_proto(a.t(), base_dir);
      break;
    default:
      throw Error(StatusCode::kUnsupported,
                  node_desc + ": attribute '" + a.name() +
                      "' has a type softdpu does not support (graph, sparse tensor or type proto)");
  }
  return out;
}

// Consumes the model's initializer payloads: each one is freed as soon as its tensor is built, so
// an initializer's bytes exist twice only while it is being converted (not the whole model).
ir::Graph convert(onnx::ModelProto& model, const std::string& base_dir) {
  if (!model.has_graph()) invalid("the model has no graph");
  ir::Graph g;
  const onnx::GraphProto& graph = model.graph();
  g.name = graph.name();
  for (const auto& imp : model.opset_import()) {
    if (imp.domain().empty() || imp.domain() == "ai.onnx") g.opset = imp.version();
  }
  if (g.opset == 0) {
    for (const auto& np : graph.node()) {
      if (!np.domain().empty() && np.domain() != "ai.onnx") {
        throw Error(StatusCode::kUnsupported, np.op_type() + " node '" + np.name() +
                                                  "': op domain '" + np.domain() +
                                                  "' is not supported");
      }
    }
    invalid("the model imports no version of the default ONNX opset");
  }
  if (g.opset > kMaxOpset) {
    throw Error(StatusCode::kUnsupported, "the model uses ONNX opset " + std::to_string(g.opset) +
                                              "; softdpu supports opsets up to " +
                                              std::to_string(kMaxOpset));
  }

  std::unordered_map<std::string, int> by_name;
  auto value_id = [&](const std::string& name) -> int {
    auto it = by_name.find(name);
    if (it != by_name.end()) return it->second;
    ir::Value v;
    v.name = name;
    int id = g.add_value(std::move(v));
    by_name.emplace(name, id);
    return id;
  };

  for (onnx::TensorProto& init : *model.mutable_graph()->mutable_initializer()) {
    if (init.name().empty()) invalid("an initializer has no name");
    int id = value_id(init.name());
    ir::Value& v = g.values[id];
    if (v.constant) invalid("initializer '" + init.name() + "' is defined twice");
    v.constant = tensor_from_proto(init, base_dir);
    v.dtype = v.constant->dtype();
    v.shape = v.constant->shape();
    v.has_shape = true;
    // Clear() would keep the fields' capacity; swapping with an empty message frees them.
    onnx::TensorProto().Swap(&init);
  }
  if (graph.sparse_initializer_size() > 0) {
    throw Error(StatusCode::kUnsupported, "sparse initializers are not supported");
  }
  for (const auto& in : graph.input()) {
    if (in.name().empty()) invalid("a graph input has no name");
    int id = value_id(in.name());
    ir::Value& v = g.values[id];
    if (v.constant) continue;  // an input with a default initializer: treated as the constant
    read_value_info(in, v);
    if (!in.has_type() || v.dtype == DType::kUndefined)
      invalid("graph input '" + in.name() + "' has no tensor type");
    if (!dtype_is_supported(v.dtype) && v.dtype != DType::kString) {
      throw Error(StatusCode::kUnsupported,
                  "graph input '" + in.name() + "' has element type " + dtype_name(v.dtype));
    }
    g.inputs.push_back(id);
  }
  for (const auto& vi : graph.value_info()) {
    auto it = by_name.find(vi.name());
    if (it != by_name.end() && g.values[it->second].constant) continue;
    // Sequence-typed intermediates are fine: sequences are lowered to tensors at plan time.
    if (vi.has_type() && !vi.type().has_tensor_type()) continue;
    read_value_info(vi, g.values[value_id(vi.name())]);
  }

  int index = 0;
  for (const auto& np : graph.node()) {
    ir::Node node;
    node.name = np.name().empty() ? np.op_type() + "_" + std::to_string(index) : np.name();
    std::string desc = np.op_type() + " node '" + node.name + "'";
    if (!np.domain().empty() && np.domain() != "ai.onnx") {
      throw Error(StatusCode::kUnsupported,
                  desc + ": op domain '" + np.domain() + "' is not supported");
    }
    auto op = ir::op_from_name(np.op_type());
    if (!op)
      throw Error(StatusCode::kUnsupported, desc + ": op '" + np.op_type() + "' is not supported");
    node.op = *op;
    for (const auto& in : np.input()) node.inputs.push_back(in.empty() ? -1 : value_id(in));
    for (const auto& out : np.output()) node.outputs.push_back(out.empty() ? -1 : value_id(out));
    for (const auto& a : np.attribute()) {
      if (a.name().empty()) invalid(desc + ": an attribute has no name");
      if (!a.ref_attr_name().empty())
        invalid(desc + ": attribute references are only valid inside functions");
      node.attrs.emplace(a.name(), convert_attribute(a, desc, base_dir));
    }
    g.nodes.push_back(std::move(node));
    ++index;
  }
  for (const auto& out : graph.output()) {
    auto it = by_name.find(out.name());
    if (it == by_name.end())
      invalid("graph output '" + out.name() + "' is not produced by any node");
    read_value_info(out, g.values[it->second]);
    g.outputs.push_back(it->second);
  }
  if (g.outputs.empty()) invalid("the graph has no outputs");
  ir::topological_sort(g);
  return g;
}

}  // namespace

ir::Graph import_model_bytes(const std::string& bytes, const std::string& base_dir) {
  if (bytes.empty()) invalid("the model file is empty");
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) {
    invalid("not a valid ONNX model: the protobuf does not parse (truncated or corrupt file?)");
  }
  return convert(model, base_dir);
}

ir::Graph import_model_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(StatusCode::kNotFound, "cannot open model file '" + path + "'");
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  try {
    // Parsed from the stream, not from the file read into a string first: the file's bytes are
    // then never held beside the parsed model (for a large model that is the weights once more).
    if (f.peek() == std::ifstream::traits_type::eof()) invalid("the model file is empty");
    onnx::ModelProto model;
    if (!model.ParseFromIstream(&f)) {
      invalid("not a valid ONNX model: the protobuf does not parse (truncated or corrupt file?)");
    }
    return convert(model, dir);
  } catch (const Error& e) {
    throw Error(e.code(), "'" + path + "': " + e.what(), e.subject());
  }
}

}  // namespace softdpu::onnx_io
