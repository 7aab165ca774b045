// The transport-neutral core of `softdpu serve`: model repository, per-model schedulers (batch-1
// fast path, dynamic batching, sequences), statistics and metrics. The HTTP/REST front end
// (http_frontend.*) and the gRPC front end (grpc_frontend.*) translate the Open Inference Protocol
// (KServe v2) to and from these types and nothing else, so both transports behave identically:
// same validation, same error messages, same status codes (see status_to_http / the gRPC mapping).
//
// Threading: every method is thread-safe. infer() never blocks the caller on a model's execution
// when the request is queued: the completion callback runs on the worker thread that ran the
// batch (or on the caller's thread when the request is rejected before queueing, or when the
// batch-1 fast path runs it inline).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "softdpu/dtype.h"
#include "softdpu/status.h"
#include "softdpu/tensor.h"

namespace softdpu::server {

// Protocol datatype names ("FP32", "INT64", "BYTES", ...) <-> softdpu DType.
const char* datatype_name(DType t);
std::optional<DType> datatype_from_name(const std::string& name);

// Elements of a client's shape, or -1 if a dimension is negative or the count passes 2^40 (no
// message could hold them; a product left to overflow int64 could wrap to a count that matches
// an empty payload). Both codecs check shapes through it.
int64_t bounded_numel(const Shape& shape);

// HTTP status for a Status (400, 404, 413, 503, 504, 500 ...).
int status_to_http(const Status& st);

// One input tensor of a request. `data` holds the raw little-endian element bytes, row-major
// (the HTTP layer converts JSON arrays into this; binary extension data is copied in as is).
struct InputTensor {
  std::string name;
  std::string datatype;  // as the client sent it; validated by the server against the model
  Shape shape;
  std::string data;
};

struct RequestedOutput {
  std::string name;
  bool binary_data = false;  // REST binary extension: the HTTP layer reads it; the core ignores it
};

struct InferRequest {
  std::string model_name;
  std::string model_version;  // empty = the policy's latest ready version
  std::string id;             // echoed in the response
  std::vector<InputTensor> inputs;
  std::vector<RequestedOutput> outputs;  // empty = all outputs
  // Sequence extension (parameters sequence_id / sequence_start / sequence_end). A sequence_id
  // may be an unsigned integer or a string; 0 / "" means "not a sequence request".
  std::string sequence_id;
  bool sequence_start = false;
  bool sequence_end = false;
  // Per-request timeout (parameter "timeout", microseconds); 0 = none. Measured from arrival
  // until execution starts: a request still queued when it expires fails with kDeadlineExceeded.
  uint64_t timeout_us = 0;
  std::chrono::steady_clock::time_point arrival = std::chrono::steady_clock::now();
};

struct OutputTensor {
  std::string name;
  std::string datatype;
  Shape shape;
  std::string data;  // raw little-endian element bytes
};

struct InferResponse {
  std::string model_name;
  std::string model_version;
  std::string id;
  std::vector<OutputTensor> outputs;
};

using InferCallback = std::function<void(Status, InferResponse)>;

struct TensorMetadata {
  std::string name;
  std::string datatype;
  Shape shape;  // -1 for a variable dimension (the batch dimension when max_batch_size > 0)
};

struct ModelMetadata {
  std::string name;
  std::vector<std::string> versions;
  std::string platform = "softdpu_onnx";  // "softdpu_sdpu" for compiled models
  std::vector<TensorMetadata> inputs;
  std::vector<TensorMetadata> outputs;
};

// One row of the repository index (POST v2/repository/index).
struct RepositoryEntry {
  std::string name;
  std::string version;
  std::string state;   // "READY", "UNAVAILABLE", "LOADING", "UNLOADING"
  std::string reason;  // why a model is not READY (e.g. the load error)
};

struct ServerOptions {
  std::string model_repository;  // empty = the bundled models (models/ beside the binary or cwd)
  std::string control_mode = "none";  // none | poll | explicit
  // Explicit mode only: the models loaded at start ("*" = all). Empty = none, as Triton's
  // --model-control-mode=explicit without --load-model. An error in the other modes (they load
  // all).
  std::vector<std::string> startup_models;
  int poll_interval_ms = 1000;
  int threads = 0;  // default intra-op threads per instance when the model config sets none (0=1)
  size_t max_request_bytes = 64u << 20;
};

class InferenceServer {
 public:
  // Loads the repository (every model that loads is warmed up before ready() turns true; a
  // model that fails is listed in the index with its reason and the others serve).
  static Status create(const ServerOptions& options, std::unique_ptr<InferenceServer>* out);
  virtual ~InferenceServer() = default;

  virtual bool live() const = 0;
  virtual bool ready() const = 0;  // false once shutdown began
  virtual std::string server_name() const = 0;
  virtual std::string server_version() const = 0;
  virtual std::vector<std::string> extensions() const = 0;

  virtual Status model_ready(const std::string& name, const std::string& version,
                             bool* ready) const = 0;
  virtual Status model_metadata(const std::string& name, const std::string& version,
                                ModelMetadata* out) const = 0;
  // The model's configuration as JSON text (the repository config with defaults filled in).
  virtual Status model_config(const std::string& name, const std::string& version,
                              std::string* json) const = 0;
  // Statistics extension: JSON text with Triton's model_stats layout; empty name = all models.
  virtual Status model_statistics(const std::string& name, const std::string& version,
                                  std::string* json) const = 0;

  // Validates, then runs or queues. The callback is called exactly once.
  virtual void infer(InferRequest request, InferCallback done) = 0;

  // Repository extension.
  virtual std::vector<RepositoryEntry> repository_index() const = 0;
  virtual Status load_model(const std::string& name) = 0;    // kUnavailable unless explicit mode
  virtual Status unload_model(const std::string& name) = 0;  // kUnavailable unless explicit mode

  // Prometheus text exposition (docs/serving.md lists the names and labels).
  virtual std::string metrics_text() const = 0;

  // Readiness goes false and new requests get kUnavailable; returns when in-flight and queued
  // work has finished.
  virtual void shutdown() = 0;
};

}  // namespace softdpu::server
