#include "softdpu/session.h"

#include <new>

#include "onnx/importer.h"
#include "runtime/program.h"

namespace softdpu {

struct Session::Impl {
  ir::Graph model;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::unique_ptr<runtime::Program> program;
};

Session::Session() : impl_(std::make_unique<Impl>()) {}
Session::~Session() = default;

namespace {

template <typename Fn>
Status guarded(Fn&& fn) {
  try {
    fn();
    return Status::ok();
  } catch (const Error& e) {
    return e.status();
  } catch (const std::bad_alloc&) {
    return {StatusCode::kInternal, "out of memory"};
  } catch (const std::exception& e) {
    return {StatusCode::kInternal, e.what()};
  }
}

std::vector<ValueInfo> infos(const ir::Graph& g, const std::vector<int>& ids) {
  std::vector<ValueInfo> out;
  for (int v : ids) out.push_back({g.values[v].name, g.values[v].dtype, g.values[v].shape});
  return out;
}

}  // namespace

Status Session::load(const std::string& path, std::unique_ptr<Session>* out) {
  out->reset();
  std::unique_ptr<Session> s(new Session());
  Status st = guarded([&] { s->impl_->model = onnx_io::import_model_file(path); });
  if (!st) return st;
  s->impl_->inputs = infos(s->impl_->model, s->impl_->model.inputs);
  s->impl_->outputs = infos(s->impl_->model, s->impl_->model.outputs);
  *out = std::move(s);
  return st;
}

Status Session::load_from_bytes(const std::string& bytes, const std::string& base_dir,
                                std::unique_ptr<Session>* out) {
  out->reset();
  std::unique_ptr<Session> s(new Session());
  Status st = guarded([&] { s->impl_->model = onnx_io::import_model_bytes(bytes, base_dir); });
  if (!st) return st;
  s->impl_->inputs = infos(s->impl_->model, s->impl_->model.inputs);
  s->impl_->outputs = infos(s->impl_->model, s->impl_->model.outputs);
  *out = std::move(s);
  return st;
}

const std::vector<ValueInfo>& Session::inputs() const {
  return impl_->program ? impl_->program->inputs : impl_->inputs;
}
const std::vector<ValueInfo>& Session::outputs() const {
  return impl_->program ? impl_->program->outputs : impl_->outputs;
}
int64_t Session::opset() const {
  return impl_->model.opset;
}

std::map<std::string, int> Session::model_op_counts() const {
  std::map<std::string, int> counts;
  for (const ir::Node& n : impl_->model.nodes) counts[ir::op_name(n.op)]++;
  return counts;
}

Status Session::plan(const PlanOptions& options) {
  impl_->program.reset();
  return guarded([&] { impl_->program = runtime::build_program(impl_->model, options); });
}

bool Session::planned() const {
  return impl_->program != nullptr;
}

const PlanStats& Session::stats() const {
  static const PlanStats kEmpty;
  return impl_->program ? impl_->program->stats : kEmpty;
}

namespace {
template <typename View>
Status check_views(const char* what, const std::vector<ValueInfo>& expected,
                   const std::vector<View>& got) {
  if (got.size() != expected.size()) {
    return {StatusCode::kInvalidArgument, std::string("expected ") +
                                              std::to_string(expected.size()) + " " + what +
                                              "s, got " + std::to_string(got.size())};
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const ValueInfo& e = expected[i];
    if (got[i].dtype != e.dtype) {
      return {StatusCode::kInvalidArgument, std::string(what) + " '" + e.name + "' expects type " +
                                                dtype_name(e.dtype) + ", got " +
                                                dtype_name(got[i].dtype)};
    }
    if (got[i].shape != e.shape) {
      return {StatusCode::kInvalidArgument, std::string(what) + " '" + e.name + "' expects shape " +
                                                shape_to_string(e.shape) + ", got " +
                                                shape_to_string(got[i].shape)};
    }
    if (!got[i].data && shape_numel(e.shape) > 0) {
      return {StatusCode::kInvalidArgument,
              std::string(what) + " '" + e.name + "' has no data pointer"};
    }
  }
  return Status::ok();
}
}  // namespace

Status Session::run(const std::vector<ConstTensorView>& inputs,
                    const std::vector<TensorView>& outputs) {
  if (!impl_->program) return {StatusCode::kInvalidArgument, "run() called before plan()"};
  Status st = check_views("input", impl_->program->inputs, inputs);
  if (!st) return st;
  st = check_views("output", impl_->program->outputs, outputs);
  if (!st) return st;
  runtime::execute(*impl_->program, inputs, outputs);
  return Status::ok();
}

Status Session::run(const std::map<std::string, Tensor>& inputs,
                    std::map<std::string, Tensor>* outputs) {
  if (!impl_->program) return {StatusCode::kInvalidArgument, "run() called before plan()"};
  std::vector<ConstTensorView> in;
  for (const ValueInfo& vi : impl_->program->inputs) {
    auto it = inputs.find(vi.name);
    if (it == inputs.end())
      return {StatusCode::kInvalidArgument, "missing input '" + vi.name + "'"};
    in.push_back({it->second.dtype(), it->second.shape(), it->second.data()});
  }
  for (const auto& [name, t] : inputs) {
    bool known = false;
    for (const ValueInfo& vi : impl_->program->inputs) known = known || vi.name == name;
    if (!known) {
      std::string names;
      for (const ValueInfo& vi : impl_->program->inputs)
        names += (names.empty() ? "'" : ", '") + vi.name + "'";
      return {StatusCode::kInvalidArgument,
              "unknown input '" + name + "'; the model's inputs are " + names};
    }
  }
  std::vector<TensorView> out;
  outputs->clear();
  for (const ValueInfo& vi : impl_->program->outputs) {
    Tensor& t = (*outputs)[vi.name];
    t = Tensor(vi.dtype, vi.shape);
    out.push_back({vi.dtype, vi.shape, t.data()});
  }
  return run(in, out);
}

}  // namespace softdpu
