// A model's repository configuration: DIR/<model>/config.json (format in docs/serving.md).
// Parsed once at load; unknown keys are rejected so that a typo does not silently become a default.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "softdpu/dtype.h"
#include "softdpu/status.h"
#include "softdpu/tensor.h"

namespace softdpu::server {

struct TensorConfig {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape dims;  // without the batch dimension when max_batch_size > 0
};

// A recurrent state carried between the requests of one sequence: the model reads it from
// `input_name` and produces its next value in `output_name`. `shape` is the whole tensor for one
// sequence (batch 1), e.g. [1, 1, 128] for an LSTM's h.
struct StateConfig {
  std::string input_name;
  std::string output_name;
  Shape shape;
  DType dtype = DType::kFloat32;
};

struct ModelConfig {
  std::string name;
  std::string platform = "onnx";
  int64_t max_batch_size = 0;  // 0: no batch dimension; > 0: dim 0 is the batch, up to this size
  std::vector<TensorConfig> inputs;   // empty = taken from the model file
  std::vector<TensorConfig> outputs;  // empty = every output of the model file

  bool dynamic_batching = false;
  std::vector<int64_t> preferred_batch_size;  // empty = {max_batch_size}
  uint64_t max_queue_delay_us = 0;
  int64_t max_queue_size = 256;  // requests waiting per model version; more get kUnavailable

  bool sequence_batching = false;
  uint64_t sequence_idle_timeout_us = 60'000'000;
  int64_t max_sequences = 1024;
  std::vector<StateConfig> states;

  int instance_count = 1;
  int threads = 0;  // intra-op threads per instance; 0 = the server's --threads

  std::string version_policy = "latest";  // latest | all | specific
  int64_t latest_n = 1;
  std::vector<int64_t> specific_versions;

  std::string precision = "fp32";
  std::map<std::string, std::string> layer_precision;
  std::vector<std::string> keep_fp32;

  bool warmup = true;

  // Batch sizes a Session is planned for: 1, the preferred sizes and max_batch_size.
  std::vector<int64_t> planned_batch_sizes() const;
  bool is_state_input(const std::string& name) const;
  bool is_state_output(const std::string& name) const;
};

// Parses config.json text. `dir_name` is the model's directory name (the model name when the
// config has none; a different "name" is an error). Errors name the offending key.
Status parse_model_config(const std::string& json_text, const std::string& dir_name,
                          ModelConfig* out);

// The configuration with defaults filled in, as JSON text (GET v2/models/<m>/config).
std::string model_config_to_json(const ModelConfig& c);

}  // namespace softdpu::server
