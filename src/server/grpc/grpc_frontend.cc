// gRPC front end: inference.GRPCInferenceService over server::InferenceServer.
//
// Why the callback API (grpc::CallbackService) and not the completion-queue async API or the
// sync API: at batch 1 the cost that matters is thread hops. The sync API hands every call to a
// gRPC-managed thread pool and blocks that thread while the core runs; the CQ async API needs our
// own threads spinning on CompletionQueue::Next, which on a 2-core box compete with the model's
// worker threads, and every Finish goes back through a queue round trip. With the callback API
// the handler runs on the gRPC thread that read and decoded the message, the core's batch-1 fast
// path runs inline in it, and Finish is issued from whichever thread produced the result (that
// poller thread, or the core's worker) with no further queue hop. It also keeps the
// bidirectional stream a small reactor instead of a hand-written tag state machine.
#include "server/grpc/grpc_frontend.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "grpc_predict_v2.grpc.pb.h"
#include "server/grpc/grpc_infer_codec.h"
#include "server/grpc/grpc_status.h"

namespace softdpu::server {
namespace {

namespace pb = ::inference;
using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

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

// Finishes a unary call at once (the metadata RPCs: the core answers them without queueing).
ServerUnaryReactor* finish_now(CallbackServerContext* ctx, const Status& st) {
  ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(to_grpc_status(st));
  return reactor;
}

class GrpcFrontendImpl;

// One ModelStreamInfer call. Requests are served one at a time, in arrival order: read one,
// run it, write its response, then read the next. Sequence requests (the streaming use) must run
// in order anyway, and a client wanting more parallelism opens more streams. A failed request is
// answered with error_message and the stream stays open.
class StreamReactor
    : public grpc::ServerBidiReactor<pb::ModelInferRequest, pb::ModelStreamInferResponse> {
 public:
  StreamReactor(GrpcFrontendImpl* owner, CallbackServerContext* ctx);
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;
  // Server shutdown: cancels the stream if it waits for the client's next request; a stream
  // that is running one finishes it and then ends with UNAVAILABLE.
  void interrupt_if_idle();

 private:
  void reply(const Status& st, InferResponse&& response, const std::string& request_id,
             const std::string& model_name);

  GrpcFrontendImpl* owner_;
  CallbackServerContext* ctx_;
  pb::ModelInferRequest request_;
  pb::ModelStreamInferResponse response_;
  std::mutex mu_;
  bool busy_ = false;  // a request has been read and its response is not yet written
};

class GrpcFrontendImpl final : public GrpcFrontend,
                               public pb::GRPCInferenceService::CallbackService {
 public:
  explicit GrpcFrontendImpl(InferenceServer* core) : core_(core) {}
  ~GrpcFrontendImpl() override { stop(0); }

  Status start(const GrpcOptions& options) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(), &port_);
    // gRPC turns SO_REUSEPORT on by default on Linux: a second server would then share the port
    // silently instead of failing to bind.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    // Over-size requests are refused by gRPC before they are parsed, with RESOURCE_EXHAUSTED.
    builder.SetMaxReceiveMessageSize(options.max_message_bytes);
    builder.SetMaxSendMessageSize(-1);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    if (!server_ || port_ == 0) {
      server_.reset();
      return {StatusCode::kIoError, "gRPC: cannot listen on " + options.address};
    }
    return Status::ok();
  }

  int port() const override { return port_; }

  void stop(int deadline_ms) override {
    std::call_once(stopped_, [&] {
      if (!server_) return;
      stopping_.store(true);
      {
        std::lock_guard<std::mutex> lock(streams_mu_);
        for (StreamReactor* s : streams_) s->interrupt_if_idle();
      }
      // Refuses new calls, lets running ones finish until the deadline, then cancels the rest.
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
    });
  }

  InferenceServer* core() const { return core_; }
  bool stopping() const { return stopping_.load(); }
  void add_stream(StreamReactor* s) {
    std::lock_guard<std::mutex> lock(streams_mu_);
    streams_.insert(s);
  }
  void remove_stream(StreamReactor* s) {
    std::lock_guard<std::mutex> lock(streams_mu_);
    streams_.erase(s);
  }

  // ---- GRPCInferenceService ---------------------------------------------------------------

  ServerUnaryReactor* ServerLive(CallbackServerContext* ctx, const pb::ServerLiveRequest*,
                                 pb::ServerLiveResponse* resp) override {
    resp->set_live(core_->live());
    return finish_now(ctx, Status::ok());
  }

  ServerUnaryReactor* ServerReady(CallbackServerContext* ctx, const pb::ServerReadyRequest*,
                                  pb::ServerReadyResponse* resp) override {
    resp->set_ready(core_->ready());
    return finish_now(ctx, Status::ok());
  }

  ServerUnaryReactor* ModelReady(CallbackServerContext* ctx, const pb::ModelReadyRequest* req,
                                 pb::ModelReadyResponse* resp) override {
    bool ready = false;
    Status st = core_->model_ready(req->name(), req->version(), &ready);
    resp->set_ready(st.is_ok() && ready);
    return finish_now(ctx, st);
  }

  ServerUnaryReactor* ServerMetadata(CallbackServerContext* ctx, const pb::ServerMetadataRequest*,
                                     pb::ServerMetadataResponse* resp) override {
    resp->set_name(core_->server_name());
    resp->set_version(core_->server_version());
    for (const std::string& e : core_->extensions()) resp->add_extensions(e);
    return finish_now(ctx, Status::ok());
  }

  ServerUnaryReactor* ModelMetadata(CallbackServerContext* ctx, const pb::ModelMetadataRequest* req,
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
    return finish_now(ctx, st);
  }

  ServerUnaryReactor* ModelInfer(CallbackServerContext* ctx, const pb::ModelInferRequest* req,
                                 pb::ModelInferResponse* resp) override {
    ServerUnaryReactor* reactor = ctx->DefaultReactor();
    InferRequest request;
    if (Status st = decode_infer_request(*req, &request); !st) {
      reactor->Finish(to_grpc_status(st));
      return reactor;
    }
    // `resp` stays valid until Finish: gRPC calls OnDone (and frees it) only after that.
    core_->infer(std::move(request), [reactor, resp](Status st, InferResponse result) {
      if (st) encode_infer_response(std::move(result), resp);
      reactor->Finish(to_grpc_status(st));
    });
    return reactor;
  }

  grpc::ServerBidiReactor<pb::ModelInferRequest, pb::ModelStreamInferResponse>* ModelStreamInfer(
      CallbackServerContext* ctx) override {
    return new StreamReactor(this, ctx);  // deletes itself in OnDone
  }

  // Decision (docs/serving-grpc.md): Triton's ModelConfig subset that the metadata determines,
  // plus the core's full configuration as JSON text in parameters["softdpu_config_json"].
  ServerUnaryReactor* ModelConfig(CallbackServerContext* ctx, const pb::ModelConfigRequest* req,
                                  pb::ModelConfigResponse* resp) override {
    std::string json;
    Status st = core_->model_config(req->name(), req->version(), &json);
    server::ModelMetadata md;
    if (st) st = core_->model_metadata(req->name(), req->version(), &md);
    if (!st) return finish_now(ctx, st);

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
    return finish_now(ctx, Status::ok());
  }

  // The core writes Triton's model_stats JSON layout, which is the protobuf JSON mapping of
  // ModelStatisticsResponse: parse it into the message instead of copying field by field.
  ServerUnaryReactor* ModelStatistics(CallbackServerContext* ctx,
                                      const pb::ModelStatisticsRequest* req,
                                      pb::ModelStatisticsResponse* resp) override {
    std::string json;
    Status st = core_->model_statistics(req->name(), req->version(), &json);
    if (!st) return finish_now(ctx, st);
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;  // fields newer than our .proto
    auto parsed = google::protobuf::util::JsonStringToMessage(json, resp, options);
    if (!parsed.ok()) {
      resp->Clear();
      return finish_now(
          ctx, {StatusCode::kInternal, "statistics JSON does not have the model_stats layout: " +
                                           std::string(parsed.message())});
    }
    return finish_now(ctx, Status::ok());
  }

  ServerUnaryReactor* RepositoryIndex(CallbackServerContext* ctx,
                                      const pb::RepositoryIndexRequest* req,
                                      pb::RepositoryIndexResponse* resp) override {
    for (const RepositoryEntry& e : core_->repository_index()) {
      if (req->ready() && e.state != "READY") continue;
      auto* m = resp->add_models();
      m->set_name(e.name);
      m->set_version(e.version);
      m->set_state(e.state);
      m->set_reason(e.reason);
    }
    return finish_now(ctx, Status::ok());
  }

  ServerUnaryReactor* RepositoryModelLoad(CallbackServerContext* ctx,
                                          const pb::RepositoryModelLoadRequest* req,
                                          pb::RepositoryModelLoadResponse*) override {
    if (!req->parameters().empty()) {
      // Triton's config override and in-request model files: softdpu loads from its repository.
      return finish_now(ctx, {StatusCode::kUnsupported,
                              "RepositoryModelLoad: parameters (config override, model files) are "
                              "not supported; load reads the model repository"});
    }
    return finish_now(ctx, core_->load_model(req->model_name()));
  }

  ServerUnaryReactor* RepositoryModelUnload(CallbackServerContext* ctx,
                                            const pb::RepositoryModelUnloadRequest* req,
                                            pb::RepositoryModelUnloadResponse*) override {
    return finish_now(ctx, core_->unload_model(req->model_name()));
  }

 private:
  InferenceServer* core_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::once_flag stopped_;
  std::mutex streams_mu_;
  std::set<StreamReactor*> streams_;
  // Declared last, destroyed first: the server must go before the service it calls into.
  std::unique_ptr<grpc::Server> server_;
};

StreamReactor::StreamReactor(GrpcFrontendImpl* owner, CallbackServerContext* ctx)
    : owner_(owner), ctx_(ctx) {
  owner_->add_stream(this);
  StartRead(&request_);
}

void StreamReactor::OnReadDone(bool ok) {
  if (!ok) {  // the client closed its side (or the call was cancelled): nothing is in flight
    Finish(grpc::Status::OK);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    busy_ = true;
  }
  InferRequest request;
  if (Status st = decode_infer_request(request_, &request); !st) {
    reply(st, InferResponse{}, request_.id(), request_.model_name());
    return;
  }
  std::string id = request_.id(), model = request_.model_name();
  owner_->core()->infer(std::move(request), [this, id = std::move(id), model = std::move(model)](
                                                Status st, InferResponse result) {
    reply(st, std::move(result), id, model);
  });
}

void StreamReactor::reply(const Status& st, InferResponse&& result, const std::string& request_id,
                          const std::string& model_name) {
  response_.Clear();
  if (st) {
    encode_infer_response(std::move(result), response_.mutable_infer_response());
  } else {
    // The id and model name let a client match the error to the request it sent.
    response_.set_error_message(st.message());
    response_.mutable_infer_response()->set_id(request_id);
    response_.mutable_infer_response()->set_model_name(model_name);
  }
  StartWrite(&response_);
}

void StreamReactor::OnWriteDone(bool ok) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    busy_ = false;
  }
  // Finish and StartRead are called without mu_ held: Finish may lead to OnDone, which deletes
  // this reactor (and its mutex).
  if (!ok) {  // the client went away; the call is over
    Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed by the client"));
  } else if (owner_->stopping()) {
    Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  } else {
    StartRead(&request_);
  }
}

void StreamReactor::interrupt_if_idle() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!busy_) ctx_->TryCancel();
}

void StreamReactor::OnDone() {
  owner_->remove_stream(this);
  delete this;
}

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
