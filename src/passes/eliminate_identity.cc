// Identity and inference-mode Dropout copy their input: readers can take the input directly.
#include "passes/pass_utils.h"
#include "passes/passes.h"

namespace softdpu::passes {

int eliminate_identity(ir::Graph& g) {
  int count = 0;
  for (ir::Node& n : g.nodes) {
    if (n.op != ir::OpType::kIdentity && n.op != ir::OpType::kDropout) continue;
    if (n.inputs.empty() || n.inputs[0] < 0 || n.outputs.empty() || n.outputs[0] < 0) continue;
    // Dropout's mask output, when read, keeps the node.
    if (n.outputs.size() > 1 && n.outputs[1] >= 0) continue;
    // A graph output keeps its name: leave the copy in place.
    if (is_graph_output(g, n.outputs[0])) continue;
    int from = n.outputs[0], to = n.inputs[0];
    for (ir::Node& r : g.nodes) {
      for (int& v : r.inputs) {
        if (v == from) v = to;
      }
    }
    drop_node(n);
    ++count;
  }
  return count;
}

}  // namespace softdpu::passes
