#include "runtime/lower_sequences.h"

#include "softdpu/status.h"

namespace softdpu::runtime {
namespace {
using ir::OpType;

ir::Attribute int_attr(int64_t v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInt;
  a.i = v;
  return a;
}
ir::Attribute ints_attr(std::vector<int64_t> v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}
int64_t attr_or(const ir::Node& n, const char* key, int64_t def) {
  const ir::Attribute* a = n.attr(key);
  return a ? a->i : def;
}
}  // namespace

bool SequenceLowering::is_sequence_op(OpType op) {
  switch (op) {
    case OpType::kConcatFromSequence:
    case OpType::kSequenceAt:
    case OpType::kSequenceConstruct:
    case OpType::kSequenceEmpty:
    case OpType::kSequenceErase:
    case OpType::kSequenceInsert:
    case OpType::kSequenceLength:
    case OpType::kSplitToSequence: return true;
    default: return false;
  }
}

void SequenceLowering::fail(const ir::Node& node, const std::string& msg) const {
  throw Error(StatusCode::kInvalidModel,
              std::string(ir::op_name(node.op)) + " node '" + node.name + "': " + msg);
}

const std::vector<int>& SequenceLowering::elements(const ir::Node& node, int input) const {
  int v = input < static_cast<int>(node.inputs.size()) ? node.inputs[input] : -1;
  auto it = sequences_.find(v);
  if (v < 0 || it == sequences_.end())
    fail(node, "input " + std::to_string(input) + " is not a sequence");
  return it->second;
}

std::vector<int64_t> SequenceLowering::constant_ints(const ir::Node& node, int input) const {
  int v = node.inputs[input];
  const ir::Value& val = g_.values[v];
  if (!val.constant) {
    throw Error(StatusCode::kNeedsConstant,
                std::string(ir::op_name(node.op)) + " node '" + node.name + "': input " +
                    std::to_string(input) + " ('" + val.name +
                    "') must be known at plan time: sequences are lowered when planning",
                val.name);
  }
  const Tensor& t = *val.constant;
  std::vector<int64_t> out(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (t.dtype() == DType::kInt64)
      out[i] = t.data_as<int64_t>()[i];
    else if (t.dtype() == DType::kInt32)
      out[i] = t.data_as<int32_t>()[i];
    else
      fail(node, "input '" + val.name + "' must be int32 or int64");
  }
  return out;
}

int SequenceLowering::new_value(const std::string& name) {
  ir::Value v;
  v.name = name + "/seq" + std::to_string(counter_++);
  return g_.add_value(std::move(v));
}

int SequenceLowering::int64_constant(const std::string& name, const std::vector<int64_t>& values,
                                     bool scalar) {
  Tensor t(DType::kInt64, scalar ? Shape{} : Shape{static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) t.data_as<int64_t>()[i] = values[i];
  int id = new_value(name);
  ir::Value& v = g_.values[id];
  v.dtype = DType::kInt64;
  v.shape = t.shape();
  v.has_shape = true;
  v.constant = std::move(t);
  return id;
}

void SequenceLowering::lower(const ir::Node& node) {
  auto make = [&](OpType op, std::vector<int> ins, std::vector<int> outs) {
    ir::Node n;
    n.name = node.name + "/" + ir::op_name(op) + std::to_string(counter_++);
    n.op = op;
    n.inputs = std::move(ins);
    n.outputs = std::move(outs);
    return n;
  };
  auto position = [&](int input, int64_t size, int64_t def, bool allow_end) {
    int64_t pos = def;
    if (static_cast<int>(node.inputs.size()) > input && node.inputs[input] >= 0) {
      std::vector<int64_t> p = constant_ints(node, input);
      if (p.size() != 1) fail(node, "the position must be a scalar");
      pos = p[0];
    }
    int64_t hi = allow_end ? size : size - 1;
    if (pos < -size || pos > hi) {
      fail(node, "position " + std::to_string(pos) + " is out of range for a sequence of " +
                     std::to_string(size));
    }
    return pos < 0 ? pos + size : pos;
  };
  const int out = node.outputs.empty() ? -1 : node.outputs[0];
  switch (node.op) {
    case OpType::kSequenceEmpty: sequences_[out] = {}; return;
    case OpType::kSequenceConstruct: sequences_[out] = node.inputs; return;
    case OpType::kSequenceInsert: {
      std::vector<int> e = elements(node, 0);
      int64_t pos =
          position(2, static_cast<int64_t>(e.size()), static_cast<int64_t>(e.size()), true);
      e.insert(e.begin() + pos, node.inputs[1]);
      sequences_[out] = e;
      return;
    }
    case OpType::kSequenceErase: {
      std::vector<int> e = elements(node, 0);
      if (e.empty()) fail(node, "cannot erase from an empty sequence");
      int64_t pos = position(1, static_cast<int64_t>(e.size()), -1, false);
      e.erase(e.begin() + pos);
      sequences_[out] = e;
      return;
    }
    case OpType::kSequenceAt: {
      const std::vector<int>& e = elements(node, 0);
      int64_t pos = position(1, static_cast<int64_t>(e.size()), 0, false);
      emit_(make(OpType::kIdentity, {e[pos]}, {out}));
      return;
    }
    case OpType::kSequenceLength: {
      Tensor t(DType::kInt64, {});
      t.data_as<int64_t>()[0] = static_cast<int64_t>(elements(node, 0).size());
      ir::Value& v = g_.values[out];
      v.dtype = DType::kInt64;
      v.shape = {};
      v.has_shape = true;
      v.constant = std::move(t);
      return;
    }
    case OpType::kConcatFromSequence: {
      const std::vector<int>& e = elements(node, 0);
      if (e.empty()) fail(node, "cannot concatenate an empty sequence");
      int64_t axis = attr_or(node, "axis", 0);
      bool new_axis = attr_or(node, "new_axis", 0) != 0;
      std::vector<int> parts = e;
      if (new_axis) {
        int64_t rank = static_cast<int64_t>(g_.values[e[0]].shape.size()) + 1;
        if (axis < -rank || axis >= rank)
          fail(node, "axis " + std::to_string(axis) + " is out of range");
        if (axis < 0) axis += rank;
        for (int& p : parts) {
          int u = new_value(node.name);
          ir::Node n = make(OpType::kUnsqueeze, {p}, {u});
          if (g_.opset >= 13)
            n.inputs.push_back(int64_constant(node.name, {axis}, false));
          else
            n.attrs["axes"] = ints_attr({axis});
          emit_(std::move(n));
          p = u;
        }
      }
      ir::Node c = make(OpType::kConcat, parts, {out});
      c.attrs["axis"] = int_attr(axis);
      emit_(std::move(c));
      return;
    }
    case OpType::kSplitToSequence: {
      const ir::Value& x = g_.values[node.inputs[0]];
      const int64_t rank = static_cast<int64_t>(x.shape.size());
      int64_t axis = attr_or(node, "axis", 0);
      if (axis < -rank || axis >= rank)
        fail(node,
             "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
      if (axis < 0) axis += rank;
      const int64_t dim = x.shape[axis];
      std::vector<int64_t> sizes;
      bool squeeze = false;
      if (node.inputs.size() > 1 && node.inputs[1] >= 0) {
        std::vector<int64_t> s = constant_ints(node, 1);
        if (g_.values[node.inputs[1]].shape.empty()) {
          if (s[0] <= 0) fail(node, "split size must be positive");
          for (int64_t left = dim; left > 0; left -= s[0]) sizes.push_back(std::min(left, s[0]));
        } else {
          sizes = s;
        }
      } else {
        sizes.assign(dim, 1);
        squeeze = attr_or(node, "keepdims", 1) == 0;
      }
      std::vector<int> parts;
      for (size_t i = 0; i < sizes.size(); ++i) parts.push_back(new_value(node.name));
      ir::Node split = make(OpType::kSplit, {node.inputs[0]}, parts);
      split.attrs["axis"] = int_attr(axis);
      if (g_.opset >= 13)
        split.inputs.push_back(int64_constant(node.name, sizes, false));
      else
        split.attrs["split"] = ints_attr(sizes);
      emit_(std::move(split));
      if (squeeze) {
        for (int& p : parts) {
          int s = new_value(node.name);
          ir::Node n = make(OpType::kSqueeze, {p}, {s});
          if (g_.opset >= 13)
            n.inputs.push_back(int64_constant(node.name, {axis}, false));
          else
            n.attrs["axes"] = ints_attr({axis});
          emit_(std::move(n));
          p = s;
        }
      }
      sequences_[out] = parts;
      return;
    }
    default: fail(node, "not a sequence op");
  }
}

}  // namespace softdpu::runtime
