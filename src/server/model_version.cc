// ModelVersion: loading, metadata and request validation (the scheduler is model_scheduler.cc).
#include "server/model_version.h"

#include <fstream>
#include <set>
#include <sstream>

namespace softdpu::server {
namespace {

std::string dims_string(const Shape& dims, bool batched) {
  Shape s = dims;
  if (batched) s.insert(s.begin(), -1);
  return shape_to_string(s);
}

std::string names_of(const std::vector<TensorSpec>& ts) {
  std::string out;
  for (const TensorSpec& t : ts) out += (out.empty() ? "" : ", ") + t.name;
  return out;
}

int find_value(const std::vector<ValueInfo>& vs, const std::string& name) {
  for (size_t i = 0; i < vs.size(); ++i)
    if (vs[i].name == name) return static_cast<int>(i);
  return -1;
}

// Protocol-visible tensors of the batch-1 plan, checked against the config when it lists them.
Status describe(const ModelConfig& c, const std::vector<ValueInfo>& values,
                const std::vector<TensorConfig>& configured, bool inputs,
                std::vector<TensorSpec>* out) {
  const char* what = inputs ? "input" : "output";
  auto is_state = [&](const std::string& n) {
    return inputs ? c.is_state_input(n) : c.is_state_output(n);
  };
  auto spec_of = [&](int idx) {
    const ValueInfo& vi = values[static_cast<size_t>(idx)];
    TensorSpec t;
    t.name = vi.name;
    t.dtype = vi.dtype;
    t.dims = vi.shape;
    if (c.max_batch_size > 0 && !t.dims.empty()) t.dims.erase(t.dims.begin());
    t.session_index = idx;
    t.row_bytes = static_cast<size_t>(shape_numel(t.dims)) * dtype_size(vi.dtype);
    return t;
  };
  if (configured.empty()) {
    for (size_t i = 0; i < values.size(); ++i)
      if (!is_state(values[i].name)) out->push_back(spec_of(static_cast<int>(i)));
  } else {
    for (const TensorConfig& tc : configured) {
      int idx = find_value(values, tc.name);
      if (idx < 0)
        return {StatusCode::kInvalidModel, std::string("config ") + what + " '" + tc.name +
                                               "' is not a " + what + " of the model file"};
      TensorSpec t = spec_of(idx);
      if (t.dtype != tc.dtype || t.dims != tc.dims)
        return {StatusCode::kInvalidModel,
                std::string("config ") + what + " '" + tc.name + "' is " + datatype_name(tc.dtype) +
                    " " + shape_to_string(tc.dims) + " but the model plans it as " +
                    datatype_name(t.dtype) + " " + shape_to_string(t.dims)};
      out->push_back(std::move(t));
    }
  }
  if (inputs) {  // every non-state model input must be fed by the client
    for (size_t i = 0; i < values.size(); ++i) {
      bool listed = is_state(values[i].name);
      for (const TensorSpec& t : *out) listed = listed || t.name == values[i].name;
      if (!listed)
        return {StatusCode::kInvalidModel,
                "model input '" + values[i].name + "' is neither in config.inputs nor a state"};
    }
  }
  return Status::ok();
}

}  // namespace

Status ModelVersion::load(const std::string& model_path, const ModelConfig& config, int64_t version,
                          int default_threads, std::shared_ptr<ModelVersion>* out) {
  std::shared_ptr<ModelVersion> mv(new ModelVersion());
  mv->config_ = config;
  mv->version_ = version;
  mv->version_str_ = std::to_string(version);
  mv->label_ = "model '" + config.name + "'";
  Status st = mv->init(model_path, default_threads);
  if (!st)
    return {st.code(),
            "model '" + config.name + "' version " + mv->version_str_ + ": " + st.message()};
  *out = std::move(mv);
  return Status::ok();
}

Status ModelVersion::init(const std::string& model_path, int default_threads) {
  std::ifstream f(model_path, std::ios::binary);
  if (!f) return {StatusCode::kIoError, "cannot read " + model_path};
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string bytes = ss.str();
  std::string base_dir = model_path.substr(0, model_path.find_last_of('/') + 1);
  int threads = config_.threads > 0 ? config_.threads : std::max(default_threads, 1);
  for (int i = 0; i < config_.instance_count; ++i) {
    std::unique_ptr<ModelInstance> inst;
    Status st = ModelInstance::create(bytes, base_dir, config_, threads, &inst);
    if (!st) return st;
    instances_.push_back(std::move(inst));
  }
  const PlannedBatch& p1 = instances_[0]->plans().front();
  max_rows_ = instances_[0]->plans().back().batch;
  const auto& in_vals = p1.session->inputs();
  const auto& out_vals = p1.session->outputs();
  Status st = describe(config_, in_vals, config_.inputs, true, &inputs_);
  if (!st) return st;
  st = describe(config_, out_vals, config_.outputs, false, &outputs_);
  if (!st) return st;
  for (const StateConfig& s : config_.states) {
    int i = find_value(in_vals, s.input_name), o = find_value(out_vals, s.output_name);
    if (i < 0 || o < 0)
      return {StatusCode::kInvalidModel, "state '" + s.input_name + "' -> '" + s.output_name +
                                             "': not an input/output pair of the model file"};
    if (in_vals[i].shape != s.shape || out_vals[o].shape != s.shape || in_vals[i].dtype != s.dtype)
      return {StatusCode::kInvalidModel, "state '" + s.input_name + "': config shape " +
                                             shape_to_string(s.shape) + " but the model has " +
                                             shape_to_string(in_vals[i].shape) + " -> " +
                                             shape_to_string(out_vals[o].shape)};
    state_input_index_.push_back(i);
    state_output_index_.push_back(o);
  }
  if (config_.sequence_batching) sequences_ = std::make_unique<SequenceStore>(config_);
  // The config served back (GET .../config) shows the tensors even when the file omitted them.
  if (config_.inputs.empty())
    for (const TensorSpec& t : inputs_) config_.inputs.push_back({t.name, t.dtype, t.dims});
  if (config_.outputs.empty())
    for (const TensorSpec& t : outputs_) config_.outputs.push_back({t.name, t.dtype, t.dims});
  if (config_.warmup) {
    for (auto& inst : instances_) {
      st = inst->warm_up();
      if (!st) return st;
    }
  }
  for (auto& inst : instances_) workers_.emplace_back([this, p = inst.get()] { worker_loop(p); });
  return Status::ok();
}

ModelVersion::~ModelVersion() {
  stop();
}

Status ModelVersion::validate(PendingRequest* p) {
  const InferRequest& r = p->request;
  const std::string& model = label_;  // built at load, not per request
  const bool batched = config_.max_batch_size > 0;
  p->input_index.assign(r.inputs.size(), -1);
  std::vector<bool> seen(inputs_.size(), false);
  int64_t rows = -1;
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    const InputTensor& in = r.inputs[i];
    size_t k = 0;
    while (k < inputs_.size() && inputs_[k].name != in.name) ++k;
    if (k == inputs_.size())
      return {StatusCode::kInvalidArgument,
              "unknown input '" + in.name + "': " + model + " has inputs: " + names_of(inputs_)};
    if (seen[k]) return {StatusCode::kInvalidArgument, "input '" + in.name + "' is given twice"};
    seen[k] = true;
    const TensorSpec& spec = inputs_[k];
    if (in.datatype != datatype_name(spec.dtype))
      return {StatusCode::kInvalidArgument, "input '" + in.name + "': expected datatype " +
                                                datatype_name(spec.dtype) + ", got " +
                                                (in.datatype.empty() ? "none" : in.datatype)};
    bool shape_ok = in.shape.size() == spec.dims.size() + (batched ? 1 : 0);
    for (size_t d = 0; shape_ok && d < spec.dims.size(); ++d)
      shape_ok = in.shape[d + (batched ? 1 : 0)] == spec.dims[d];
    int64_t n = batched && !in.shape.empty() ? in.shape[0] : 1;
    if (!shape_ok || n < 1 || n > std::max<int64_t>(config_.max_batch_size, 1))
      return {StatusCode::kInvalidArgument,
              "input '" + in.name + "': expected shape " + dims_string(spec.dims, batched) +
                  (batched ? " with batch 1.." + std::to_string(config_.max_batch_size) : "") +
                  ", got " + shape_to_string(in.shape)};
    if (rows >= 0 && n != rows)
      return {StatusCode::kInvalidArgument, "input '" + in.name + "': batch " + std::to_string(n) +
                                                " differs from the other " + "inputs' batch " +
                                                std::to_string(rows)};
    rows = n;
    size_t want = spec.row_bytes * static_cast<size_t>(n);
    if (in.data.size() != want)
      return {StatusCode::kInvalidArgument, "input '" + in.name + "': shape " +
                                                shape_to_string(in.shape) + " of " + in.datatype +
                                                " needs " + std::to_string(want) + " bytes, got " +
                                                std::to_string(in.data.size())};
    p->input_index[i] = spec.session_index;
  }
  for (size_t k = 0; k < inputs_.size(); ++k)
    if (!seen[k])
      return {StatusCode::kInvalidArgument, "missing input '" + inputs_[k].name + "': " + model +
                                                " needs inputs: " + names_of(inputs_)};
  p->rows = rows < 0 ? 1 : rows;
  if (p->rows > max_rows_)
    return {StatusCode::kInvalidArgument,
            "batch " + std::to_string(p->rows) + " exceeds " + model + "'s max_batch_size"};

  p->output_index.clear();
  if (r.outputs.empty()) {
    for (const TensorSpec& o : outputs_)
      p->output_index.push_back(static_cast<int>(&o - outputs_.data()));
  } else {
    for (const RequestedOutput& ro : r.outputs) {
      size_t k = 0;
      while (k < outputs_.size() && outputs_[k].name != ro.name) ++k;
      if (k == outputs_.size())
        return {StatusCode::kInvalidArgument, "unknown output '" + ro.name + "': " + model +
                                                  " has outputs: " + names_of(outputs_)};
      p->output_index.push_back(static_cast<int>(k));
    }
  }

  if (config_.sequence_batching) {
    if (r.sequence_id.empty() || r.sequence_id == "0")
      return {StatusCode::kInvalidArgument,
              model +
                  " is stateful: requests need a sequence_id parameter (and "
                  "sequence_start=true on a sequence's first request)"};
    if (p->rows != 1)
      return {StatusCode::kInvalidArgument,
              model + ": a sequence request carries batch 1, got batch " + std::to_string(p->rows)};
    return sequences_->begin(r.sequence_id, r.sequence_start, &p->sequence);
  }
  if (!r.sequence_id.empty() && r.sequence_id != "0")
    return {StatusCode::kInvalidArgument,
            model + " has no sequence_batching: sequence_id is not accepted"};
  return Status::ok();
}

}  // namespace softdpu::server
