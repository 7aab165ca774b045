// HTTP/REST front end of `softdpu serve` (Boost.Beast): every KServe v2 REST endpoint, the binary
// tensor extension, sequence and timeout parameters, keep-alive, a request body limit (413), and
// an optional second listener that serves only GET /metrics (Prometheus text).
//
// Threads: `threads` I/O threads, each running its own io_context; connections are spread over
// them round-robin and stay on one thread (no cross-thread wake-ups per request). A batch-1
// request to an idle model instance runs on the I/O thread that read it (no hand-off); queued
// requests complete on a model worker and the response is posted back to the connection.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "server/inference_server.h"

namespace softdpu::server {

struct HttpOptions {
  std::string address = "0.0.0.0";
  int port = 8000;          // 0 = pick a free port (tests)
  int metrics_port = 8002;  // -1 = no metrics listener; 0 = pick a free port
  int threads = 0;          // I/O threads; 0 = hardware concurrency
  size_t max_request_bytes = 64u << 20;
  // After each event an I/O thread keeps polling its sockets without blocking for this long
  // before it sleeps in epoll (0 = never spin). A request arriving within the window needs no
  // wake-up of the server thread, which on a VM costs tens of microseconds (docs/serving.md).
  int busy_poll_us = 0;
};

class HttpFrontend {
 public:
  // Starts serving `core` (not owned; must outlive the front end). *out is null on failure.
  static Status start(InferenceServer* core, const HttpOptions& options,
                      std::unique_ptr<HttpFrontend>* out);
  virtual ~HttpFrontend() = default;
  virtual int port() const = 0;
  virtual int metrics_port() const = 0;  // -1 without a metrics listener
  // Stops accepting, closes connections and joins the I/O threads.
  virtual void stop() = 0;
};

}  // namespace softdpu::server
