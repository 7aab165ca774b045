// softdpu serve: the Open Inference Protocol (KServe v2) microservice over the model repository.
// HTTP/REST and /metrics here; gRPC when the gRPC front end is built in.
#include <sched.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "server/http_frontend.h"
#include "server/inference_server.h"
#ifdef SOFTDPU_HAVE_GRPC_FRONTEND
#include "server/grpc/grpc_frontend.h"
#endif

namespace softdpu::cli {
namespace {
struct ServeArgs {
  std::string repository;
  std::string address = "0.0.0.0";
  int http_port = 8000;
  int grpc_port = 8001;
  int metrics_port = 8002;
  int threads = 1;
  int http_threads = 0;
  int grpc_threads = 0;
  int busy_poll_us = 0;
  std::string control_mode = "none";
  std::vector<std::string> load_models;
  int poll_ms = 1000;
  size_t max_request_bytes = 64u << 20;
  int realtime_priority = 0;
};

// SCHED_FIFO for the whole process, set before any thread starts so that every thread (I/O,
// gRPC, model instances, intra-op pools) inherits it. At the default policy a server that shares
// its cores waits milliseconds behind other runnable tasks, and that is its p99 (docs/serving.md,
// "Real-time priority"). Asked for and refused is an error, not a quiet fallback: the operator
// would otherwise measure a tail they did not configure.
Status set_realtime_priority(int priority) {
  sched_param p{};
  p.sched_priority = priority;
  if (sched_setscheduler(0, SCHED_FIFO, &p) == 0) return Status::ok();
  const int e = errno;
  return Status(StatusCode::kInvalidArgument,
                "--realtime-priority " + std::to_string(priority) +
                    ": the kernel refused SCHED_FIFO (" + std::strerror(e) +
                    "); it needs root or CAP_SYS_NICE (Kubernetes: add SYS_NICE to the "
                    "container's securityContext.capabilities) and, under cgroup v1 real-time "
                    "group scheduling, a cpu.rt_runtime_us budget for the cgroup");
}

int serve(const ServeArgs& a) {
  // Block the stop signals before any thread starts, so every thread inherits the mask and the
  // main thread alone receives them through sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  if (a.realtime_priority > 0) {
    Status rt = set_realtime_priority(a.realtime_priority);
    if (!rt) return report(rt);
    std::cerr << "every thread at SCHED_FIFO priority " << a.realtime_priority << "\n";
  }

  server::ServerOptions so;
  so.model_repository = a.repository;
  so.control_mode = a.control_mode;
  so.startup_models = a.load_models;
  so.poll_interval_ms = a.poll_ms;
  so.threads = a.threads;
  so.max_request_bytes = a.max_request_bytes;
  std::unique_ptr<server::InferenceServer> core;
  Status st = server::InferenceServer::create(so, &core);
  if (!st) return report(st);
  for (const server::RepositoryEntry& e : core->repository_index()) {
    if (e.state == "READY")
      std::cerr << "model " << e.name << " version " << e.version << ": READY\n";
    else
      std::cerr << "model " << e.name << ": " << e.state << ": " << e.reason << "\n";
  }

  server::HttpOptions ho;
  ho.address = a.address;
  ho.port = a.http_port;
  ho.metrics_port = a.metrics_port;
  ho.threads = a.http_threads;
  ho.busy_poll_us = a.busy_poll_us;
  ho.max_request_bytes = a.max_request_bytes;
  std::unique_ptr<server::HttpFrontend> http;
  st = server::HttpFrontend::start(core.get(), ho, &http);
  if (!st) return report(st);
  std::cerr << "HTTP/REST on " << a.address << ":" << http->port() << ", metrics on " << a.address
            << ":" << http->metrics_port() << "/metrics\n";
#ifdef SOFTDPU_HAVE_GRPC_FRONTEND
  server::GrpcOptions go;
  go.address = a.address + ":" + std::to_string(a.grpc_port);
  go.max_message_bytes = static_cast<int>(std::min<size_t>(a.max_request_bytes, INT32_MAX));
  go.infer_threads = a.grpc_threads;
  go.busy_poll_us = a.busy_poll_us;
  std::unique_ptr<server::GrpcFrontend> grpc;
  st = server::GrpcFrontend::start(core.get(), go, &grpc);
  if (!st) return report(st);
  std::cerr << "gRPC on " << go.address << "\n";
#endif
  std::cerr << "ready (" << (core->ready() ? "true" : "false") << "); SIGTERM or Ctrl-C to stop"
            << std::endl;

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::cerr << "signal " << sig << ": readiness off, draining in-flight requests" << std::endl;
  core->shutdown();  // ready -> false, new requests refused, in-flight ones finish
#ifdef SOFTDPU_HAVE_GRPC_FRONTEND
  grpc->stop();
#endif
  http->stop();
  std::cerr << "stopped" << std::endl;
  return 0;
}
}  // namespace

void register_serve(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve a model repository over the Open Inference Protocol (KServe v2)");
  cmd->add_option("--model-repository", args->repository,
                  "DIR/<model>/config.json + DIR/<model>/<version>/model.onnx (default: the "
                  "bundled models/)");
  cmd->add_option("--address", args->address, "address to listen on")->capture_default_str();
  cmd->add_option("--http-port", args->http_port, "HTTP/REST port (0 = any free port)")
      ->capture_default_str();
  cmd->add_option("--grpc-port", args->grpc_port, "gRPC port")->capture_default_str();
  cmd->add_option("--metrics-port", args->metrics_port, "Prometheus /metrics port (-1 = off)")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads,
                  "intra-op threads per model instance when its config sets none")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option(
         "--http-threads", args->http_threads,
         "HTTP I/O threads (0 = one per CPU this process may run on); batch-1 requests run on them")
      ->capture_default_str();
  cmd->add_option("--grpc-threads", args->grpc_threads,
                  "gRPC ModelInfer threads (0 = one per CPU this process may run on); batch-1 "
                  "requests run on them")
      ->capture_default_str();
  cmd->add_option("--busy-poll-us", args->busy_poll_us,
                  "HTTP and gRPC threads poll without sleeping for this long after each event "
                  "(0 = off): lower latency at the cost of CPU")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--realtime-priority", args->realtime_priority,
                  "run every server thread at SCHED_FIFO with this priority (1-99; 0 = the "
                  "default policy): steady p99 on shared cores; needs root or CAP_SYS_NICE")
      ->capture_default_str()
      ->check(CLI::Range(0, 99));
  cmd->add_option("--model-control-mode", args->control_mode, "none | poll | explicit")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "poll", "explicit"}));
  cmd->add_option("--load-model", args->load_models,
                  "explicit mode: a model to load at start (repeatable; '*' = all); without it "
                  "explicit mode starts with no model loaded");
  cmd->add_option("--poll-interval-ms", args->poll_ms, "repository poll interval (poll mode)")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600000));
  cmd->add_option("--max-request-bytes", args->max_request_bytes,
                  "largest request body accepted (413 above)")
      ->capture_default_str();
  cmd->callback([args, run] { *run = [args] { return serve(*args); }; });
}

}  // namespace softdpu::cli
