// Small queries the rewrite passes share.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace softdpu::passes {

// For each value, the indices of the nodes that read it.
std::vector<std::vector<int>> readers_of(const ir::Graph& g);
bool is_graph_output(const ir::Graph& g, int value);
// True when value v is read by exactly one node and is not a graph output.
bool single_reader(const ir::Graph& g, const std::vector<std::vector<int>>& readers, int v);
// Adds a constant value; the name is made unique from `hint`.
int add_constant(ir::Graph& g, const std::string& hint, Tensor t);
// Marks a node for removal by remove_dead_nodes (it produces nothing any more).
void drop_node(ir::Node& n);

}  // namespace softdpu::passes
