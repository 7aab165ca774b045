// Runs one op through its prepare_<Op> and kernel, without the importer or the planner: the
// harness kernel unit tests use. Inputs marked constant are visible to prepare (as initializers
// would be); the others are run-time inputs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "ir/graph.h"
#include "runtime/kernel.h"
#include "softdpu/tensor.h"

namespace softdpu::testing {

struct OpInput {
  std::optional<Tensor> value;  // nullopt: omitted optional input
  bool constant = false;
};

inline OpInput in(Tensor t, bool constant = false) {
  return {std::move(t), constant};
}
inline OpInput none() {
  return {std::nullopt, false};
}

// Builds a tensor from values.
template <typename T>
Tensor make_tensor(Shape shape, const std::vector<T>& values) {
  Tensor t(DTypeOf<T>::value, std::move(shape));
  for (size_t i = 0; i < values.size() && i < static_cast<size_t>(t.numel()); ++i)
    t.data_as<T>()[i] = values[i];
  return t;
}

// Deterministic pseudo-random floats in [lo, hi).
Tensor random_tensor(Shape shape, float lo = -1.f, float hi = 1.f, uint32_t seed = 1);

ir::Attribute attr_int(int64_t v);
ir::Attribute attr_float(float v);
ir::Attribute attr_string(std::string v);
ir::Attribute attr_ints(std::vector<int64_t> v);
ir::Attribute attr_floats(std::vector<float> v);

// The node and input descriptions prepare_<Op> sees for these inputs: input i is named
// input_prefix + i, outputs are values 100, 101, ...
struct OpNode {
  ir::Node node;
  std::vector<runtime::InputDesc> descs;
};
OpNode describe_op(ir::OpType op, const std::vector<OpInput>& inputs,
                   const std::map<std::string, ir::Attribute>& attrs, int num_outputs,
                   const std::string& input_prefix = "input");

// Prepares and runs the op; throws softdpu::Error from prepare. num_outputs outputs are produced
// (all present). threads > 1 exercises the parallel paths; pool_jobs, when given, receives the
// number of jobs the run handed to its thread pool (how the op decided to split).
std::vector<Tensor> run_op(ir::OpType op, const std::vector<OpInput>& inputs,
                           const std::map<std::string, ir::Attribute>& attrs, int num_outputs = 1,
                           int threads = 1, int64_t opset = 17, int64_t* pool_jobs = nullptr);

// The ISAs this machine supports, scalar first: tests loop over them with ScopedIsa.
std::vector<Isa> supported_isas();

// Largest |a - b| over all elements (float32 tensors of equal shape).
float max_abs_diff(const Tensor& a, const Tensor& b);

}  // namespace softdpu::testing
