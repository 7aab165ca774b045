// --busy-poll-us: the HTTP and gRPC threads poll without sleeping after each event. The server
// must answer exactly as without it, including requests that arrive after the spin window ran out
// (the thread went back to sleeping in epoll / the completion queue), and stop promptly.
#include "server/server_test_util.h"
#ifdef SOFTDPU_HAVE_GRPC_FRONTEND
#include <grpcpp/grpcpp.h>

#include "server/grpc/grpc_frontend.h"
#include "server/grpc_request_util.h"
#endif

namespace softdpu::server::testing {
namespace {

constexpr int kSpinUs = 2000;

TEST(BusyPoll, HttpAndGrpcServeWithinAndAfterTheSpinWindowAndStop) {
  TempRepo repo;
  repo.add("fashion_mlp", "mlp");
  ServerOptions so;
  so.model_repository = repo.path().string();
  std::unique_ptr<InferenceServer> core;
  ASSERT_TRUE(InferenceServer::create(so, &core));
  HttpOptions ho;
  ho.address = "127.0.0.1";
  ho.port = 0;
  ho.metrics_port = -1;
  ho.threads = 2;
  ho.busy_poll_us = kSpinUs;
  std::unique_ptr<HttpFrontend> http;
  ASSERT_TRUE(HttpFrontend::start(core.get(), ho, &http));

  Tensor x = read_npy(kRoot + "/tests/data/models/fashion_mlp/input1.npy");
  const std::string body = json_infer_body("input", x.shape(), x.data_as<float>());
  TestClient c(http->port());
  for (int i = 0; i < 3; ++i) {  // back to back: inside the spin window
    auto r = c.post("/v2/models/mlp/infer", body);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // Well after the window: the thread sleeps in epoll again and must wake for this one.
  std::this_thread::sleep_for(std::chrono::microseconds(20 * kSpinUs));
  EXPECT_EQ(c.post("/v2/models/mlp/infer", body).status, 200);

#ifdef SOFTDPU_HAVE_GRPC_FRONTEND
  GrpcOptions go;
  go.address = "127.0.0.1:0";
  go.infer_threads = 1;
  go.busy_poll_us = kSpinUs;
  std::unique_ptr<GrpcFrontend> grpc;
  ASSERT_TRUE(GrpcFrontend::start(core.get(), go, &grpc));
  auto stub = ::inference::GRPCInferenceService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(grpc->port()), grpc::InsecureChannelCredentials()));
  const ::inference::ModelInferRequest req = fp32_infer_request("mlp", "input", x);
  for (int i = 0; i < 4; ++i) {
    if (i == 3) std::this_thread::sleep_for(std::chrono::microseconds(20 * kSpinUs));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ::inference::ModelInferResponse resp;
    grpc::Status st = stub->ModelInfer(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(resp.raw_output_contents_size(), 1);
    EXPECT_EQ(resp.raw_output_contents(0).size(), 10 * sizeof(float));
  }
  grpc->stop(2000);
#endif
  core->shutdown();
  http->stop();  // returns: the spinning threads see the stopped io_context
}

}  // namespace
}  // namespace softdpu::server::testing
