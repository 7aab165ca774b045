// softdpu_grpc_null_server: the gRPC front end over a core that does no work, to measure what the
// transport itself adds (docs/serving-grpc.md, "Transport overhead"). It serves one model,
// "identity" (input INPUT0, FP32 [1, N]; output OUTPUT0 = INPUT0), answered inline as the real
// core's batch-1 fast path does, so every microsecond measured by softdpu_grpc_load against it is
// gRPC, protobuf and loopback TCP.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <thread>

#include "server/grpc/grpc_frontend.h"
#include "server/inference_server.h"

namespace {

using namespace softdpu;
using namespace softdpu::server;

class NullCore final : public InferenceServer {
 public:
  explicit NullCore(int64_t n) : n_(n) {}
  bool live() const override { return true; }
  bool ready() const override { return true; }
  std::string server_name() const override { return "softdpu-null"; }
  std::string server_version() const override { return "0"; }
  std::vector<std::string> extensions() const override { return {}; }
  Status model_ready(const std::string& name, const std::string&, bool* ready) const override {
    *ready = name == "identity";
    return Status::ok();
  }
  Status model_metadata(const std::string& name, const std::string&,
                        ModelMetadata* out) const override {
    if (name != "identity") return {StatusCode::kNotFound, "unknown model '" + name + "'"};
    out->name = name;
    out->versions = {"1"};
    out->inputs = {{"INPUT0", "FP32", {1, n_}}};
    out->outputs = {{"OUTPUT0", "FP32", {1, n_}}};
    return Status::ok();
  }
  Status model_config(const std::string&, const std::string&, std::string* json) const override {
    *json = "{}";
    return Status::ok();
  }
  Status model_statistics(const std::string&, const std::string&,
                          std::string* json) const override {
    *json = R"({"model_stats":[]})";
    return Status::ok();
  }
  void infer(InferRequest r, InferCallback done) override {
    if (r.model_name != "identity" || r.inputs.size() != 1) {
      done({StatusCode::kInvalidArgument, "identity takes one input"}, {});
      return;
    }
    InferResponse resp;
    resp.model_name = r.model_name;
    resp.id = r.id;
    resp.outputs.push_back({"OUTPUT0", "FP32", r.inputs[0].shape, std::move(r.inputs[0].data)});
    done(Status::ok(), std::move(resp));
  }
  std::vector<RepositoryEntry> repository_index() const override {
    return {{"identity", "1", "READY", ""}};
  }
  Status load_model(const std::string&) override { return Status::ok(); }
  Status unload_model(const std::string&) override { return Status::ok(); }
  std::string metrics_text() const override { return ""; }
  void shutdown() override {}

 private:
  int64_t n_;
};

volatile std::sig_atomic_t g_stop = 0;

}  // namespace

int main(int argc, char** argv) {
  std::string address = "127.0.0.1:8001";
  int64_t n = 784;
  CLI::App app{"gRPC front end over a no-op core (transport overhead measurement)"};
  app.add_option("--address", address, "listen host:port")->capture_default_str();
  app.add_option("-n,--elements", n, "elements of the identity model's FP32 [1, N] tensor")
      ->capture_default_str();
  int threads = 0;
  app.add_option("--threads", threads, "ModelInfer threads (GrpcOptions::infer_threads)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  NullCore core(n);
  std::unique_ptr<GrpcFrontend> frontend;
  GrpcOptions options;
  options.address = address;
  options.infer_threads = threads;
  if (Status st = GrpcFrontend::start(&core, options, &frontend); !st) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    return 1;
  }
  std::printf("listening on port %d\n", frontend->port());
  std::fflush(stdout);
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  frontend->stop();
  return 0;
}
