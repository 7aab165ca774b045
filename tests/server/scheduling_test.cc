// Scheduling over the real HTTP server: dynamic batching merges concurrent requests, LSTM
// sequences carry state across requests, poll mode hot-reloads a new version, shutdown drains.
#include <atomic>

#include "server/server_impl.h"
#include "server/server_test_util.h"

namespace softdpu::server::testing {
namespace {

std::vector<float> logits_row(const Tensor& ref, int64_t row) {
  return {ref.data_as<float>() + row * 10, ref.data_as<float>() + row * 10 + 10};
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double tol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol) << what << " [" << i << "]";
}

// Deterministic: the test holds the only instance's execution mutex while eight clients send,
// waits until all eight wait in the queue, then lets the instance go. The scheduler must run them
// in batches (8 queued, max_batch_size 8: at most two executions), and each client still gets its
// own row's logits, compared with PyTorch's.
TEST(ServerScheduling, DynamicBatchingMergesConcurrentRequests) {
  TempRepo repo;
  repo.add("fashion_cnn", "cnn", 1, R"({
    "max_batch_size": 8,
    "dynamic_batching": {"preferred_batch_size": [4, 8], "max_queue_delay_microseconds": 3000},
    "instance_count": 1
  })");
  ServerOptions so;
  so.model_repository = repo.path().string();
  RunningServer server(so, 64u << 20, /*http_threads=*/4);  // more readers than instances
  ASSERT_TRUE(server.ok());
  std::shared_ptr<ModelVersion> mv;
  ASSERT_TRUE(static_cast<ServerImpl*>(server.core())->find("cnn", "", &mv));
  Tensor x = read_npy(kRoot + "/tests/data/models/fashion_cnn/input.npy");
  Tensor ref = read_npy(kRoot + "/tests/data/models/fashion_cnn/logits.npy");
  constexpr int kClients = 8;
  std::vector<std::unique_ptr<TestClient>> clients;
  {
    std::unique_lock<std::mutex> busy(mv->instance_mutex(0));
    for (int t = 0; t < kClients; ++t) {
      clients.push_back(std::make_unique<TestClient>(server.port()));
      Tensor xr = rows_of(x, t, 1);
      json h = {{"inputs",
                 {{{"name", "input"},
                   {"shape", xr.shape()},
                   {"datatype", "FP32"},
                   {"parameters", {{"binary_data_size", xr.nbytes()}}}}}}};
      const std::string hs = h.dump();
      clients.back()->send(boost::beast::http::verb::post, "/v2/models/cnn/infer",
                           hs + std::string(static_cast<const char*>(xr.data()), xr.nbytes()),
                           {{"Inference-Header-Content-Length", std::to_string(hs.size())}});
    }
    ASSERT_TRUE(wait_queued(*mv, kClients)) << "queued: " << mv->queued();
  }  // the instance is free: the worker takes the queue in batches
  for (int t = 0; t < kClients; ++t) {
    HttpResult r = clients[t]->receive();
    ASSERT_EQ(r.status, 200) << r.body;
    expect_close(floats_of(r.parsed()["outputs"][0]["data"]), logits_row(ref, t), 1e-4,
                 "client " + std::to_string(t));
  }
  TestClient c(server.port());
  json st = c.get("/v2/models/cnn/stats").parsed()["model_stats"][0];
  EXPECT_EQ(st["inference_count"].get<uint64_t>(), static_cast<uint64_t>(kClients));
  EXPECT_LE(st["execution_count"].get<uint64_t>(), 2u) << "queued requests were not merged";
}

constexpr const char* kStreamConfig = R"({
  "max_batch_size": 8,
  "inputs": [{"name": "x", "datatype": "FP32", "shape": [7, 28]}],
  "outputs": [{"name": "logits", "datatype": "FP32", "shape": [10]}],
  "sequence_batching": {
    "idle_timeout_microseconds": IDLE, "max_sequences": 2,
    "state": [{"input_name": "h0", "output_name": "hn", "shape": [1, 1, 128]},
              {"input_name": "c0", "output_name": "cn", "shape": [1, 1, 128]}]
  }
})";

std::string stream_config(const std::string& idle_us) {
  std::string c = kStreamConfig;
  c.replace(c.find("IDLE"), 4, idle_us);
  return c;
}

TEST(ServerScheduling, LstmSequenceInChunksEqualsWholeSequence) {
  TempRepo repo;
  repo.add("fashion_lstm_stream", "lstm_stream", 1, stream_config("2000000"));
  ServerOptions so;
  so.model_repository = repo.path().string();
  RunningServer server(so);
  ASSERT_TRUE(server.ok());
  TestClient c(server.port());
  // PyTorch's logits for the whole 28-row images (fashion_lstm, same weights).
  Tensor x = read_npy(kRoot + "/tests/data/models/fashion_lstm/input.npy");
  Tensor ref = read_npy(kRoot + "/tests/data/models/fashion_lstm/logits.npy");
  auto chunk = [&](int64_t image, int64_t step, const json& id, bool start, bool end) {
    Tensor rows({DType::kFloat32, {1, 7, 28}});
    std::memcpy(rows.data(), x.data_as<float>() + image * 784 + step * 7 * 28, 7 * 28 * 4);
    return c.post(
        "/v2/models/lstm_stream/infer",
        json_infer_body("x", rows.shape(), rows.data_as<float>(),
                        {{"sequence_id", id}, {"sequence_start", start}, {"sequence_end", end}}));
  };
  // Two sequences interleaved step by step (an integer and a string id).
  std::vector<float> last0, last1;
  for (int64_t s = 0; s < 4; ++s) {
    auto a = chunk(0, s, 101, s == 0, s == 3);
    auto b = chunk(1, s, "image-1", s == 0, s == 3);
    ASSERT_EQ(a.status, 200) << a.body;
    ASSERT_EQ(b.status, 200) << b.body;
    last0 = floats_of(a.parsed()["outputs"][0]["data"]);
    last1 = floats_of(b.parsed()["outputs"][0]["data"]);
    EXPECT_EQ(a.parsed()["outputs"].size(), 1u);  // the state outputs stay inside the server
  }
  expect_close(last0, logits_row(ref, 0), 1e-4, "image 0 in 4 chunks");
  expect_close(last1, logits_row(ref, 1), 1e-4, "image 1 in 4 chunks");

  // Ended sequences and never-started ones are refused with a clear reason.
  auto ended = chunk(0, 1, 101, false, false);
  EXPECT_EQ(ended.status, 400);
  EXPECT_NE(ended.error().find("sequence '101'"), std::string::npos) << ended.body;
  EXPECT_NE(ended.error().find("sequence_start"), std::string::npos) << ended.body;
  auto missing = c.post("/v2/models/lstm_stream/infer",
                        json_infer_body("x", {1, 7, 28}, std::vector<float>(196).data()));
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.error().find("sequence_id"), std::string::npos) << missing.body;

  // max_sequences = 2: a third live sequence is refused until one ends.
  ASSERT_EQ(chunk(2, 0, 1, true, false).status, 200);
  ASSERT_EQ(chunk(3, 0, 2, true, false).status, 200);
  auto third = chunk(4, 0, 3, true, false);
  EXPECT_EQ(third.status, 503);
  EXPECT_NE(third.error().find("max_sequences"), std::string::npos) << third.body;
  TestClient m(server.metrics_port());
  EXPECT_NE(
      m.get("/metrics").body.find("softdpu_sequences_live{model=\"lstm_stream\",version=\"1\"} 2"),
      std::string::npos);
  ASSERT_EQ(chunk(2, 1, 1, false, true).status, 200);
  EXPECT_EQ(chunk(4, 0, 3, true, false).status, 200);
}

TEST(ServerScheduling, IdleSequenceExpires) {
  TempRepo repo;
  repo.add("fashion_lstm_stream", "lstm_stream", 1, stream_config("30000"));  // 30 ms
  ServerOptions so;
  so.model_repository = repo.path().string();
  RunningServer server(so);
  ASSERT_TRUE(server.ok());
  TestClient c(server.port());
  std::vector<float> zeros(196, 0.f);
  auto step = [&](bool start) {
    return c.post("/v2/models/lstm_stream/infer",
                  json_infer_body("x", {1, 7, 28}, zeros.data(),
                                  {{"sequence_id", 7}, {"sequence_start", start}}));
  };
  ASSERT_EQ(step(true).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  auto r = step(false);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.error().find("expired"), std::string::npos) << r.body;
  EXPECT_EQ(step(true).status, 200);  // restarting works
}

TEST(ServerScheduling, PollModeHotReloadsNewVersion) {
  TempRepo repo;
  repo.add("fashion_mlp", "mlp", 1);
  ServerOptions so;
  so.model_repository = repo.path().string();
  so.control_mode = "poll";
  so.poll_interval_ms = 50;
  RunningServer server(so);
  ASSERT_TRUE(server.ok());
  TestClient c(server.port());
  EXPECT_EQ(c.get("/v2/models/mlp").parsed()["versions"], json::array({"1"}));
  repo.add("fashion_mlp", "mlp", 2);  // a new version directory appears
  json versions;
  for (int i = 0; i < 200; ++i) {  // up to 10 s; normally one or two poll intervals
    versions = c.get("/v2/models/mlp").parsed()["versions"];
    if (versions == json::array({"2"})) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(versions, json::array({"2"}));  // version policy latest 1
  Tensor x = read_npy(kRoot + "/tests/data/models/fashion_mlp/input1.npy");
  Tensor ref = read_npy(kRoot + "/tests/data/models/fashion_mlp/logits1.npy");
  auto r = c.post("/v2/models/mlp/versions/2/infer",
                  json_infer_body("input", x.shape(), x.data_as<float>()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.parsed()["model_version"], "2");
  expect_close(floats_of(r.parsed()["outputs"][0]["data"]), logits_row(ref, 0), 1e-4, "v2");
  EXPECT_EQ(c.post("/v2/models/mlp/versions/1/infer",
                   json_infer_body("input", x.shape(), x.data_as<float>()))
                .status,
            404);
}

TEST(ServerScheduling, ShutdownDrainsAndRefusesNewWork) {
  TempRepo repo;
  repo.add("fashion_lstm", "lstm", 1);
  ServerOptions so;
  so.model_repository = repo.path().string();
  std::unique_ptr<InferenceServer> core;
  ASSERT_TRUE(InferenceServer::create(so, &core));
  Tensor x = read_npy(kRoot + "/tests/data/models/fashion_lstm/input1.npy");
  std::atomic<int> done{0}, ok{0}, refused{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        InferRequest r;
        r.model_name = "lstm";
        r.inputs.push_back({"input",
                            "FP32",
                            {1, 28, 28},
                            std::string(static_cast<const char*>(x.data()), x.nbytes())});
        core->infer(std::move(r), [&](Status st, InferResponse) {
          if (st)
            ++ok;
          else if (st.code() == StatusCode::kUnavailable)
            ++refused;
          ++done;
        });
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  core->shutdown();
  EXPECT_FALSE(core->ready());
  for (auto& th : senders) th.join();
  EXPECT_EQ(done.load(), 80);  // every callback ran exactly once: none lost in the drain
  EXPECT_EQ(ok.load() + refused.load(), 80);
  InferRequest late;
  late.model_name = "lstm";
  Status late_st;
  core->infer(std::move(late), [&](Status st, InferResponse) { late_st = st; });
  EXPECT_EQ(late_st.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace softdpu::server::testing
