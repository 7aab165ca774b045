#include "server/model_instance.h"

namespace softdpu::server {

Status ModelInstance::create(const std::string& model_bytes, const std::string& base_dir,
                             const ModelConfig& c, int threads,
                             std::unique_ptr<ModelInstance>* out) {
  auto inst = std::make_unique<ModelInstance>();
  for (int64_t b : c.planned_batch_sizes()) {
    PlannedBatch p;
    p.batch = b;
    Status st = Session::load_from_bytes(model_bytes, base_dir, &p.session);
    if (!st) return st;
    PlanOptions opt;
    opt.batch = b;
    opt.threads = threads;
    opt.precision = c.precision;
    opt.layer_precision = c.layer_precision;
    opt.keep_fp32 = c.keep_fp32;
    // Configured shapes fix every non-batch dimension the model leaves symbolic.
    for (const TensorConfig& t : c.inputs) {
      Shape s = t.dims;
      if (c.max_batch_size > 0) s.insert(s.begin(), b);
      opt.input_shapes[t.name] = s;
    }
    for (const StateConfig& s : c.states) opt.input_shapes[s.input_name] = s.shape;
    st = p.session->plan(opt);
    if (!st) return {st.code(), "planning batch " + std::to_string(b) + ": " + st.message()};
    for (const ValueInfo& vi : p.session->inputs()) p.inputs.emplace_back(vi.dtype, vi.shape);
    for (const ValueInfo& vi : p.session->outputs()) p.outputs.emplace_back(vi.dtype, vi.shape);
    for (const Tensor& t : p.inputs) p.input_views.push_back({t.dtype(), t.shape(), t.data()});
    for (Tensor& t : p.outputs) p.output_views.push_back({t.dtype(), t.shape(), t.data()});
    inst->plans_.push_back(std::move(p));
  }
  *out = std::move(inst);
  return Status::ok();
}

PlannedBatch* ModelInstance::plan_for(int64_t rows) {
  for (PlannedBatch& p : plans_)
    if (p.batch >= rows) return &p;
  return nullptr;
}

Status ModelInstance::warm_up() {
  std::lock_guard<std::mutex> lock(mu);
  for (PlannedBatch& p : plans_) {
    Status st = p.session->run(p.input_views, p.output_views);
    if (!st)
      return {st.code(), "warm-up at batch " + std::to_string(p.batch) + ": " + st.message()};
  }
  return Status::ok();
}

}  // namespace softdpu::server
