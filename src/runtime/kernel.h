// The contract between the planner and the op implementations.
//
// Each op in ops.def has one function `prepare_<Op>(PrepareContext&)` in src/kernels/<family>/.
// It is the op's whole plan-time half: it validates attributes and input types/shapes, infers the
// output types/shapes (ctx.set_output), and returns a Kernel that does the run-time half. The same
// function serves shape inference, constant folding (the planner runs the kernel at plan time when
// every input is constant) and execution, so an op is described once.
//
// Rules for kernels:
//  - run() must not allocate, throw, or depend on anything but its arguments and the state built in
//    prepare. Everything that can be checked is checked in prepare.
//  - Scratch memory: request it in prepare with ctx.request_scratch(bytes); run() gets a 64-byte
//    aligned pointer to that many bytes in args.scratch (valid only during run).
//  - Outputs never alias inputs (the planner gives each a separate buffer) unless noted.
//  - Multi-threading goes through args.pool->parallel_for (args.pool is never null).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "ir/graph.h"
#include "softdpu/status.h"
#include "softdpu/tensor.h"

namespace softdpu::runtime {

struct KernelArgs {
  const void* const* in;  // one per node input; nullptr for an omitted optional input
  void* const* out;       // one per node output; nullptr for an omitted optional output
  void* scratch;
  ThreadPool* pool;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual void run(const KernelArgs& args) = 0;
};

// A Kernel made from a callable; captures are the kernel's plan-time state.
class FnKernel final : public Kernel {
 public:
  explicit FnKernel(std::function<void(const KernelArgs&)> fn) : fn_(std::move(fn)) {}
  void run(const KernelArgs& args) override { fn_(args); }

 private:
  std::function<void(const KernelArgs&)> fn_;
};

template <typename Fn>
std::unique_ptr<Kernel> make_kernel(Fn&& fn) {
  return std::make_unique<FnKernel>(std::forward<Fn>(fn));
}

// What prepare knows about one input.
struct InputDesc {
  DType dtype = DType::kUndefined;
  Shape shape;
  const void* constant = nullptr;  // the data when known at plan time (initializer / folded)
  std::string name;
};

struct OutputDesc {
  DType dtype = DType::kUndefined;
  Shape shape;
  bool set = false;
  Tensor constant;  // set by set_output_constant: the value is known now, no kernel writes it
};

class PrepareContext {
 public:
  PrepareContext(const ir::Node& node, int64_t opset, std::vector<InputDesc> inputs,
                 int num_outputs);

  const ir::Node& node() const { return node_; }
  int64_t opset() const { return opset_; }

  // --- inputs
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  // False for omitted optional inputs (empty name in ONNX) and indices past the end.
  bool has_input(int i) const;
  // Throws kInvalidModel naming the input when missing.
  const InputDesc& input(int i) const;
  const Shape& shape(int i) const { return input(i).shape; }
  DType dtype(int i) const { return input(i).dtype; }
  bool is_constant(int i) const { return has_input(i) && inputs_[i].constant != nullptr; }
  // The plan-time value of input i; throws Error(kNeedsConstant, ..., subject = value name) when it
  // is only known at run time (e.g. a Reshape shape computed from a graph input).
  const void* constant_data(int i) const;
  template <typename T>
  const T* constant_as(int i) const {
    return static_cast<const T*>(constant_data(i));
  }
  // Constant integer input (int32 or int64) as int64 values.
  std::vector<int64_t> constant_ints(int i) const;
  // Constant float input (float32/float64) as float values.
  std::vector<float> constant_floats(int i) const;

  // --- outputs
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  // False when the model omits output i (ONNX: empty output name).
  bool has_output(int i) const;
  void set_output(int i, DType dtype, Shape shape);
  void set_output_constant(int i, Tensor value);
  const std::vector<OutputDesc>& outputs() const { return outputs_; }

  // --- attributes (default used when absent; wrong kind -> kInvalidModel)
  bool has_attr(const std::string& key) const { return node_.attr(key) != nullptr; }
  int64_t attr_int(const std::string& key, int64_t def) const;
  float attr_float(const std::string& key, float def) const;
  std::string attr_string(const std::string& key, const std::string& def) const;
  std::vector<int64_t> attr_ints(const std::string& key, std::vector<int64_t> def = {}) const;
  std::vector<float> attr_floats(const std::string& key, std::vector<float> def = {}) const;
  const Tensor* attr_tensor(const std::string& key) const;

  // --- memory of constant inputs (docs/architecture.md, "Weights live once")
  // False when the planner needs only the output types and shapes (the shape-inference walk of a
  // node it will not fold): prepare may then return nullptr after set_output and skip packing.
  bool kernel_wanted() const { return kernel_wanted_; }
  void set_kernel_wanted(bool wanted) { kernel_wanted_ = wanted; }
  // The kernel holds its own copy of constant input i (packed weights): neither the rest of
  // prepare nor run() reads the original, which the planner may then free at once (run() gets
  // nullptr for it). Call right after packing, so a node's weights are never all held twice.
  void release_constant(int i);
  bool released(int i) const;
  // Set by the planner: called with the input index on release_constant.
  void on_release(std::function<void(int)> fn) { on_release_ = std::move(fn); }

  // --- threads: the intra-op thread count of the plan (PlanOptions::threads), for kernels
  // whose scratch holds one slot per thread. run() may still get a pool of another size.
  int threads() const { return threads_; }
  void set_threads(int threads) { threads_ = threads; }

  // --- scratch
  void request_scratch(size_t bytes) { scratch_bytes_ = bytes; }
  size_t scratch_bytes() const { return scratch_bytes_; }

  // --- errors: messages are prefixed with "<Op> node '<name>': "
  [[noreturn]] void fail(const std::string& message) const;         // kInvalidModel
  [[noreturn]] void unsupported(const std::string& message) const;  // kUnsupported
  void check(bool cond, const std::string& message) const {
    if (!cond) fail(message);
  }
  // Typical checks: input i has dtype in the list / a float type; rank in range.
  void expect_dtype(int i, std::initializer_list<DType> allowed) const;
  void expect_rank(int i, int min_rank, int max_rank) const;
  std::string prefix() const;

 private:
  const ir::Node& node_;
  int64_t opset_;
  std::vector<InputDesc> inputs_;
  std::vector<OutputDesc> outputs_;
  size_t scratch_bytes_ = 0;
  int threads_ = 1;
  bool kernel_wanted_ = true;
  std::vector<bool> released_;
  std::function<void(int)> on_release_;
};

using PrepareFn = std::unique_ptr<Kernel> (*)(PrepareContext&);

// prepare_<Op> for every op in ops.def.
#define SOFTDPU_OP(name, family) std::unique_ptr<Kernel> prepare_##name(PrepareContext& ctx);
#include "ir/ops.def"
#undef SOFTDPU_OP

PrepareFn prepare_fn(ir::OpType op);

// Normalises a possibly negative axis against rank; throws via ctx.fail when out of range.
int64_t normalize_axis(const PrepareContext& ctx, int64_t axis, int64_t rank);

// numpy/ONNX multidirectional broadcast of two shapes; throws via ctx.fail when incompatible.
Shape broadcast_shapes(const PrepareContext& ctx, const Shape& a, const Shape& b);

}  // namespace softdpu::runtime
