// Gemm / MatMul / Conv followed by an elementwise activation: the product applies it in its
// epilogue (see kernels/activation.h for the attribute convention), saving a pass over memory.
#include "passes/pass_utils.h"
#include "passes/passes.h"

namespace softdpu::passes {
namespace {

ir::Attribute float_attr(float f) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kFloat;
  a.f = f;
  return a;
}

// Reads a Clip bound from its (constant, scalar float32) input or its opset<11 attribute.
bool clip_bound(const ir::Graph& g, const ir::Node& clip, int input, const char* attr, float def,
                float* out) {
  if (static_cast<int>(clip.inputs.size()) > input && clip.inputs[input] >= 0) {
    const ir::Value& v = g.values[clip.inputs[input]];
    if (!v.constant || v.dtype != DType::kFloat32 || v.constant->numel() != 1) return false;
    *out = v.constant->data_as<float>()[0];
    return true;
  }
  const ir::Attribute* a = clip.attr(attr);
  *out = a ? a->f : def;
  return true;
}

}  // namespace

int fuse_activation(ir::Graph& g) {
  int count = 0;
  auto readers = readers_of(g);
  for (ir::Node& p : g.nodes) {
    if (p.op != ir::OpType::kGemm && p.op != ir::OpType::kMatMul && p.op != ir::OpType::kConv)
      continue;
    if (p.outputs.empty() || p.attr("_activation")) continue;
    int y = p.outputs[0];
    if (y < 0 || g.values[y].dtype != DType::kFloat32 || !single_reader(g, readers, y)) continue;
    ir::Node& act = g.nodes[readers[y][0]];
    if (act.inputs.empty() || act.inputs[0] != y || act.outputs.size() != 1) continue;
    ir::Attribute kind;
    kind.kind = ir::Attribute::Kind::kString;
    float alpha = 0, beta = 0;
    switch (act.op) {
      case ir::OpType::kRelu: kind.s = "Relu"; break;
      case ir::OpType::kSigmoid: kind.s = "Sigmoid"; break;
      case ir::OpType::kTanh: kind.s = "Tanh"; break;
      case ir::OpType::kLeakyRelu: {
        kind.s = "LeakyRelu";
        const ir::Attribute* a = act.attr("alpha");
        alpha = a ? a->f : 0.01f;
        break;
      }
      case ir::OpType::kClip:
        kind.s = "Clip";
        if (!clip_bound(g, act, 1, "min", -3.4028235e38f, &alpha)) continue;
        if (!clip_bound(g, act, 2, "max", 3.4028235e38f, &beta)) continue;
        break;
      default: continue;
    }
    p.attrs["_activation"] = kind;
    p.attrs["_activation_alpha"] = float_attr(alpha);
    p.attrs["_activation_beta"] = float_attr(beta);
    p.outputs[0] = act.outputs[0];
    drop_node(act);
    readers = readers_of(g);
    ++count;
  }
  return count;
}

}  // namespace softdpu::passes
