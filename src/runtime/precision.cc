#include "runtime/precision.h"

#include <algorithm>
#include <set>
#include <vector>

namespace softdpu::runtime {
namespace {

[[noreturn]] void bad_arg(const std::string& msg) {
  throw Error(StatusCode::kInvalidArgument, msg);
}

bool is_keyword(const std::string& s) {
  return s == "first" || s == "last";
}

std::string join(const std::vector<std::string>& names) {
  if (names.empty()) return "(none)";
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::vector<std::string> eligible_names(const ir::Graph& g) {
  std::vector<std::string> names;
  for (const ir::Node& node : g.nodes) {
    if (!weight_inputs(g, node).empty()) names.push_back(node.name);
  }
  return names;
}

// parse_format's message already lists the valid names; this adds where the name came from.
void check_format(const std::string& name, const std::string& where) {
  try {
    formats::parse_format(name);
  } catch (const Error& e) {
    bad_arg(where + ": " + e.what());
  }
}

}  // namespace

std::vector<int> weight_inputs(const ir::Graph& g, const ir::Node& node) {
  auto is_weight = [&](size_t i, size_t rank) {
    if (node.inputs.size() <= i || node.inputs[i] < 0) return false;
    const ir::Value& w = g.values[node.inputs[i]];
    return w.constant && w.constant->dtype() == DType::kFloat32 &&
           w.constant->shape().size() == rank;
  };
  switch (node.op) {
    case ir::OpType::kGemm:
    case ir::OpType::kMatMul:
      if (is_weight(1, 2)) return {1};
      return {};
    case ir::OpType::kLSTM:
    case ir::OpType::kGRU:
    case ir::OpType::kRNN:
      if (is_weight(1, 3) && is_weight(2, 3)) return {1, 2};
      return {};
    case ir::OpType::kConv: {
      // Ungrouped convolutions (W [M, C, k...]); grouped and depthwise ones keep fp32: their
      // per-group weights are too small for narrow storage to pay (docs/precision.md).
      const ir::Attribute* group = node.attr("group");
      if (group && group->i != 1) return {};
      if (node.inputs.size() > 1 && node.inputs[1] >= 0) {
        const ir::Value& w = g.values[node.inputs[1]];
        if (w.constant && w.constant->dtype() == DType::kFloat32 &&
            w.constant->shape().size() >= 3) {
          return {1};
        }
      }
      return {};
    }
    default: return {};
  }
}

void weight_rows_cols(const ir::Node& node, int input, const Shape& shape, int64_t* n, int64_t* k) {
  if (node.op == ir::OpType::kConv) {  // W [M, C, k...]: M rows of C * prod(k)
    *n = shape[0];
    *k = shape_numel(shape) / std::max<int64_t>(shape[0], 1);
    return;
  }
  if (shape.size() == 3) {  // RNN W [dirs, G*H, input] / R [dirs, G*H, H]
    *n = shape[0] * shape[1];
    *k = shape[2];
    return;
  }
  // Gemm with transB=0 and MatMul hold B as K x N.
  const ir::Attribute* tb = node.attr("transB");
  const bool kn = node.op == ir::OpType::kMatMul || tb == nullptr || tb->i == 0;
  *n = kn ? shape[1] : shape[0];
  *k = kn ? shape[0] : shape[1];
}

formats::WeightFormat node_weight_format(const ir::Node& node) {
  const ir::Attribute* a = node.attr(kWeightFormatAttr);
  if (!a || a->kind != ir::Attribute::Kind::kString) return {};
  return formats::parse_format(a->s);
}

size_t packed_weight_bytes(const formats::WeightFormat& f, int64_t n, int64_t k) {
  size_t bytes = static_cast<size_t>(n * formats::storage_row_bytes(f, k));
  if (f.id == formats::FormatId::kInt8) bytes += static_cast<size_t>(n) * sizeof(float);
  return bytes;
}

void validate_precision_options(const ir::Graph& model, const PlanOptions& opt) {
  check_format(opt.precision, "precision");
  if (opt.activations != "native" && opt.activations != "fp32")
    bad_arg("activations '" + opt.activations + "' is not one of: native, fp32");
  std::set<std::string> nodes;
  for (const ir::Node& n : model.nodes) nodes.insert(n.name);
  auto check_node = [&](const std::string& name, const std::string& where) {
    if (nodes.count(name)) return;
    bad_arg(where + " names node '" + name +
            "', which is not in the model; weight layers: " + join(eligible_names(model)));
  };
  for (const auto& [node, format] : opt.layer_precision) {
    check_node(node, "layer_precision");
    check_format(format, "layer_precision for node '" + node + "'");
  }
  for (const std::string& name : opt.keep_fp32) {
    if (!is_keyword(name)) check_node(name, "keep_fp32");
  }
}

void assign_weight_formats(ir::Graph& g, const PlanOptions& opt) {
  std::vector<int> layers;  // eligible nodes in topological order
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!weight_inputs(g, g.nodes[i]).empty()) layers.push_back(static_cast<int>(i));
  }
  auto find_layer = [&](const std::string& name, const std::string& where) {
    for (int i : layers) {
      if (g.nodes[i].name == name) return i;
    }
    bad_arg(where + " names node '" + name +
            "', which is not a weight layer (Gemm/MatMul with a constant 2-D float32 weight, "
            "ungrouped Conv, LSTM/GRU/RNN) after planning; weight layers: " +
            join(eligible_names(g)));
  };
  std::vector<std::string> format(g.nodes.size(), formats::parse_format(opt.precision).name);
  for (const std::string& name : opt.keep_fp32) {
    if (layers.empty() && is_keyword(name)) continue;  // "first" of nothing: nothing to keep
    const int i = name == "first"  ? layers.front()
                  : name == "last" ? layers.back()
                                   : find_layer(name, "keep_fp32");
    format[i] = "fp32";
  }
  for (const auto& [name, f] : opt.layer_precision) {
    format[find_layer(name, "layer_precision")] = formats::parse_format(f).name;
  }
  for (int i : layers) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kString;
    a.s = format[i];
    g.nodes[i].attrs[kWeightFormatAttr] = a;
    a.s = opt.activations;
    g.nodes[i].attrs[kActivationsAttr] = a;
  }
}

}  // namespace softdpu::runtime
