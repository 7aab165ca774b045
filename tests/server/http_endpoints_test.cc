// The real server over HTTP on loopback: every KServe v2 REST endpoint, JSON and binary tensors
// (against an in-process Session run and PyTorch's stored logits), and metrics.
#include <cmath>
#include <cstring>

#include "server/server_test_util.h"
#include "softdpu/session.h"

namespace softdpu::server::testing {
namespace {

class HttpEndpoints : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    repo_ = new TempRepo();
    repo_->add("fashion_mlp", "fashion_mlp");
    repo_->add("fashion_lstm", "fashion_lstm");
    // A model that cannot load: listed with its reason while the others serve.
    std::filesystem::create_directories(repo_->path() / "broken" / "1");
    std::ofstream(repo_->path() / "broken" / "1" / "model.onnx") << "not an onnx file";
    ServerOptions so;
    so.model_repository = repo_->path().string();
    so.control_mode = "explicit";
    so.startup_models = {"*"};
    server_ = new RunningServer(so);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete repo_;
  }
  static TempRepo* repo_;
  static RunningServer* server_;
};
TempRepo* HttpEndpoints::repo_ = nullptr;
RunningServer* HttpEndpoints::server_ = nullptr;

// In-process reference: the same ONNX file run through Session at the input's batch.
std::vector<float> session_logits(const std::string& model, const Tensor& x) {
  std::unique_ptr<Session> s;
  EXPECT_TRUE(Session::load(kRoot + "/models/" + model + "/1/model.onnx", &s));
  PlanOptions opt;
  opt.batch = x.shape()[0];
  EXPECT_TRUE(s->plan(opt));
  std::map<std::string, Tensor> out;
  EXPECT_TRUE(s->run({{"input", x}}, &out));
  const Tensor& y = out.at("logits");
  return {y.data_as<float>(), y.data_as<float>() + y.numel()};
}

void expect_near_pytorch(const std::vector<float>& got, const Tensor& ref, int64_t row0) {
  const float* r = ref.data_as<float>() + row0 * 10;
  ASSERT_GE(ref.numel(), row0 * 10 + static_cast<int64_t>(got.size()));
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], r[i], 1e-4) << "logit " << i;
}

TEST_F(HttpEndpoints, HealthServerAndModelMetadata) {
  ASSERT_TRUE(server_->ok());
  TestClient c(server_->port());
  EXPECT_EQ(c.get("/v2/health/live").status, 200);
  auto ready = c.get("/v2/health/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.parsed()["ready"], true);

  auto meta = c.get("/v2");
  ASSERT_EQ(meta.status, 200);
  EXPECT_EQ(meta.parsed()["name"], "softdpu");
  auto ext = meta.parsed()["extensions"];
  EXPECT_NE(std::find(ext.begin(), ext.end(), "binary_tensor_data"), ext.end());

  for (const std::string target : {"/v2/models/fashion_mlp", "/v2/models/fashion_mlp/versions/1"}) {
    auto m = c.get(target);
    ASSERT_EQ(m.status, 200) << target << ": " << m.body;
    json j = m.parsed();
    EXPECT_EQ(j["name"], "fashion_mlp");
    EXPECT_EQ(j["versions"], json::array({"1"}));
    EXPECT_EQ(j["inputs"][0]["name"], "input");
    EXPECT_EQ(j["inputs"][0]["datatype"], "FP32");
    EXPECT_EQ(j["inputs"][0]["shape"], json::array({-1, 1, 28, 28}));
    EXPECT_EQ(j["outputs"][0]["shape"], json::array({-1, 10}));
  }
  EXPECT_EQ(c.get("/v2/models/fashion_mlp/ready").status, 200);
  EXPECT_EQ(c.get("/v2/models/fashion_mlp/versions/1/ready").status, 200);
  EXPECT_EQ(c.get("/v2/models/fashion_mlp/versions/9/ready").status, 404);
  EXPECT_EQ(c.get("/v2/models/broken/ready").status, 400);  // known, not ready

  auto cfg = c.get("/v2/models/fashion_mlp/config");
  ASSERT_EQ(cfg.status, 200);
  EXPECT_EQ(cfg.parsed()["max_batch_size"], 8);
  EXPECT_EQ(cfg.parsed()["inputs"][0]["shape"], json::array({1, 28, 28}));
  EXPECT_EQ(c.get("/v2/models/fashion_mlp/versions/1/config").status, 200);
}

TEST_F(HttpEndpoints, JsonInferMatchesSessionAndPyTorch) {
  TestClient c(server_->port());
  const std::string d = kRoot + "/tests/data/models/";
  for (const std::string model : {"fashion_mlp", "fashion_lstm"}) {
    Tensor x = read_npy(d + model + "/input.npy");  // batch 8
    Tensor ref = read_npy(d + model + "/logits.npy");
    for (int64_t rows : {1, 3, 8}) {  // 3 runs on the batch-8 plan with padding rows
      Tensor xr = rows_of(x, 0, rows);
      json params = {{"timeout", 10000000}};
      auto r = c.post("/v2/models/" + model + "/infer",
                      json_infer_body("input", xr.shape(), xr.data_as<float>(), params));
      ASSERT_EQ(r.status, 200) << r.body;
      json out = r.parsed()["outputs"][0];
      EXPECT_EQ(out["name"], "logits");
      EXPECT_EQ(out["datatype"], "FP32");
      EXPECT_EQ(out["shape"], json::array({rows, 10}));
      std::vector<float> got = floats_of(out["data"]);
      // Shortest round-trip JSON text: the server's floats come back bit for bit.
      EXPECT_EQ(got, session_logits(model, xr)) << model << " rows " << rows;
      expect_near_pytorch(got, ref, 0);
    }
  }
}

TEST_F(HttpEndpoints, BinaryTensorsBothWays) {
  TestClient c(server_->port());
  Tensor x = read_npy(kRoot + "/tests/data/models/fashion_mlp/input.npy");
  Tensor ref = read_npy(kRoot + "/tests/data/models/fashion_mlp/logits.npy");
  Tensor xr = rows_of(x, 2, 2);
  json header = {{"id", "req-7"},
                 {"inputs",
                  {{{"name", "input"},
                    {"shape", xr.shape()},
                    {"datatype", "FP32"},
                    {"parameters", {{"binary_data_size", xr.nbytes()}}}}}},
                 {"outputs", {{{"name", "logits"}, {"parameters", {{"binary_data", true}}}}}}};
  std::string h = header.dump();
  std::string body = h + std::string(static_cast<const char*>(xr.data()), xr.nbytes());
  auto r = c.post("/v2/models/fashion_mlp/infer", body,
                  {{"Inference-Header-Content-Length", std::to_string(h.size())},
                   {"Content-Type", "application/octet-stream"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(r.headers.count("Inference-Header-Content-Length"));
  size_t hl = std::stoul(r.headers["Inference-Header-Content-Length"]);
  json rh = json::parse(r.body.substr(0, hl));
  EXPECT_EQ(rh["id"], "req-7");
  EXPECT_EQ(rh["outputs"][0]["parameters"]["binary_data_size"], 2 * 10 * 4);
  ASSERT_EQ(r.body.size() - hl, 80u);
  std::vector<float> got(20);
  std::memcpy(got.data(), r.body.data() + hl, 80);
  EXPECT_EQ(got, session_logits("fashion_mlp", xr));
  expect_near_pytorch(got, ref, 2);

  // binary_data_output=true without an outputs list: every output binary.
  header.erase("outputs");
  header["parameters"] = {{"binary_data_output", true}};
  h = header.dump();
  body = h + std::string(static_cast<const char*>(xr.data()), xr.nbytes());
  r = c.post("/v2/models/fashion_mlp/infer", body,
             {{"Inference-Header-Content-Length", std::to_string(h.size())}});
  ASSERT_EQ(r.status, 200) << r.body;
  hl = std::stoul(r.headers["Inference-Header-Content-Length"]);
  std::memcpy(got.data(), r.body.data() + hl, 80);
  EXPECT_EQ(got, session_logits("fashion_mlp", xr));
}

TEST_F(HttpEndpoints, AnswerLargerThanTheSocketBuffersArrivesWhole) {
  // Session::send writes an answer at once on the non-blocking socket and hands what the socket
  // did not take to async_write. An answer far larger than the socket buffers (the request's id
  // is echoed back), read only after a pause so that the server has filled them, must arrive
  // whole, and the connection must go on serving.
  Tensor x = read_npy(kRoot + "/tests/data/models/fashion_mlp/input1.npy");
  const std::string body = json_infer_body("input", x.shape(), x.data_as<float>());
  json j = json::parse(body);
  const std::string id(8u << 20, 'i');  // more than the send buffer (4 MiB at most) and the window
  j["id"] = id;
  TestClient c(server_->port());
  c.send(boost::beast::http::verb::post, "/v2/models/fashion_mlp/infer", j.dump());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  HttpResult r = c.receive();
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  json out = r.parsed();
  EXPECT_TRUE(out["id"] == id) << "id of " << out["id"].get<std::string>().size() << " bytes";
  EXPECT_EQ(out["outputs"][0]["shape"], json::array({1, 10}));
  auto again = c.post("/v2/models/fashion_mlp/infer", body);
  EXPECT_EQ(again.status, 200) << again.body;
}

TEST_F(HttpEndpoints, StatisticsRepositoryAndMetrics) {
  TestClient c(server_->port());
  Tensor x = read_npy(kRoot + "/tests/data/models/fashion_mlp/input1.npy");
  auto before = c.get("/v2/models/fashion_mlp/stats").parsed()["model_stats"][0];
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(c.post("/v2/models/fashion_mlp/infer",
                     json_infer_body("input", x.shape(), x.data_as<float>()))
                  .status,
              200);
  auto s = c.get("/v2/models/fashion_mlp/versions/1/stats");
  ASSERT_EQ(s.status, 200);
  json st = s.parsed()["model_stats"][0];
  EXPECT_EQ(st["name"], "fashion_mlp");
  EXPECT_EQ(st["version"], "1");
  EXPECT_EQ(st["inference_count"].get<int>() - before["inference_count"].get<int>(), 3);
  EXPECT_EQ(st["inference_stats"]["success"]["count"].get<int>() -
                before["inference_stats"]["success"]["count"].get<int>(),
            3);
  EXPECT_GT(st["inference_stats"]["compute_infer"]["ns"].get<int64_t>(), 0);
  auto all = c.get("/v2/models/stats");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.parsed()["model_stats"].size(), 2u);  // the two loaded models

  auto idx = c.post("/v2/repository/index");
  ASSERT_EQ(idx.status, 200);
  bool saw_broken = false;
  for (const json& e : idx.parsed()) {
    if (e["name"] == "broken") {
      saw_broken = true;
      EXPECT_EQ(e["state"], "UNAVAILABLE");
      EXPECT_NE(e["reason"].get<std::string>().find("version 1"), std::string::npos) << e.dump();
    }
  }
  EXPECT_TRUE(saw_broken);
  EXPECT_EQ(c.post("/v2/repository/index", R"({"ready": true})").parsed().size(), 2u);

  // Explicit control: unload, requests fail with a reason, load again, requests succeed.
  ASSERT_EQ(c.post("/v2/repository/models/fashion_lstm/unload").status, 200);
  auto gone = c.get("/v2/models/fashion_lstm/ready");
  EXPECT_EQ(gone.status, 400);
  Tensor xl = read_npy(kRoot + "/tests/data/models/fashion_lstm/input1.npy");
  auto r = c.post("/v2/models/fashion_lstm/infer",
                  json_infer_body("input", xl.shape(), xl.data_as<float>()));
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.error().find("unloaded"), std::string::npos) << r.body;
  ASSERT_EQ(c.post("/v2/repository/models/fashion_lstm/load").status, 200);
  EXPECT_EQ(c.post("/v2/models/fashion_lstm/infer",
                   json_infer_body("input", xl.shape(), xl.data_as<float>()))
                .status,
            200);
  auto bad_load = c.post("/v2/repository/models/nothing_here/load");
  EXPECT_EQ(bad_load.status, 404);
  EXPECT_NE(bad_load.error().find("nothing_here"), std::string::npos);

  TestClient m(server_->metrics_port());
  auto metrics = m.get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  const std::string& t = metrics.body;
  for (const char* needle :
       {"softdpu_inference_request_success{model=\"fashion_mlp\",version=\"1\"}",
        "softdpu_inference_request_failure{model=\"fashion_mlp\",version=\"1\"}",
        "softdpu_inference_count{model=\"fashion_mlp\",version=\"1\"}",
        "softdpu_inference_exec_count{model=\"fashion_mlp\",version=\"1\"}",
        "softdpu_inference_request_duration_us{", "softdpu_inference_queue_duration_us{",
        "softdpu_inference_compute_duration_us{",
        "softdpu_inference_request_duration_seconds_bucket{model=\"fashion_mlp\",version=\"1\",le=",
        "softdpu_inference_compute_duration_seconds_count{", "softdpu_sequences_live{",
        "process_cpu_seconds_total ", "process_resident_memory_bytes "})
    EXPECT_NE(t.find(needle), std::string::npos) << needle;
  EXPECT_EQ(m.get("/v2/health/live").status, 404);  // the metrics port serves /metrics only
}

}  // namespace
}  // namespace softdpu::server::testing
