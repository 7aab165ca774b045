#include "passes/pass_utils.h"

namespace softdpu::passes {

std::vector<std::vector<int>> readers_of(const ir::Graph& g) {
  std::vector<std::vector<int>> r(g.values.size());
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    for (int v : g.nodes[n].inputs) {
      if (v >= 0) r[v].push_back(static_cast<int>(n));
    }
  }
  return r;
}

bool is_graph_output(const ir::Graph& g, int value) {
  for (int o : g.outputs) {
    if (o == value) return true;
  }
  return false;
}

bool single_reader(const ir::Graph& g, const std::vector<std::vector<int>>& readers, int v) {
  return v >= 0 && readers[v].size() == 1 && !is_graph_output(g, v);
}

int add_constant(ir::Graph& g, const std::string& hint, Tensor t) {
  std::string name = hint;
  for (int i = 1; g.find_value(name) >= 0; ++i) name = hint + "_" + std::to_string(i);
  ir::Value v;
  v.name = name;
  v.dtype = t.dtype();
  v.shape = t.shape();
  v.has_shape = true;
  v.constant = std::move(t);
  return g.add_value(std::move(v));
}

void drop_node(ir::Node& n) {
  n.outputs.clear();
  n.inputs.clear();
}

}  // namespace softdpu::passes
