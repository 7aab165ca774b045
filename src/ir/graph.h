// The typed graph softdpu plans from: values (tensors) connected by nodes (ops), in topological
// order once import is done. Shapes may hold -1 for dimensions fixed only at plan time (batch).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/op_type.h"
#include "softdpu/tensor.h"

namespace softdpu::ir {

struct Attribute {
  enum class Kind { kInt, kFloat, kString, kInts, kFloats, kStrings, kTensor };
  Kind kind = Kind::kInt;
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<std::string> strings;
  Tensor t;
};

struct Value {
  std::string name;
  DType dtype = DType::kUndefined;
  Shape shape;                         // -1 marks a dimension not known before planning
  std::vector<std::string> dim_names;  // symbolic names of the -1 dims ("batch", "N"), if any
  bool has_shape = false;              // false when the model gives no shape at all
  std::optional<Tensor> constant;      // initializers and folded constants
};

struct Node {
  std::string name;  // never empty after import (synthesised from op type and index)
  OpType op = OpType::kIdentity;
  std::vector<int> inputs;   // value ids; -1 marks an omitted optional input
  std::vector<int> outputs;  // value ids; -1 marks an omitted optional output
  std::map<std::string, Attribute> attrs;

  const Attribute* attr(const std::string& key) const {
    auto it = attrs.find(key);
    return it == attrs.end() ? nullptr : &it->second;
  }
};

struct Graph {
  std::string name;
  int64_t opset = 0;
  std::vector<Value> values;
  std::vector<Node> nodes;  // topologically ordered
  std::vector<int> inputs;  // graph inputs that are not initializers
  std::vector<int> outputs;

  int add_value(Value v) {
    values.push_back(std::move(v));
    return static_cast<int>(values.size()) - 1;
  }
  // Value id by name, or -1.
  int find_value(const std::string& name) const;
};

// Orders nodes topologically; throws Error(kInvalidModel) naming the node on a cycle or on an
// input that no node, initializer or graph input produces.
void topological_sort(Graph& g);

// Drops nodes whose outputs nobody reads and values nobody references (ids are renumbered).
void remove_dead_nodes(Graph& g);

// Number of nodes reading each value, plus one for each graph output slot.
std::vector<int> count_consumers(const Graph& g);

}  // namespace softdpu::ir
