// gRPC front end of `softdpu serve`: the Open Inference Protocol's GRPCInferenceService
// (inference.GRPCInferenceService, our own .proto written to the public spec's field numbers),
// translated to and from server::InferenceServer. Unary ModelInfer and the bidirectional
// ModelStreamInfer (the sequence / decoupled streaming use) are both served.
#pragma once

#include <memory>
#include <string>

#include "server/inference_server.h"
#include "softdpu/status.h"

namespace softdpu::server {

struct GrpcOptions {
  std::string address = "0.0.0.0:8001";  // port 0 = pick a free port (tests)
  int max_message_bytes = 64 << 20;
  // Threads serving unary ModelInfer, each polling its own completion queue (the batch-1 fast path
  // runs on them). 0 = one per hardware thread.
  int infer_threads = 0;
  // After each event a ModelInfer thread keeps polling its completion queue without blocking for
  // this long before it sleeps (0 = never spin); see HttpOptions::busy_poll_us.
  int busy_poll_us = 0;
};

class GrpcFrontend {
 public:
  // Starts serving `core` (not owned; must outlive the front end). *out is null on failure.
  static Status start(InferenceServer* core, const GrpcOptions& options,
                      std::unique_ptr<GrpcFrontend>* out);
  virtual ~GrpcFrontend() = default;
  virtual int port() const = 0;  // the bound port
  // Stops accepting calls and waits for in-flight ones (bounded by `deadline_ms`).
  virtual void stop(int deadline_ms = 5000) = 0;
};

}  // namespace softdpu::server
