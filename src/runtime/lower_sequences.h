// Sequences (SequenceConstruct, SplitToSequence, ...) are plan-time lists of tensor values: every
// position, split and length is known when planning, so each sequence op is rewritten into tensor
// ops (Split, Squeeze, Unsqueeze, Concat, Identity) or a constant, and no sequence exists at run
// time. A position that is only known at run time is a kNeedsConstant error naming it.
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "ir/graph.h"

namespace softdpu::runtime {

class SequenceLowering {
 public:
  // emit() receives each tensor node the lowering creates, in order.
  SequenceLowering(ir::Graph& g, std::function<void(ir::Node)> emit)
      : g_(g), emit_(std::move(emit)) {}

  static bool is_sequence_op(ir::OpType op);
  // Rewrites one sequence node; throws softdpu::Error naming the node on bad input.
  void lower(const ir::Node& node);

 private:
  const std::vector<int>& elements(const ir::Node& node, int input) const;
  std::vector<int64_t> constant_ints(const ir::Node& node, int input) const;
  int new_value(const std::string& name);
  int int64_constant(const std::string& name, const std::vector<int64_t>& values, bool scalar);
  [[noreturn]] void fail(const ir::Node& node, const std::string& msg) const;

  ir::Graph& g_;
  std::function<void(ir::Node)> emit_;
  std::map<int, std::vector<int>> sequences_;  // sequence value id -> element value ids
  int counter_ = 0;
};

}  // namespace softdpu::runtime
