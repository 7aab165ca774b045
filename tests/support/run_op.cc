#include "support/run_op.h"

#include <cmath>
#include <cstring>
#include <random>

#include "core/thread_pool.h"
#include "runtime/kernel.h"
#include "softdpu/status.h"

namespace softdpu::testing {

Tensor random_tensor(Shape shape, float lo, float hi, uint32_t seed) {
  Tensor t(DType::kFloat32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  float* p = t.data_as<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
  return t;
}

ir::Attribute attr_int(int64_t v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInt;
  a.i = v;
  return a;
}
ir::Attribute attr_float(float v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kFloat;
  a.f = v;
  return a;
}
ir::Attribute attr_string(std::string v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kString;
  a.s = std::move(v);
  return a;
}
ir::Attribute attr_ints(std::vector<int64_t> v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}
ir::Attribute attr_floats(std::vector<float> v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kFloats;
  a.floats = std::move(v);
  return a;
}

OpNode describe_op(ir::OpType op, const std::vector<OpInput>& inputs,
                   const std::map<std::string, ir::Attribute>& attrs, int num_outputs,
                   const std::string& input_prefix) {
  OpNode n;
  n.node.name = std::string("test_") + ir::op_name(op);
  n.node.op = op;
  n.node.attrs = attrs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    n.node.inputs.push_back(inputs[i].value ? static_cast<int>(i) : -1);
    runtime::InputDesc d;
    if (inputs[i].value) {
      d.dtype = inputs[i].value->dtype();
      d.shape = inputs[i].value->shape();
      d.constant = inputs[i].constant ? inputs[i].value->data() : nullptr;
      d.name = input_prefix + std::to_string(i);
    }
    n.descs.push_back(d);
  }
  for (int i = 0; i < num_outputs; ++i) n.node.outputs.push_back(100 + i);
  return n;
}

std::vector<Tensor> run_op(ir::OpType op, const std::vector<OpInput>& inputs,
                           const std::map<std::string, ir::Attribute>& attrs, int num_outputs,
                           int threads, int64_t opset, int64_t* pool_jobs) {
  const OpNode n = describe_op(op, inputs, attrs, num_outputs);
  runtime::PrepareContext ctx(n.node, opset, n.descs, num_outputs);
  ctx.set_threads(threads);
  std::unique_ptr<runtime::Kernel> kernel = runtime::prepare_fn(op)(ctx);
  std::vector<Tensor> outs;
  std::vector<void*> out_ptrs;
  bool all_constant = true;
  for (int i = 0; i < num_outputs; ++i) {
    const runtime::OutputDesc& od = ctx.outputs()[i];
    if (!od.set)
      throw Error(StatusCode::kInternal, "prepare did not set output " + std::to_string(i));
    if (!od.constant.empty()) {
      outs.push_back(od.constant);
    } else {
      all_constant = false;
      outs.emplace_back(od.dtype, od.shape);
    }
    out_ptrs.push_back(outs.back().data());
  }
  if (all_constant && !kernel) return outs;
  if (!kernel)
    throw Error(StatusCode::kInternal, "prepare returned no kernel for run-time outputs");
  std::vector<const void*> in_ptrs;
  for (const OpInput& i : inputs) in_ptrs.push_back(i.value ? i.value->data() : nullptr);
  std::vector<uint8_t> scratch(ctx.scratch_bytes() + 64);
  void* aligned =
      reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t{63});
  ThreadPool pool(threads);
  runtime::KernelArgs args{in_ptrs.data(), out_ptrs.data(), aligned, &pool};
  kernel->run(args);
  if (pool_jobs) *pool_jobs = pool.jobs();
  return outs;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> v;
  for (int i = 0; i <= static_cast<int>(detected_isa()); ++i) v.push_back(static_cast<Isa>(i));
  return v;
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != DType::kFloat32 || b.dtype() != DType::kFloat32)
    return INFINITY;
  float m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::fabs(a.data_as<float>()[i] - b.data_as<float>()[i]));
  return m;
}

}  // namespace softdpu::testing
