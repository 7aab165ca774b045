// MatMul(A [M, K], B constant [K, N]) + Add(bias [N] or [1, N]) -> Gemm(A, B, bias): the bias is
// added in the product's epilogue instead of a second pass over the output.
#include "passes/pass_utils.h"
#include "passes/passes.h"

namespace softdpu::passes {

int fuse_matmul_add(ir::Graph& g) {
  int count = 0;
  auto readers = readers_of(g);
  for (ir::Node& mm : g.nodes) {
    if (mm.op != ir::OpType::kMatMul || mm.inputs.size() != 2 || mm.outputs.empty()) continue;
    int a = mm.inputs[0], b = mm.inputs[1], y = mm.outputs[0];
    if (a < 0 || b < 0 || y < 0 || mm.attr("_activation")) continue;
    if (g.values[a].shape.size() != 2 || g.values[b].shape.size() != 2) continue;
    if (!g.values[b].constant || g.values[b].dtype != DType::kFloat32) continue;
    if (!single_reader(g, readers, y)) continue;
    ir::Node& add = g.nodes[readers[y][0]];
    if (add.op != ir::OpType::kAdd || add.inputs.size() != 2) continue;
    int bias = add.inputs[0] == y ? add.inputs[1] : add.inputs[0];
    if (bias < 0 || bias == y || !g.values[bias].constant ||
        g.values[bias].dtype != DType::kFloat32)
      continue;
    const int64_t n = g.values[b].shape[1];
    const Shape& bs = g.values[bias].shape;
    bool row_bias = (bs.size() == 1 && bs[0] == n) || (bs.size() == 2 && bs[0] == 1 && bs[1] == n);
    if (!row_bias) continue;
    if (g.values[add.outputs[0]].shape != g.values[y].shape) continue;
    mm.op = ir::OpType::kGemm;
    mm.inputs = {a, b, bias};
    mm.outputs = {add.outputs[0]};
    drop_node(add);
    readers = readers_of(g);
    ++count;
  }
  return count;
}

}  // namespace softdpu::passes
