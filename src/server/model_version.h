// One served version of a model: its instances, request validation, the scheduler (batch-1 fast
// path, dynamic batching, bounded queue, timeouts), sequences and statistics.
//
// Scheduling: infer() validates on the caller's thread. When nothing is queued and an instance
// is idle (try_lock), the request runs right there: no queue, no thread hop. Otherwise it joins a
// bounded FIFO (full -> kUnavailable at once); one worker thread per instance takes the oldest
// requests, up to the largest preferred batch size, waiting at most max_queue_delay for more when
// dynamic batching is on, concatenates their rows and runs them as one batch.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/inference_server.h"
#include "server/model_config.h"
#include "server/model_instance.h"
#include "server/model_stats.h"
#include "server/sequence_store.h"

namespace softdpu::server {

// What validation learned about a request, carried with it to execution.
struct PendingRequest {
  InferRequest request;
  InferCallback done;
  int64_t rows = 1;
  std::vector<int> input_index;   // session input index of request.inputs[i]
  std::vector<int> output_index;  // session output indexes to return, in response order
  std::shared_ptr<SequenceSlot> sequence;
};

// A model input or output as the protocol sees it (no state tensors).
struct TensorSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape dims;  // without the batch dimension when max_batch_size > 0
  int session_index = 0;
  size_t row_bytes = 0;  // bytes of one batch row (the whole tensor without a batch dimension)
};

class ModelVersion {
 public:
  // Reads the model file, creates config.instance_count instances, warms them up and starts the
  // workers. Errors name the model and version.
  static Status load(const std::string& model_path, const ModelConfig& config, int64_t version,
                     int default_threads, std::shared_ptr<ModelVersion>* out);
  ~ModelVersion();

  const ModelConfig& config() const { return config_; }
  int64_t version() const { return version_; }
  const std::string& version_string() const { return version_str_; }
  const std::vector<TensorSpec>& inputs() const { return inputs_; }
  const std::vector<TensorSpec>& outputs() const { return outputs_; }
  ModelStats& stats() { return stats_; }
  size_t live_sequences() { return sequences_ ? sequences_->live() : 0; }
  size_t queued() {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
  }
  // The mutex instance `i` holds while it executes. Tests hold it to keep the instance busy for
  // as long as they need (requests then queue, deterministically, without a slow model).
  std::mutex& instance_mutex(size_t i) { return instances_.at(i)->mu; }

  // Validates, then runs inline or queues; `done` is called exactly once.
  void infer(InferRequest request, InferCallback done);
  // New requests get kUnavailable; returns when queued and running work has finished.
  void stop();

 private:
  ModelVersion() = default;
  Status init(const std::string& model_path, int default_threads);
  Status validate(PendingRequest* p);
  void worker_loop(ModelInstance* inst);
  // Runs `batch` on `inst` (its mutex held by the caller); fills the results to deliver.
  void execute(ModelInstance* inst, std::vector<PendingRequest>& batch,
               std::vector<std::pair<Status, InferResponse>>* results);
  void deliver(std::vector<PendingRequest>& batch,
               std::vector<std::pair<Status, InferResponse>>& results);
  void fail(PendingRequest& p, const Status& st);

  ModelConfig config_;
  int64_t version_ = 0;
  std::string version_str_;
  std::string label_;  // "model '<name>'", for error messages
  std::vector<TensorSpec> inputs_, outputs_;
  std::vector<int> state_input_index_, state_output_index_;  // config.states order
  std::vector<std::unique_ptr<ModelInstance>> instances_;
  std::unique_ptr<SequenceStore> sequences_;
  ModelStats stats_;
  int64_t max_rows_ = 1;  // largest planned batch

  std::mutex mu_;  // guards queue_, stopping_, running_inline_
  std::condition_variable queue_cv_;
  std::condition_variable idle_cv_;
  std::deque<PendingRequest> queue_;
  bool stopping_ = false;
  bool stopped_ = false;
  int running_inline_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace softdpu::server
