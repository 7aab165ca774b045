// Conv followed by inference BatchNormalization becomes one Conv with rescaled weights and bias:
// W'[o] = W[o] * s[o], B'[o] = (B[o] - mean[o]) * s[o] + beta[o], s = gamma / sqrt(var + eps).
#include <cmath>

#include "passes/pass_utils.h"
#include "passes/passes.h"

namespace softdpu::passes {

int fold_batchnorm_into_conv(ir::Graph& g) {
  int count = 0;
  auto readers = readers_of(g);
  for (ir::Node& bn : g.nodes) {
    if (bn.op != ir::OpType::kBatchNormalization || bn.inputs.size() < 5) continue;
    if (bn.outputs.size() > 1) {
      bool extra = false;
      for (size_t i = 1; i < bn.outputs.size(); ++i) extra = extra || bn.outputs[i] >= 0;
      if (extra) continue;
    }
    const ir::Attribute* tm = bn.attr("training_mode");
    if (tm && tm->i != 0) continue;
    int x = bn.inputs[0];
    if (x < 0 || !single_reader(g, readers, x)) continue;
    ir::Node* conv = nullptr;
    for (ir::Node& n : g.nodes) {
      if (n.op == ir::OpType::kConv && !n.outputs.empty() && n.outputs[0] == x) conv = &n;
    }
    if (!conv || conv->attr("_activation")) continue;
    int w = conv->inputs.size() > 1 ? conv->inputs[1] : -1;
    int b = conv->inputs.size() > 2 ? conv->inputs[2] : -1;
    if (w < 0 || !g.values[w].constant || g.values[w].dtype != DType::kFloat32) continue;
    if (b >= 0 && !g.values[b].constant) continue;
    bool params_constant = true;
    for (int i = 1; i < 5; ++i) {
      int v = bn.inputs[i];
      params_constant =
          params_constant && v >= 0 && g.values[v].constant && g.values[v].dtype == DType::kFloat32;
    }
    if (!params_constant) continue;
    const Tensor& wt = *g.values[w].constant;
    const int64_t oc = wt.shape()[0];
    const int64_t per_oc = wt.numel() / std::max<int64_t>(oc, 1);
    const float* gamma = g.values[bn.inputs[1]].constant->data_as<float>();
    const float* beta = g.values[bn.inputs[2]].constant->data_as<float>();
    const float* mean = g.values[bn.inputs[3]].constant->data_as<float>();
    const float* var = g.values[bn.inputs[4]].constant->data_as<float>();
    if (g.values[bn.inputs[1]].constant->numel() != oc) continue;
    const ir::Attribute* eps_attr = bn.attr("epsilon");
    const float eps = eps_attr ? eps_attr->f : 1e-5f;
    Tensor nw = wt.clone();
    Tensor nb(DType::kFloat32, {oc});
    for (int64_t o = 0; o < oc; ++o) {
      const float s = gamma[o] / std::sqrt(var[o] + eps);
      float* row = nw.data_as<float>() + o * per_oc;
      for (int64_t i = 0; i < per_oc; ++i) row[i] *= s;
      const float bias = b >= 0 ? g.values[b].constant->data_as<float>()[o] : 0.f;
      nb.data_as<float>()[o] = (bias - mean[o]) * s + beta[o];
    }
    int nwv = add_constant(g, g.values[w].name + "_bnfolded", std::move(nw));
    int nbv = add_constant(g, conv->name + "_bias_bnfolded", std::move(nb));
    // add_constant may reallocate g.values but not g.nodes: conv stays valid.
    conv->inputs.resize(3);
    conv->inputs[1] = nwv;
    conv->inputs[2] = nbv;
    conv->outputs[0] = bn.outputs[0];
    drop_node(bn);
    readers = readers_of(g);
    ++count;
  }
  return count;
}

}  // namespace softdpu::passes
