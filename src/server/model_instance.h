// One execution instance of a model version: a Session planned for each batch size the config
// asks for (1, the preferred sizes, max_batch_size), each with its own pre-allocated input and
// output tensors, so running a batch allocates nothing. A batch of n rows runs on the smallest
// plan with batch >= n; the rows past n are padding whose results are dropped.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/model_config.h"
#include "softdpu/session.h"

namespace softdpu::server {

struct PlannedBatch {
  int64_t batch = 1;
  std::unique_ptr<Session> session;
  std::vector<Tensor> inputs;  // session input order
  std::vector<Tensor> outputs;
  std::vector<ConstTensorView> input_views;
  std::vector<TensorView> output_views;
};

class ModelInstance {
 public:
  // `model_bytes`: the ONNX file's contents (read once per version, shared by instances).
  static Status create(const std::string& model_bytes, const std::string& base_dir,
                       const ModelConfig& config, int threads, std::unique_ptr<ModelInstance>* out);

  // The smallest plan whose batch holds `rows`, or null when rows exceed every plan.
  PlannedBatch* plan_for(int64_t rows);
  const std::vector<PlannedBatch>& plans() const { return plans_; }
  // One run of every plan on zero inputs: pages in the arena and packed weights.
  Status warm_up();

  // Held while the instance executes (the batch-1 fast path try_locks it).
  std::mutex mu;

 private:
  std::vector<PlannedBatch> plans_;
};

}  // namespace softdpu::server
