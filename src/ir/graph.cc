#include "ir/graph.h"

#include <algorithm>

#include "softdpu/status.h"

namespace softdpu::ir {

int Graph::find_value(const std::string& name) const {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

void topological_sort(Graph& g) {
  const int nv = static_cast<int>(g.values.size());
  std::vector<int> producer(nv, -1);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    for (int v : g.nodes[n].outputs) {
      if (v < 0) continue;
      if (producer[v] >= 0) {
        throw Error(StatusCode::kInvalidModel,
                    "value '" + g.values[v].name + "' is produced by two nodes ('" +
                        g.nodes[producer[v]].name + "' and '" + g.nodes[n].name + "')");
      }
      producer[v] = static_cast<int>(n);
    }
  }
  std::vector<bool> available(nv, false);
  for (int v : g.inputs) available[v] = true;
  for (int v = 0; v < nv; ++v) {
    if (g.values[v].constant) available[v] = true;
  }
  for (int v = 0; v < nv; ++v) {
    if (!available[v] && producer[v] < 0) {
      // Is it read by anyone? Name the first reader.
      for (const Node& node : g.nodes) {
        for (int in : node.inputs) {
          if (in == v) {
            throw Error(StatusCode::kInvalidModel,
                        std::string(op_name(node.op)) + " node '" + node.name + "' reads '" +
                            g.values[v].name +
                            "', which no node, initializer or graph input produces");
          }
        }
      }
      for (int out : g.outputs) {
        if (out == v) {
          throw Error(StatusCode::kInvalidModel,
                      "graph output '" + g.values[v].name + "' is not produced by any node");
        }
      }
    }
  }
  // Kahn's algorithm, keeping the model's order among ready nodes (stable, easy to read).
  const size_t nn = g.nodes.size();
  std::vector<int> missing(nn, 0);
  std::vector<std::vector<int>> readers(nv);
  for (size_t n = 0; n < nn; ++n) {
    for (int in : g.nodes[n].inputs) {
      if (in < 0 || available[in]) continue;
      ++missing[n];
      readers[in].push_back(static_cast<int>(n));
    }
  }
  std::vector<int> order;
  std::vector<bool> done(nn, false);
  order.reserve(nn);
  // Simple O(n^2) worst case is fine: graphs have thousands of nodes at most.
  size_t cursor = 0;
  std::vector<int> ready;
  for (size_t n = 0; n < nn; ++n) {
    if (missing[n] == 0) ready.push_back(static_cast<int>(n));
  }
  while (cursor < ready.size()) {
    int n = ready[cursor++];
    order.push_back(n);
    done[n] = true;
    for (int out : g.nodes[n].outputs) {
      if (out < 0) continue;
      for (int r : readers[out]) {
        if (--missing[r] == 0) ready.push_back(r);
      }
    }
  }
  if (order.size() != nn) {
    for (size_t n = 0; n < nn; ++n) {
      if (!done[n]) {
        throw Error(StatusCode::kInvalidModel, std::string(op_name(g.nodes[n].op)) + " node '" +
                                                   g.nodes[n].name +
                                                   "' is part of a cycle: the graph is not a DAG");
      }
    }
  }
  std::vector<Node> sorted;
  sorted.reserve(nn);
  for (int n : order) sorted.push_back(std::move(g.nodes[n]));
  g.nodes = std::move(sorted);
}

std::vector<int> count_consumers(const Graph& g) {
  std::vector<int> count(g.values.size(), 0);
  for (const Node& n : g.nodes) {
    for (int v : n.inputs) {
      if (v >= 0) ++count[v];
    }
  }
  for (int v : g.outputs) ++count[v];
  return count;
}

void remove_dead_nodes(Graph& g) {
  std::vector<bool> live(g.values.size(), false);
  for (int v : g.outputs) live[v] = true;
  std::vector<bool> keep(g.nodes.size(), false);
  for (size_t i = g.nodes.size(); i-- > 0;) {
    const Node& n = g.nodes[i];
    bool needed = false;
    for (int v : n.outputs) needed = needed || (v >= 0 && live[v]);
    if (!needed) continue;
    keep[i] = true;
    for (int v : n.inputs) {
      if (v >= 0) live[v] = true;
    }
  }
  std::vector<Node> nodes;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (keep[i]) nodes.push_back(std::move(g.nodes[i]));
  }
  g.nodes = std::move(nodes);
  // Renumber values: keep graph inputs (the caller binds them by name), outputs and live ones.
  for (int v : g.inputs) live[v] = true;
  for (const Node& n : g.nodes) {
    for (int v : n.outputs) {
      if (v >= 0) live[v] = true;
    }
  }
  std::vector<int> remap(g.values.size(), -1);
  std::vector<Value> values;
  for (size_t v = 0; v < g.values.size(); ++v) {
    if (!live[v]) continue;
    remap[v] = static_cast<int>(values.size());
    values.push_back(std::move(g.values[v]));
  }
  g.values = std::move(values);
  auto fix = [&](std::vector<int>& ids) {
    for (int& id : ids) {
      if (id >= 0) id = remap[id];
    }
  };
  for (Node& n : g.nodes) {
    fix(n.inputs);
    fix(n.outputs);
  }
  fix(g.inputs);
  fix(g.outputs);
}

}  // namespace softdpu::ir
