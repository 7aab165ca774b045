// Shape inference and constant folding in one walk: each node's prepare_<Op> infers its outputs;
// a node whose inputs are all constant is run right away and replaced by its outputs. Works on a
// graph whose input shapes are concrete; afterwards every value has a dtype and a concrete shape.
#pragma once

#include "ir/graph.h"
#include "runtime/kernel.h"

namespace softdpu::runtime {

void infer_and_fold(ir::Graph& g);

// The InputDescs of a node from the current state of the graph's values.
std::vector<InputDesc> input_descs(const ir::Graph& g, const ir::Node& node);

}  // namespace softdpu::runtime
