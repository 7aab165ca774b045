// A full queue is refused at once (HTTP 503, gRPC UNAVAILABLE) with a message naming the model
// and max_queue_size, and the server serves normally once the queue drains. Deterministic: the
// test holds the only instance's execution mutex, so the instance stays busy exactly as long as
// the test says, and it waits for the queue to hold the first request before sending the next.
#include "server/server_impl.h"
#include "server/server_test_util.h"
#ifdef SOFTDPU_HAVE_GRPC_FRONTEND
#include <grpcpp/grpcpp.h>

#include "server/grpc/grpc_frontend.h"
#include "server/grpc_request_util.h"
#endif

namespace softdpu::server::testing {
namespace {

class QueueFull : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.add("fashion_mlp", "mlp", 1, R"({"max_batch_size": 8, "instance_count": 1,
                                          "max_queue_size": 1})");
    ServerOptions so;
    so.model_repository = repo_.path().string();
    server_ = std::make_unique<RunningServer>(so);
    ASSERT_TRUE(server_->ok());
    ASSERT_TRUE(static_cast<ServerImpl*>(server_->core())->find("mlp", "", &mv_));
    x_ = read_npy(kRoot + "/tests/data/models/fashion_mlp/input1.npy");
    body_ = json_infer_body("input", x_.shape(), x_.data_as<float>());
  }

  // Sends one request on `c` without reading the answer.
  void send_only(TestClient& c) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req{http::verb::post, "/v2/models/mlp/infer", 11};
    req.set(http::field::host, "127.0.0.1");
    req.body() = body_;
    req.prepare_payload();
    http::write(c.socket(), req);
  }
  static int read_status(TestClient& c) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(c.socket(), buffer, res);
    return static_cast<int>(res.result_int());
  }

  TempRepo repo_;
  std::unique_ptr<RunningServer> server_;
  std::shared_ptr<ModelVersion> mv_;
  Tensor x_;
  std::string body_;
};

TEST_F(QueueFull, HttpAnswers503AtOnceThenServes) {
  TestClient queued(server_->port()), refused(server_->port());
  {
    std::unique_lock<std::mutex> busy(mv_->instance_mutex(0));
    send_only(queued);  // finds the instance busy: waits in the queue (1 of 1)
    ASSERT_TRUE(wait_queued(*mv_, 1));
    auto r = refused.post("/v2/models/mlp/infer", body_);  // answered while the instance is held
    EXPECT_EQ(r.status, 503) << r.body;
    for (const char* needle : {"model 'mlp'", "queue full", "max_queue_size", "retry later"})
      EXPECT_NE(r.error().find(needle), std::string::npos) << needle << " not in " << r.body;
    TestClient metrics(server_->metrics_port());
    EXPECT_NE(
        metrics.get("/metrics")
            .body.find("softdpu_inference_pending_request_count{model=\"mlp\",version=\"1\"} 1"),
        std::string::npos);
  }  // the instance is free: the worker runs the queued request
  EXPECT_EQ(read_status(queued), 200);
  EXPECT_EQ(refused.post("/v2/models/mlp/infer", body_).status, 200);
  EXPECT_EQ(mv_->queued(), 0u);
}

#ifdef SOFTDPU_HAVE_GRPC_FRONTEND
TEST_F(QueueFull, GrpcAnswersUnavailableAtOnceThenServes) {
  GrpcOptions go;
  go.address = "127.0.0.1:0";
  std::unique_ptr<GrpcFrontend> grpc;
  ASSERT_TRUE(GrpcFrontend::start(server_->core(), go, &grpc).is_ok());
  auto stub = ::inference::GRPCInferenceService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(grpc->port()), grpc::InsecureChannelCredentials()));
  const ::inference::ModelInferRequest req = fp32_infer_request("mlp", "input", x_);
  auto call = [&](::inference::ModelInferResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return stub->ModelInfer(&ctx, req, resp);
  };

  TestClient queued(server_->port());
  {
    std::unique_lock<std::mutex> busy(mv_->instance_mutex(0));
    send_only(queued);
    ASSERT_TRUE(wait_queued(*mv_, 1));
    ::inference::ModelInferResponse resp;
    grpc::Status st = call(&resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
    EXPECT_NE(st.error_message().find("queue full"), std::string::npos) << st.error_message();
  }
  EXPECT_EQ(read_status(queued), 200);
  ::inference::ModelInferResponse resp;
  grpc::Status st = call(&resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.raw_output_contents_size(), 1);
  grpc->stop(2000);
}
#endif

}  // namespace
}  // namespace softdpu::server::testing
