// Conv followed by Add(conv output, residual) of the same shape, as in a ResNet basic block
// (relu(bn2(conv2(y)) + shortcut)): the residual becomes the Conv's input 3 and is added in the
// convolution's epilogue, before the activation that fuse_activation (which runs next) moves in.
// The block output is then written once, not three times (Conv, Add, Relu), and two passes over
// memory and two thread-pool round trips per block disappear.
#include "passes/pass_utils.h"
#include "passes/passes.h"

namespace softdpu::passes {

int fuse_residual_add(ir::Graph& g) {
  int count = 0;
  auto readers = readers_of(g);
  for (ir::Node& conv : g.nodes) {
    // An activation already fused would have to apply before the Add: not this epilogue.
    if (conv.op != ir::OpType::kConv || conv.outputs.empty() || conv.inputs.size() > 3) continue;
    if (conv.attr("_activation") || conv.attr("_residual")) continue;
    const int y = conv.outputs[0];
    if (y < 0 || g.values[y].dtype != DType::kFloat32 || !single_reader(g, readers, y)) continue;
    ir::Node& add = g.nodes[readers[y][0]];
    if (add.op != ir::OpType::kAdd || add.inputs.size() != 2 || add.outputs.size() != 1) continue;
    const int r = add.inputs[0] == y ? add.inputs[1] : add.inputs[0];
    // Same shape and dtype as the output (no broadcast), and not the output itself (y + y).
    if (r < 0 || r == y || g.values[r].dtype != DType::kFloat32 ||
        g.values[r].shape != g.values[y].shape ||
        g.values[add.outputs[0]].shape != g.values[y].shape)
      continue;
    conv.inputs.resize(3, -1);  // no bias: input 2 stays absent
    conv.inputs.push_back(r);
    ir::Attribute mark;
    mark.kind = ir::Attribute::Kind::kInt;
    mark.i = 1;
    conv.attrs["_residual"] = mark;
    conv.outputs[0] = add.outputs[0];
    drop_node(add);
    readers = readers_of(g);
    ++count;
  }
  // The shortcut may come after the Conv in the model's order; the Conv now reads it.
  if (count > 0) ir::topological_sort(g);
  return count;
}

}  // namespace softdpu::passes
