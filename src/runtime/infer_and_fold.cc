#include "runtime/infer_and_fold.h"

#include <cstring>
#include <functional>

#include "core/thread_pool.h"
#include "runtime/lower_sequences.h"

namespace softdpu::runtime {

std::vector<InputDesc> input_descs(const ir::Graph& g, const ir::Node& node) {
  std::vector<InputDesc> descs(node.inputs.size());
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    int v = node.inputs[i];
    if (v < 0) continue;
    const ir::Value& val = g.values[v];
    if (val.dtype == DType::kUndefined) {
      throw Error(StatusCode::kInternal, std::string(ir::op_name(node.op)) + " node '" + node.name +
                                             "': the type of input '" + val.name +
                                             "' is not known");
    }
    descs[i].dtype = val.dtype;
    descs[i].shape = val.shape;
    descs[i].constant = val.constant ? val.constant->data() : nullptr;
    descs[i].name = val.name;
  }
  return descs;
}

namespace {

// Runs a kernel whose inputs are all constant; returns its outputs.
std::vector<Tensor> run_now(const ir::Graph& g, const ir::Node& node, const PrepareContext& ctx,
                            Kernel& kernel) {
  std::vector<Tensor> outs;
  std::vector<void*> out_ptrs;
  for (const OutputDesc& od : ctx.outputs()) {
    outs.push_back(od.constant.empty() ? Tensor(od.dtype, od.shape) : od.constant);
    out_ptrs.push_back(outs.back().data());
  }
  std::vector<const void*> in_ptrs;
  for (int v : node.inputs) in_ptrs.push_back(v < 0 ? nullptr : g.values[v].constant->data());
  std::vector<uint8_t> scratch(ctx.scratch_bytes() + 64);
  void* aligned =
      reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t{63});
  ThreadPool pool(1);
  KernelArgs args{in_ptrs.data(), out_ptrs.data(), aligned, &pool};
  kernel.run(args);
  return outs;
}

}  // namespace

void infer_and_fold(ir::Graph& g) {
  std::vector<ir::Node> kept;
  kept.reserve(g.nodes.size());
  std::function<void(ir::Node)> process = [&](ir::Node node) {
    for (int v : node.inputs) {
      if (v >= 0 && g.values[v].dtype == DType::kString &&
          node.op != ir::OpType::kStringNormalizer) {
        throw Error(StatusCode::kUnsupported,
                    std::string(ir::op_name(node.op)) + " node '" + node.name +
                        "': string tensors are supported only by StringNormalizer");
      }
    }
    bool all_inputs_constant = true;
    for (int v : node.inputs) {
      if (v >= 0 && !g.values[v].constant) all_inputs_constant = false;
    }
    PrepareContext ctx(node, g.opset, input_descs(g, node), static_cast<int>(node.outputs.size()));
    // Only a node folded now needs its kernel; the program prepares the others again after the
    // graph passes, so packing their weights here would be done twice.
    ctx.set_kernel_wanted(all_inputs_constant);
    std::unique_ptr<Kernel> kernel = prepare_fn(node.op)(ctx);
    bool all_outputs_constant = true;
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      const OutputDesc& od = ctx.outputs()[i];
      if (node.outputs[i] < 0) continue;
      if (!od.set) {
        throw Error(StatusCode::kInternal,
                    ctx.prefix() + "prepare did not describe output " + std::to_string(i));
      }
      if (od.constant.empty()) all_outputs_constant = false;
    }
    std::vector<Tensor> folded;
    if (all_outputs_constant) {
      for (const OutputDesc& od : ctx.outputs()) folded.push_back(od.constant);
    } else if (all_inputs_constant && kernel) {
      folded = run_now(g, node, ctx, *kernel);
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      int v = node.outputs[i];
      if (v < 0) continue;
      ir::Value& val = g.values[v];
      val.dtype = ctx.outputs()[i].dtype;
      val.shape = ctx.outputs()[i].shape;
      val.has_shape = true;
      if (!folded.empty()) val.constant = folded[i];
    }
    if (folded.empty()) kept.push_back(std::move(node));
  };
  SequenceLowering sequences(g, process);
  std::vector<ir::Node> nodes = std::move(g.nodes);
  for (ir::Node& node : nodes) {
    if (SequenceLowering::is_sequence_op(node.op)) {
      sequences.lower(node);
    } else {
      process(std::move(node));
    }
  }
  g.nodes = std::move(kept);
}

}  // namespace softdpu::runtime
