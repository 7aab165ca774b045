// A planned model: the ordered kernels with every pointer they read and write resolved at plan
// time, one arena, and the few slots that are patched per run with the caller's buffers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "ir/graph.h"
#include "runtime/kernel.h"
#include "softdpu/session.h"

namespace softdpu::runtime {

struct Step {
  std::unique_ptr<Kernel> kernel;
  std::vector<const void*> in;
  std::vector<void*> out;
  void* scratch = nullptr;
  ir::OpType op = ir::OpType::kIdentity;
  std::string name;
};

// A kernel slot that points at a caller buffer: patched at the start of each run.
struct Binding {
  int step;
  int slot;
  bool is_output_slot;  // slot indexes Step::out (else Step::in)
  bool from_output;     // the buffer is caller output #index (else caller input #index)
  int index;
};

// A graph output no kernel writes (a constant, a graph input, or a repeated output): copied.
struct OutputCopy {
  int output;
  const void* constant = nullptr;  // when the source is a constant
  int from_input = -1;             // when the source is caller input #from_input
  int from_output = -1;            // when the source is caller output #from_output
  size_t bytes = 0;
  int64_t strings = 0;  // element count when the output is a (plan-time constant) string tensor
};

struct Program {
  ir::Graph graph;  // the planned graph; owns the constants the kernels point into
  std::vector<Step> steps;
  std::vector<Binding> bindings;
  std::vector<OutputCopy> copies;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::shared_ptr<uint8_t> arena;
  PlanStats stats;
  std::unique_ptr<ThreadPool> pool;
  // Opt-in per-step timer (Session::record_step_times): step_ns[run % step_runs][step] in
  // nanoseconds; empty (the default) keeps execute's loop untimed.
  std::vector<int64_t> step_ns;
  int64_t step_runs = 0, timed_runs = 0;
};

// Builds the program; throws softdpu::Error naming the node or input at fault. The program keeps
// `model` (its constants); a constant whose readers all packed it is freed once the last of them
// has, which frees the storage when no other copy of the graph shares it.
std::unique_ptr<Program> build_program(ir::Graph model, const PlanOptions& options);

// Runs it over caller buffers already checked against program.inputs/outputs.
void execute(Program& program, const std::vector<ConstTensorView>& inputs,
             const std::vector<TensorView>& outputs);

}  // namespace softdpu::runtime
