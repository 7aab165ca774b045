// config.json parsing: every key optional except what the model file cannot tell us.
#include "server/model_config.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "server/inference_server.h"

namespace softdpu::server {
namespace {
using nlohmann::json;

[[noreturn]] void fail(const std::string& msg) {
  throw Error(StatusCode::kInvalidModel, msg);
}

void check_keys(const json& j, const std::string& where, std::initializer_list<const char*> keys) {
  if (!j.is_object()) fail(where + ": expected a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* k : keys) known = known || it.key() == k;
    if (!known) fail(where + ": unknown key '" + it.key() + "'");
  }
}

int64_t get_int(const json& j, const char* key, const std::string& where, int64_t def,
                int64_t min_value) {
  if (!j.contains(key)) return def;
  const json& v = j.at(key);
  if (!v.is_number_integer()) fail(where + "." + key + ": expected an integer");
  int64_t x = v.get<int64_t>();
  if (x < min_value)
    fail(where + "." + key + ": must be >= " + std::to_string(min_value) + ", got " +
         std::to_string(x));
  return x;
}

Shape get_shape(const json& j, const std::string& where) {
  if (!j.is_array()) fail(where + ": expected an array of integers");
  Shape s;
  for (const json& d : j) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1)
      fail(where + ": dimensions must be positive integers");
    s.push_back(d.get<int64_t>());
  }
  return s;
}

DType get_dtype(const json& j, const std::string& where) {
  if (!j.is_string()) fail(where + ": expected a datatype name such as \"FP32\"");
  auto t = datatype_from_name(j.get<std::string>());
  if (!t || *t == DType::kString)
    fail(where + ": unsupported datatype '" + j.get<std::string>() + "'");
  return *t;
}

std::vector<TensorConfig> get_tensors(const json& j, const std::string& where) {
  if (!j.is_array()) fail(where + ": expected an array");
  std::vector<TensorConfig> out;
  for (size_t i = 0; i < j.size(); ++i) {
    std::string w = where + "[" + std::to_string(i) + "]";
    check_keys(j[i], w, {"name", "datatype", "shape"});
    if (!j[i].contains("name") || !j[i]["name"].is_string()) fail(w + ".name: required string");
    TensorConfig t;
    t.name = j[i]["name"].get<std::string>();
    if (!j[i].contains("datatype") || !j[i].contains("shape"))
      fail(w + ": 'datatype' and 'shape' are required");
    t.dtype = get_dtype(j[i]["datatype"], w + ".datatype");
    t.dims = get_shape(j[i]["shape"], w + ".shape");
    out.push_back(std::move(t));
  }
  return out;
}

void parse(const json& j, const std::string& dir_name, ModelConfig* c) {
  check_keys(j, "config",
             {"name", "platform", "max_batch_size", "inputs", "outputs", "dynamic_batching",
              "sequence_batching", "instance_count", "threads", "version_policy", "precision",
              "layer_precision", "keep_fp32", "max_queue_size", "warmup"});
  c->name = dir_name;
  if (j.contains("name")) {
    if (!j["name"].is_string()) fail("config.name: expected a string");
    if (j["name"].get<std::string>() != dir_name)
      fail("config.name '" + j["name"].get<std::string>() + "' differs from the directory name '" +
           dir_name + "'");
  }
  if (j.contains("platform")) {
    if (j["platform"] != "onnx" && j["platform"] != "sdpu")
      fail("config.platform: \"onnx\" or \"sdpu\" (the version directory's file decides)");
  }
  c->max_batch_size = get_int(j, "max_batch_size", "config", 0, 0);
  if (j.contains("inputs")) c->inputs = get_tensors(j["inputs"], "config.inputs");
  if (j.contains("outputs")) c->outputs = get_tensors(j["outputs"], "config.outputs");
  c->max_queue_size = get_int(j, "max_queue_size", "config", c->max_queue_size, 1);
  c->instance_count = static_cast<int>(get_int(j, "instance_count", "config", 1, 1));
  c->threads = static_cast<int>(get_int(j, "threads", "config", 0, 0));
  if (j.contains("warmup")) {
    if (!j["warmup"].is_boolean()) fail("config.warmup: expected true or false");
    c->warmup = j["warmup"].get<bool>();
  }

  if (j.contains("dynamic_batching")) {
    const json& d = j["dynamic_batching"];
    check_keys(d, "config.dynamic_batching",
               {"preferred_batch_size", "max_queue_delay_microseconds"});
    if (c->max_batch_size < 2) fail("config.dynamic_batching needs max_batch_size >= 2");
    c->dynamic_batching = true;
    if (d.contains("preferred_batch_size")) {
      for (int64_t b :
           get_shape(d["preferred_batch_size"], "config.dynamic_batching.preferred_batch_size")) {
        if (b > c->max_batch_size)
          fail("config.dynamic_batching.preferred_batch_size " + std::to_string(b) +
               " exceeds max_batch_size " + std::to_string(c->max_batch_size));
        c->preferred_batch_size.push_back(b);
      }
    }
    c->max_queue_delay_us = static_cast<uint64_t>(
        get_int(d, "max_queue_delay_microseconds", "config.dynamic_batching", 100, 0));
  }

  if (j.contains("sequence_batching")) {
    const json& s = j["sequence_batching"];
    check_keys(s, "config.sequence_batching",
               {"idle_timeout_microseconds", "max_sequences", "state"});
    c->sequence_batching = true;
    c->sequence_idle_timeout_us = static_cast<uint64_t>(
        get_int(s, "idle_timeout_microseconds", "config.sequence_batching", 60'000'000, 1));
    c->max_sequences = get_int(s, "max_sequences", "config.sequence_batching", 1024, 1);
    if (s.contains("state")) {
      if (!s["state"].is_array()) fail("config.sequence_batching.state: expected an array");
      for (size_t i = 0; i < s["state"].size(); ++i) {
        const json& e = s["state"][i];
        std::string w = "config.sequence_batching.state[" + std::to_string(i) + "]";
        check_keys(e, w, {"input_name", "output_name", "shape", "datatype"});
        if (!e.contains("input_name") || !e.contains("output_name") || !e.contains("shape"))
          fail(w + ": input_name, output_name and shape are required");
        StateConfig st;
        st.input_name = e["input_name"].get<std::string>();
        st.output_name = e["output_name"].get<std::string>();
        st.shape = get_shape(e["shape"], w + ".shape");
        if (e.contains("datatype")) st.dtype = get_dtype(e["datatype"], w + ".datatype");
        c->states.push_back(std::move(st));
      }
    }
    if (c->dynamic_batching) fail("config: dynamic_batching and sequence_batching are exclusive");
  }

  if (j.contains("version_policy")) {
    const json& v = j["version_policy"];
    if (v.is_string() && v == "all") {
      c->version_policy = "all";
    } else if (v.is_object() && v.size() == 1 && v.contains("latest")) {
      c->version_policy = "latest";
      c->latest_n = get_int(v, "latest", "config.version_policy", 1, 1);
    } else if (v.is_object() && v.size() == 1 && v.contains("all")) {
      c->version_policy = "all";
    } else if (v.is_object() && v.size() == 1 && v.contains("specific")) {
      c->version_policy = "specific";
      c->specific_versions = get_shape(v["specific"], "config.version_policy.specific");
    } else {
      fail(
          "config.version_policy: expected {\"latest\": N}, \"all\" or {\"specific\": [versions]}");
    }
  }

  if (j.contains("precision")) {
    if (!j["precision"].is_string()) fail("config.precision: expected a format name");
    c->precision = j["precision"].get<std::string>();
  }
  if (j.contains("layer_precision")) {
    if (!j["layer_precision"].is_object()) fail("config.layer_precision: expected {node: format}");
    for (auto it = j["layer_precision"].begin(); it != j["layer_precision"].end(); ++it) {
      if (!it->is_string()) fail("config.layer_precision." + it.key() + ": expected a format name");
      c->layer_precision[it.key()] = it->get<std::string>();
    }
  }
  if (j.contains("keep_fp32")) {
    if (!j["keep_fp32"].is_array()) fail("config.keep_fp32: expected an array of node names");
    for (const json& n : j["keep_fp32"]) {
      if (!n.is_string()) fail("config.keep_fp32: expected strings");
      c->keep_fp32.push_back(n.get<std::string>());
    }
  }
}

json tensors_json(const std::vector<TensorConfig>& ts) {
  json a = json::array();
  for (const TensorConfig& t : ts)
    a.push_back({{"name", t.name}, {"datatype", datatype_name(t.dtype)}, {"shape", t.dims}});
  return a;
}
}  // namespace

std::vector<int64_t> ModelConfig::planned_batch_sizes() const {
  std::set<int64_t> s{1};
  if (max_batch_size > 0) s.insert(max_batch_size);
  for (int64_t b : preferred_batch_size) s.insert(b);
  if (sequence_batching) s = {1};  // sequences run one at a time (docs/serving.md)
  return {s.begin(), s.end()};
}

bool ModelConfig::is_state_input(const std::string& n) const {
  return std::any_of(states.begin(), states.end(),
                     [&](const StateConfig& s) { return s.input_name == n; });
}
bool ModelConfig::is_state_output(const std::string& n) const {
  return std::any_of(states.begin(), states.end(),
                     [&](const StateConfig& s) { return s.output_name == n; });
}

Status parse_model_config(const std::string& text, const std::string& dir_name, ModelConfig* out) {
  ModelConfig c;
  try {
    json j = text.empty() ? json::object() : json::parse(text);
    parse(j, dir_name, &c);
  } catch (const Error& e) {
    return {StatusCode::kInvalidModel, "model '" + dir_name + "': " + e.what()};
  } catch (const json::exception& e) {
    return {StatusCode::kInvalidModel, "model '" + dir_name + "': config.json: " + e.what()};
  }
  *out = std::move(c);
  return Status::ok();
}

std::string model_config_to_json(const ModelConfig& c) {
  json j = {{"name", c.name},
            {"platform", c.platform},
            {"max_batch_size", c.max_batch_size},
            {"inputs", tensors_json(c.inputs)},
            {"outputs", tensors_json(c.outputs)},
            {"max_queue_size", c.max_queue_size},
            {"instance_count", c.instance_count},
            {"threads", c.threads},
            {"precision", c.precision},
            {"layer_precision", c.layer_precision},
            {"keep_fp32", c.keep_fp32},
            {"warmup", c.warmup}};
  if (c.version_policy == "latest")
    j["version_policy"] = {{"latest", c.latest_n}};
  else if (c.version_policy == "all")
    j["version_policy"] = "all";
  else
    j["version_policy"] = {{"specific", c.specific_versions}};
  if (c.dynamic_batching)
    j["dynamic_batching"] = {{"preferred_batch_size", c.preferred_batch_size},
                             {"max_queue_delay_microseconds", c.max_queue_delay_us}};
  if (c.sequence_batching) {
    json st = json::array();
    for (const StateConfig& s : c.states)
      st.push_back({{"input_name", s.input_name},
                    {"output_name", s.output_name},
                    {"shape", s.shape},
                    {"datatype", datatype_name(s.dtype)}});
    j["sequence_batching"] = {{"idle_timeout_microseconds", c.sequence_idle_timeout_us},
                              {"max_sequences", c.max_sequences},
                              {"state", st}};
  }
  return j.dump(2);
}

}  // namespace softdpu::server
