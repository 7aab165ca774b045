// gRPC front end: inference.GRPCInferenceService over server::InferenceServer.
//
// API choice, measured (docs/serving-grpc.md, "Why the async API for ModelInfer"): unary
// ModelInfer, the batch-1 hot path, uses the completion-queue async API with our own polling
// threads; the other RPCs (metadata, config, statistics, repository, the bidirectional stream)
// use the sync API, which is simpler and whose cost does not matter there. A no-op core answered
// a closed loop at concurrency 1 with p50 81 us through the CQ async API, 95 us through the sync
// API and 105 us through the callback API (medians of 5 interleaved runs on this 2-core box):
// with the async API the thread that polls the socket decodes the request, runs the core's inline
// fast path and issues Finish, with no hand-off to another thread. Registering even one callback
// method costs the async path that hop again (gRPC then polls from its callback threads), hence
// sync rather than callback for the rest.
#include "server/grpc/grpc_frontend.h"

#include <absl/synchronization/mutex.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/cpu_count.h"
#include "grpc_predict_v2.grpc.pb.h"
#include "server/grpc/grpc_infer_codec.h"
#include "server/grpc/grpc_status.h"

namespace softdpu::server {
namespace {

namespace pb = ::inference;

// Triton's DataType enum value for a protocol datatype name.
pb::DataType config_data_type(const std::string& name) {
  static const struct {
    const char* name;
    pb::DataType type;
  } kTable[] = {
      {"BOOL", pb::TYPE_BOOL},     {"UINT8", pb::TYPE_UINT8},   {"UINT16", pb::TYPE_UINT16},
      {"UINT32", pb::TYPE_UINT32}, {"UINT64", pb::TYPE_UINT64}, {"INT8", pb::TYPE_INT8},
      {"INT16", pb::TYPE_INT16},   {"INT32", pb::TYPE_INT32},   {"INT64", pb::TYPE_INT64},
      {"FP16", pb::TYPE_FP16},     {"FP32", pb::TYPE_FP32},     {"FP64", pb::TYPE_FP64},
      {"BYTES", pb::TYPE_STRING},  {"BF16", pb::TYPE_BF16}};
  for (const auto& row : kTable) {
    if (name == row.name) return row.type;
  }
  return pb::TYPE_INVALID;
}

class GrpcFrontendImpl;

// ModelInfer through the async API, the other RPCs through the sync API (they are rare, or, for
// the stream, long-lived). Not the callback API: registering any callback method makes gRPC 1.51
// poll the sockets from its own callback threads, which put the hop back into the async path
// (measured: p50 +20 us at concurrency 1).
using ServiceBase =
    pb::GRPCInferenceService::WithAsyncMethod_ModelInfer<pb::GRPCInferenceService::Service>;
using StreamIO = grpc::ServerReaderWriter<pb::ModelStreamInferResponse, pb::ModelInferRequest>;

// One unary ModelInfer call. Its address is the completion-queue tag of both of its events: the
// call's arrival, then (finished == true) the completion of Finish.
struct UnaryInferCall {
  grpc::ServerContext ctx;
  pb::ModelInferRequest request;
  pb::ModelInferResponse response;
  grpc::ServerAsyncResponseWriter<pb::ModelInferResponse> writer{&ctx};
  bool finished = false;
};

class GrpcFrontendImpl final : public GrpcFrontend, public ServiceBase {
 public:
  explicit GrpcFrontendImpl(InferenceServer* core) : core_(core) {}
  ~GrpcFrontendImpl() override { stop(0); }

  Status start(const GrpcOptions& options) {
    // Debian builds absl without NDEBUG, so every absl::Mutex lock inside gRPC also maintained
    // a lock-order graph for deadlock detection: 5% of a null server's CPU per RPC
    // (GraphCycles::GetId and Mutex::Lock, perf). gRPC's locking is not ours to debug here.
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(), &port_);
    // gRPC turns SO_REUSEPORT on by default on Linux: a second server would then share the port
    // silently instead of failing to bind.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    // Channelz (per-call counters and timestamps for a debugging service we do not register):
    // off. Not GRPC_ARG_MINIMAL_STACK, though it saves a few us more: it also drops the
    // message-size filter, and with it the RESOURCE_EXHAUSTED refusal of over-size requests.
    builder.AddChannelArgument(GRPC_ARG_ENABLE_CHANNELZ, 0);
    // Over-size requests are refused by gRPC before they are parsed, with RESOURCE_EXHAUSTED.
    builder.SetMaxReceiveMessageSize(options.max_message_bytes);
    builder.SetMaxSendMessageSize(-1);
    builder.RegisterService(this);
    int threads = options.infer_threads > 0 ? options.infer_threads : usable_cpu_count();
    for (int i = 0; i < threads; ++i) queues_.push_back(builder.AddCompletionQueue());
    server_ = builder.BuildAndStart();
    if (!server_ || port_ == 0) {
      server_.reset();
      return {StatusCode::kIoError, "gRPC: cannot listen on " + options.address};
    }
    busy_poll_ = std::chrono::microseconds(options.busy_poll_us);
    for (auto& q : queues_) {
      threads_.emplace_back([this, cq = q.get()] { serve_infer(cq); });
    }
    return Status::ok();
  }

  int port() const override { return port_; }

  void stop(int deadline_ms) override {
    std::call_once(stopped_, [&] {
      if (!server_) return;
      {
        std::lock_guard<std::mutex> lock(infer_mu_);
        no_more_accepts_ = true;
      }
      stopping_.store(true);
      {
        // Streams waiting for the client's next request are cancelled; one running a request
        // finishes it and then ends with UNAVAILABLE (ModelStreamInfer checks stopping_).
        std::lock_guard<std::mutex> lock(streams_mu_);
        for (grpc::ServerContext* ctx : idle_streams_) ctx->TryCancel();
      }
      // Refuses new calls, lets running ones finish until the deadline, then cancels the rest.
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
      // A completion queue may only be shut down when nothing will start an operation on it any
      // more: every posted accept has come back and every accepted call's Finish has completed
      // (the core calls back exactly once, so in-flight calls do end).
      {
        std::unique_lock<std::mutex> lock(infer_mu_);
        infer_cv_.wait(lock, [&] { return accepts_ == 0 && inflight_ == 0; });
      }
      for (auto& q : queues_) q->Shutdown();
      for (auto& t : threads_) t.join();
    });
  }

  // ---- GRPCInferenceService ---------------------------------------------------------------

  grpc::Status ServerLive(grpc::ServerContext*, const pb::ServerLiveRequest*,
                          pb::ServerLiveResponse* resp) override {
    resp->set_live(core_->live());
    return grpc::Status::OK;
  }

  grpc::Status ServerReady(grpc::ServerContext*, const pb::ServerReadyRequest*,
                           pb::ServerReadyResponse* resp) override {
    resp->set_ready(core_->ready());
    return grpc::Status::OK;
  }

  grpc::Status ModelReady(grpc::ServerContext*, const pb::ModelReadyRequest* req,
                          pb::ModelReadyResponse* resp) override {
    bool ready = false;
    Status st = core_->model_ready(req->name(), req->version(), &ready);
    resp->set_ready(st.is_ok() && ready);
    return to_grpc_status(st);
  }

  grpc::Status ServerMetadata(grpc::ServerContext*, const pb::ServerMetadataRequest*,
                              pb::ServerMetadataResponse* resp) override {
    resp->set_name(core_->server_name());
    resp->set_version(core_->server_version());
    for (const std::string& e : core_->extensions()) resp->add_extensions(e);
    return grpc::Status::OK;
  }

  grpc::Status ModelMetadata(grpc::ServerContext*, const pb::ModelMetadataRequest* req,
                             pb::ModelMetadataResponse* resp) override {
    server::ModelMetadata md;
    Status st = core_->model_metadata(req->name(), req->version(), &md);
    if (st) {
      resp->set_name(md.name);
      for (const std::string& v : md.versions) resp->add_versions(v);
      resp->set_platform(md.platform);
      auto fill = [](const TensorMetadata& t, pb::ModelMetadataResponse::TensorMetadata* dst) {
        dst->set_name(t.name);
        dst->set_datatype(t.datatype);
        for (int64_t d : t.shape) dst->add_shape(d);
      };
      for (const auto& t : md.inputs) fill(t, resp->add_inputs());
      for (const auto& t : md.outputs) fill(t, resp->add_outputs());
    }
    return to_grpc_status(st);
  }

  // Requests of one stream are served one at a time, in arrival order: read one, run it, write
  // its response, then read the next. Sequence requests (the streaming use) must run in order
  // anyway, and a client wanting more parallelism opens more streams. A failed request is
  // answered with error_message and the stream stays open.
  grpc::Status ModelStreamInfer(grpc::ServerContext* ctx, StreamIO* stream) override {
    pb::ModelInferRequest request;
    pb::ModelStreamInferResponse response;
    grpc::Status end = grpc::Status::OK;
    for (;;) {
      if (!set_stream_idle(ctx, true)) {
        end = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down");
        break;
      }
      if (!stream->Read(&request)) break;  // the client closed its side, or the call ended
      set_stream_idle(ctx, false);
      response.Clear();
      InferRequest decoded;
      Status st = decode_infer_request(&request, &decoded);
      if (st) st = infer_and_wait(std::move(decoded), response.mutable_infer_response());
      if (!st) {
        // The id and model name let a client match the error to the request it sent.
        response.Clear();
        response.set_error_message(st.message());
        response.mutable_infer_response()->set_id(request.id());
        response.mutable_infer_response()->set_model_name(request.model_name());
      }
      if (!stream->Write(response)) break;
    }
    std::lock_guard<std::mutex> lock(streams_mu_);
    idle_streams_.erase(ctx);
    return end;
  }

  // Decision (docs/serving-grpc.md): Triton's ModelConfig subset that the metadata determines,
  // plus the core's full configuration as JSON text in parameters["softdpu_config_json"].
  grpc::Status ModelConfig(grpc::ServerContext*, const pb::ModelConfigRequest* req,
                           pb::ModelConfigResponse* resp) override {
    std::string json;
    Status st = core_->model_config(req->name(), req->version(), &json);
    server::ModelMetadata md;
    if (st) st = core_->model_metadata(req->name(), req->version(), &md);
    if (!st) return to_grpc_status(st);

    pb::ModelConfig* cfg = resp->mutable_config();
    cfg->set_name(md.name);
    cfg->set_platform(md.platform);
    cfg->set_backend("softdpu");
    int max_batch = 0;
    const nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.contains("max_batch_size") &&
        parsed["max_batch_size"].is_number_integer()) {
      max_batch = parsed["max_batch_size"].get<int>();
    }
    cfg->set_max_batch_size(max_batch);
    // Triton's config dims leave out the batch dimension when the model batches.
    auto dims = [max_batch](const Shape& shape, auto* dst) {
      size_t first = (max_batch > 0 && !shape.empty() && shape[0] == -1) ? 1 : 0;
      for (size_t i = first; i < shape.size(); ++i) dst->add_dims(shape[i]);
    };
    for (const auto& t : md.inputs) {
      pb::ModelInput* in = cfg->add_input();
      in->set_name(t.name);
      in->set_data_type(config_data_type(t.datatype));
      dims(t.shape, in);
    }
    for (const auto& t : md.outputs) {
      pb::ModelOutput* out = cfg->add_output();
      out->set_name(t.name);
      out->set_data_type(config_data_type(t.datatype));
      dims(t.shape, out);
    }
    (*cfg->mutable_parameters())["softdpu_config_json"].set_string_value(std::move(json));
    return grpc::Status::OK;
  }

  // The core writes Triton's model_stats JSON layout, which is the protobuf JSON mapping of
  // ModelStatisticsResponse: parse it into the message instead of copying field by field.
  grpc::Status ModelStatistics(grpc::ServerContext*, const pb::ModelStatisticsRequest* req,
                               pb::ModelStatisticsResponse* resp) override {
    std::string json;
    Status st = core_->model_statistics(req->name(), req->version(), &json);
    if (!st) return to_grpc_status(st);
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;  // fields newer than our .proto
    auto parsed = google::protobuf::util::JsonStringToMessage(json, resp, options);
    if (!parsed.ok()) {
      resp->Clear();
      return grpc::Status(
          grpc::StatusCode::INTERNAL,
          "statistics JSON does not have the model_stats layout: " + std::string(parsed.message()));
    }
    return grpc::Status::OK;
  }

  grpc::Status RepositoryIndex(grpc::ServerContext*, const pb::RepositoryIndexRequest* req,
                               pb::RepositoryIndexResponse* resp) override {
    for (const RepositoryEntry& e : core_->repository_index()) {
      if (req->ready() && e.state != "READY") continue;
      auto* m = resp->add_models();
      m->set_name(e.name);
      m->set_version(e.version);
      m->set_state(e.state);
      m->set_reason(e.reason);
    }
    return grpc::Status::OK;
  }

  grpc::Status RepositoryModelLoad(grpc::ServerContext*, const pb::RepositoryModelLoadRequest* req,
                                   pb::RepositoryModelLoadResponse*) override {
    if (!req->parameters().empty()) {
      // Triton's config override and in-request model files: softdpu loads from its repository.
      return to_grpc_status({StatusCode::kUnsupported,
                             "RepositoryModelLoad: parameters (config override, model files) are "
                             "not supported; load reads the model repository"});
    }
    return to_grpc_status(core_->load_model(req->model_name()));
  }

  grpc::Status RepositoryModelUnload(grpc::ServerContext*,
                                     const pb::RepositoryModelUnloadRequest* req,
                                     pb::RepositoryModelUnloadResponse*) override {
    return to_grpc_status(core_->unload_model(req->model_name()));
  }

 private:
  // Marks a stream as waiting for its client (idle) or running a request. Returns false when the
  // server is stopping and an idle stream should end instead of reading on.
  bool set_stream_idle(grpc::ServerContext* ctx, bool idle) {
    std::lock_guard<std::mutex> lock(streams_mu_);
    if (!idle) {
      idle_streams_.erase(ctx);
      return true;
    }
    if (stopping_.load()) return false;
    idle_streams_.insert(ctx);
    return true;
  }

  // The stream's synchronous wait for one inference (this is a gRPC sync-API thread).
  Status infer_and_wait(InferRequest request, pb::ModelInferResponse* out) {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Status> result;
    core_->infer(std::move(request), [&](Status st, InferResponse response) {
      if (st) encode_infer_response(std::move(response), out);
      std::lock_guard<std::mutex> lock(mu);
      result = std::move(st);
      cv.notify_one();
    });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return result.has_value(); });
    return *result;
  }

  // Posts one accept for the next ModelInfer on `cq`. Caller holds infer_mu_.
  void post_accept(grpc::ServerCompletionQueue* cq) {
    if (no_more_accepts_) return;
    auto* call = new UnaryInferCall;
    ++accepts_;
    RequestModelInfer(&call->ctx, &call->request, &call->writer, cq, cq, call);
  }

  // The loop of one ModelInfer thread: take the next event of its queue and act on it.
  // cq->Next, preceded by busy_poll_ of non-blocking polls (GrpcOptions::busy_poll_us).
  bool next_event(grpc::ServerCompletionQueue* cq, void** tag, bool* ok) {
    if (busy_poll_.count() > 0) {
      const auto until = std::chrono::steady_clock::now() + busy_poll_;
      const gpr_timespec now = gpr_time_0(GPR_CLOCK_MONOTONIC);
      do {
        switch (cq->AsyncNext(tag, ok, now)) {
          case grpc::CompletionQueue::GOT_EVENT: return true;
          case grpc::CompletionQueue::SHUTDOWN: return false;
          case grpc::CompletionQueue::TIMEOUT: break;
        }
      } while (std::chrono::steady_clock::now() < until);
    }
    return cq->Next(tag, ok);
  }

  void serve_infer(grpc::ServerCompletionQueue* cq) {
    // A few accepts posted per queue, so a burst of calls does not wait for a re-post.
    constexpr int kAcceptsPerQueue = 4;
    {
      std::lock_guard<std::mutex> lock(infer_mu_);
      for (int i = 0; i < kAcceptsPerQueue; ++i) post_accept(cq);
    }
    void* tag = nullptr;
    bool ok = false;
    while (next_event(cq, &tag, &ok)) {
      auto* call = static_cast<UnaryInferCall*>(tag);
      if (call->finished) {  // Finish completed (ok or not): the call is over
        delete call;
        std::lock_guard<std::mutex> lock(infer_mu_);
        if (--inflight_ == 0) infer_cv_.notify_all();
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(infer_mu_);
        --accepts_;
        if (ok) {
          ++inflight_;
          post_accept(cq);  // replace the accept this call used
        }
        if (accepts_ == 0 && inflight_ == 0) infer_cv_.notify_all();
      }
      if (!ok) {  // the server is shutting down: the accept was cancelled
        delete call;
        continue;
      }
      start_infer(call);
    }
  }

  // Decodes the request and hands it to the core; the core's callback (inline on this thread
  // for the fast path, or on a core worker) issues Finish.
  void start_infer(UnaryInferCall* call) {
    InferRequest request;
    if (Status st = decode_infer_request(&call->request, &request); !st) {
      call->finished = true;
      call->writer.FinishWithError(to_grpc_status(st), call);
      return;
    }
    core_->infer(std::move(request), [call](Status st, InferResponse result) {
      call->finished = true;
      if (st) {
        encode_infer_response(std::move(result), &call->response);
        call->writer.Finish(call->response, grpc::Status::OK, call);
      } else {
        call->writer.FinishWithError(to_grpc_status(st), call);
      }
    });
  }

  std::chrono::microseconds busy_poll_{0};
  InferenceServer* core_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::once_flag stopped_;
  std::mutex streams_mu_;
  std::set<grpc::ServerContext*> idle_streams_;
  std::mutex infer_mu_;
  std::condition_variable infer_cv_;
  int accepts_ = 0;   // accepts posted and not yet returned by their queue
  int inflight_ = 0;  // accepted ModelInfer calls whose Finish has not completed
  bool no_more_accepts_ = false;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  std::vector<std::thread> threads_;
  // Declared last, destroyed first: the server must go before its queues and the service.
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace

Status GrpcFrontend::start(InferenceServer* core, const GrpcOptions& options,
                           std::unique_ptr<GrpcFrontend>* out) {
  out->reset();
  if (core == nullptr) return {StatusCode::kInvalidArgument, "gRPC front end: no inference server"};
  if (options.max_message_bytes <= 0) {
    return {StatusCode::kInvalidArgument,
            "gRPC front end: max_message_bytes must be positive, got " +
                std::to_string(options.max_message_bytes)};
  }
  auto impl = std::make_unique<GrpcFrontendImpl>(core);
  if (Status st = impl->start(options); !st) return st;
  *out = std::move(impl);
  return Status::ok();
}

}  // namespace softdpu::server
