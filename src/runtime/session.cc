#include "softdpu/session.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <fstream>
#include <new>
#include <nlohmann/json.hpp>
#include <sstream>

#include "onnx/importer.h"
#include "runtime/encoded_weights.h"
#include "runtime/program.h"
#include "runtime/sdpu_file.h"

namespace softdpu {

namespace {
std::vector<ValueInfo> infos(const ir::Graph& g, const std::vector<int>& ids) {
  std::vector<ValueInfo> out;
  for (int v : ids) out.push_back({g.values[v].name, g.values[v].dtype, g.values[v].shape});
  return out;
}
}  // namespace

struct Session::Impl {
  // The imported model. A plan takes it (with its constants) when the session can import the
  // model again, so the kernels' packed weights replace the fp32 initializers instead of sitting
  // beside them; the next plan imports again (see take_model).
  ir::Graph model;
  bool model_taken = false;
  int64_t opset = 0;
  std::map<std::string, int> op_counts;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::unique_ptr<runtime::Program> program;
  PlanOptions planned_options;
  // Narrow weights encoded by the plans of this session (and, for a .sdpu, the file's, pinned).
  std::shared_ptr<runtime::EncodedWeights> encoded = std::make_shared<runtime::EncodedWeights>();
  // Where the source model comes from, for save_compiled: an ONNX path, or the bytes of a .sdpu.
  std::string source_path, source_base_dir, source_onnx_bytes;
  bool compiled = false;
  PlanOptions compiled_options;  // precision fields only

  // What the session reports about the model without a plan, kept apart from `model`.
  void describe_model() {
    inputs = infos(model, model.inputs);
    outputs = infos(model, model.outputs);
    opset = model.opset;
    op_counts.clear();
    for (const ir::Node& n : model.nodes) op_counts[ir::op_name(n.op)]++;
  }
  bool can_import_again() const { return !source_path.empty() || !source_onnx_bytes.empty(); }
  // The graph for the next plan: the session's own when it can import the model again (moved,
  // so no second reference keeps the weights alive), else a copy sharing the constants.
  ir::Graph take_model() {
    if (model_taken) {
      model = source_onnx_bytes.empty()
                  ? onnx_io::import_model_file(source_path)
                  : onnx_io::import_model_bytes(source_onnx_bytes, source_base_dir);
      model_taken = false;
    }
    if (!can_import_again()) return model;
    model_taken = true;
    return std::move(model);
  }
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

}  // namespace

namespace {

// A .sdpu's contents into the session: the source graph, the pinned encoded weights and the
// precision options it was compiled with. (A template so that it need not name the private
// Session::Impl.)
template <typename SessionImpl>
void adopt_compiled(SessionImpl& im, runtime::SdpuContents c, const std::string& dir,
                    const std::string& what) {
  im.model = onnx_io::import_model_bytes(c.onnx_bytes, dir);
  im.source_onnx_bytes = std::move(c.onnx_bytes);
  im.source_base_dir = dir;
  for (auto& [key, m] : c.weights) im.encoded->add(key, m, /*pinned=*/true);
  try {
    const nlohmann::json j = nlohmann::json::parse(c.manifest_json);
    const auto& p = j.at("plan");
    PlanOptions& o = im.compiled_options;
    o.precision = p.at("precision").get<std::string>();
    o.layer_precision = p.at("layer_precision").get<std::map<std::string, std::string>>();
    o.keep_fp32 = p.at("keep_fp32").get<std::vector<std::string>>();
    o.circulant_block = p.value("circulant_block", 0);
    o.circulant_layers = p.value("circulant_layers", std::vector<std::string>{});
    o.prune_density = p.value("prune_density", 0.0);
    o.codebook_bits = p.value("codebook_bits", 0);
    o.codebook_values = p.value("codebook_values", std::string("fp32"));
  } catch (const nlohmann::json::exception& e) {
    throw Error(StatusCode::kInvalidModel, what + ": malformed manifest: " + e.what(), what);
  }
  im.compiled = true;
}

}  // namespace

Status Session::load(const std::string& path, std::unique_ptr<Session>* out) {
  out->reset();
  std::unique_ptr<Session> s(new Session());
  Status st = guarded([&] {
    Impl& im = *s->impl_;
    if (!runtime::is_sdpu_file(path)) {
      im.model = onnx_io::import_model_file(path);
      im.source_path = path;
      return;
    }
    const std::string dir =
        path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
    adopt_compiled(im, runtime::read_sdpu(path), dir, path);
    im.source_path = path;
  });
  if (!st) return st;
  s->impl_->describe_model();
  *out = std::move(s);
  return st;
}

Status Session::load_from_bytes(const std::string& bytes, const std::string& base_dir,
                                std::unique_ptr<Session>* out) {
  out->reset();
  std::unique_ptr<Session> s(new Session());
  Status st = guarded([&] {
    Impl& im = *s->impl_;
    if (runtime::is_sdpu_bytes(bytes)) {
      adopt_compiled(im, runtime::read_sdpu_bytes(bytes, "compiled model in memory"), base_dir,
                     "compiled model in memory");
    } else {
      im.model = onnx_io::import_model_bytes(bytes, base_dir);
    }
  });
  if (!st) return st;
  s->impl_->describe_model();
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
  return impl_->opset;
}

std::map<std::string, int> Session::model_op_counts() const {
  return impl_->op_counts;
}

Status Session::plan(const PlanOptions& options) {
  impl_->program.reset();
  PlanOptions opt = options;
  if (impl_->compiled && opt.use_compiled_precision && opt.precision == "fp32" &&
      opt.layer_precision.empty() && opt.keep_fp32.empty()) {
    opt.precision = impl_->compiled_options.precision;
    opt.layer_precision = impl_->compiled_options.layer_precision;
    opt.keep_fp32 = impl_->compiled_options.keep_fp32;
  }
  if (impl_->compiled && opt.use_compiled_precision && opt.circulant_block == 0 &&
      opt.prune_density == 0) {
    const PlanOptions& c = impl_->compiled_options;
    opt.circulant_block = c.circulant_block;
    opt.circulant_layers = c.circulant_layers;
    opt.prune_density = c.prune_density;
    opt.codebook_bits = c.codebook_bits;
    opt.codebook_values = c.codebook_values;
  }
  impl_->encoded->begin_plan();
  runtime::ScopedEncodedWeights scope(impl_->encoded.get());
  return guarded([&] {
    impl_->program = runtime::build_program(impl_->take_model(), opt);
    impl_->planned_options = opt;
  });
}

bool Session::compiled() const {
  return impl_->compiled;
}

namespace {

// The source ONNX with every external-data initializer read in, so the .sdpu stands alone.
std::string self_contained_onnx(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  if (!f) throw Error(StatusCode::kIoError, "cannot read " + path, path);
  onnx::ModelProto m;
  if (!m.ParseFromString(ss.str())) {
    throw Error(StatusCode::kInvalidModel, path + " is not a valid ONNX model", path);
  }
  bool changed = false;
  const std::string dir =
      path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  for (onnx::TensorProto& t : *m.mutable_graph()->mutable_initializer()) {
    if (t.data_location() != onnx::TensorProto::EXTERNAL) continue;
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto& kv : t.external_data()) {
      if (kv.key() == "location") location = kv.value();
      if (kv.key() == "offset") offset = std::stoll(kv.value());
      if (kv.key() == "length") length = std::stoll(kv.value());
    }
    std::ifstream d(dir + "/" + location, std::ios::binary);
    d.seekg(offset);
    std::string bytes;
    if (length >= 0) {
      bytes.resize(static_cast<size_t>(length));
      d.read(bytes.data(), length);
    } else {
      std::stringstream rest;
      rest << d.rdbuf();
      bytes = rest.str();
    }
    if (!d && length >= 0) {
      throw Error(StatusCode::kIoError, "cannot read external data of '" + t.name() + "'",
                  location);
    }
    t.set_raw_data(bytes);
    t.clear_external_data();
    t.set_data_location(onnx::TensorProto::DEFAULT);
    changed = true;
  }
  return changed ? m.SerializeAsString() : ss.str();
}

}  // namespace

Status Session::save_compiled(const std::string& path) const {
  if (!impl_->program) return {StatusCode::kInvalidArgument, "save_compiled() needs a plan"};
  return guarded([&] {
    const Impl& im = *impl_;
    const std::string onnx =
        im.source_onnx_bytes.empty() ? self_contained_onnx(im.source_path) : im.source_onnx_bytes;
    if (onnx.empty()) {
      throw Error(StatusCode::kInvalidArgument,
                  "save_compiled() needs a session loaded from a file");
    }
    const PlanOptions& o = im.planned_options;
    nlohmann::json j = {{"producer", std::string("softdpu ") + SOFTDPU_VERSION},
                        {"format_version", runtime::kSdpuVersion},
                        {"source", im.source_path},
                        {"plan",
                         {{"precision", o.precision},
                          {"layer_precision", o.layer_precision},
                          {"keep_fp32", o.keep_fp32},
                          {"circulant_block", o.circulant_block},
                          {"circulant_layers", o.circulant_layers},
                          {"prune_density", o.prune_density},
                          {"codebook_bits", o.codebook_bits},
                          {"codebook_values", o.codebook_values}}},
                        {"layer_formats", im.program->stats.layer_formats},
                        {"weight_bytes", im.program->stats.weight_bytes}};
    runtime::write_sdpu(path, j.dump(2), onnx, im.encoded->used());
  });
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

void Session::record_step_times(int runs) {
  if (!impl_->program) return;
  runtime::Program& p = *impl_->program;
  p.step_runs = std::max(runs, 0);
  p.timed_runs = 0;
  p.step_ns.assign(static_cast<size_t>(p.step_runs) * p.steps.size(), 0);
}

Session::StepTimes Session::step_times() const {
  StepTimes t;
  if (!impl_->program) return t;
  const runtime::Program& p = *impl_->program;
  const size_t n = p.steps.size();
  const int64_t runs = std::min(p.timed_runs, p.step_runs);
  t.us.resize(n);
  for (size_t i = 0; i < n; ++i) {
    t.names.push_back(p.steps[i].name);
    t.ops.push_back(ir::op_name(p.steps[i].op));
    for (int64_t r = p.timed_runs - runs; r < p.timed_runs; ++r)
      t.us[i].push_back(p.step_ns[static_cast<size_t>(r % p.step_runs) * n + i] * 1e-3);
  }
  t.pool_jobs = p.pool ? p.pool->jobs() : 0;
  t.pool_late_chunks = p.pool ? p.pool->late_chunks() : 0;
  return t;
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
