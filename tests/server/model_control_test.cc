// Explicit model control over the real HTTP server: like Triton's --model-control-mode=explicit,
// nothing loads at start unless named (--load-model, "*" = all), and the load API brings models in.
#include <filesystem>

#include "server/model_repository.h"
#include "server/server_test_util.h"

namespace softdpu::server::testing {
namespace {

class ModelControl : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.add("fashion_mlp", "mlp");
    repo_.add("fashion_mlp", "mlp2");
    x_ = read_npy(kRoot + "/tests/data/models/fashion_mlp/input1.npy");
  }
  ServerOptions options(std::vector<std::string> startup) const {
    ServerOptions so;
    so.model_repository = repo_.path().string();
    so.control_mode = "explicit";
    so.startup_models = std::move(startup);
    return so;
  }
  std::string body() const { return json_infer_body("input", x_.shape(), x_.data_as<float>()); }
  // name -> state from the repository index.
  static std::map<std::string, std::string> states(TestClient& c) {
    std::map<std::string, std::string> out;
    for (const json& e : c.post("/v2/repository/index").parsed())
      out[e["name"].get<std::string>()] = e["state"].get<std::string>();
    return out;
  }

  TempRepo repo_;
  Tensor x_;
};

TEST_F(ModelControl, ExplicitModeStartsWithNoModelLoaded) {
  RunningServer server(options({}));
  ASSERT_TRUE(server.ok());
  TestClient c(server.port());
  EXPECT_EQ(c.get("/v2/health/ready").status, 200);  // the server is ready, with no model
  auto s = states(c);
  EXPECT_EQ(s["mlp"], "UNAVAILABLE");
  EXPECT_EQ(s["mlp2"], "UNAVAILABLE");
  EXPECT_EQ(c.get("/v2/models/mlp/ready").status, 400);
  auto r = c.post("/v2/models/mlp/infer", body());
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.error().find("not loaded"), std::string::npos) << r.body;
  EXPECT_NE(r.error().find("v2/repository/models/mlp/load"), std::string::npos) << r.body;

  ASSERT_EQ(c.post("/v2/repository/models/mlp/load").status, 200);
  EXPECT_EQ(c.post("/v2/models/mlp/infer", body()).status, 200);
  s = states(c);
  EXPECT_EQ(s["mlp"], "READY");
  EXPECT_EQ(s["mlp2"], "UNAVAILABLE");  // loading one model does not bring the others
}

// The request path's on-disk check: one stat per unknown name, and never a path that leaves the
// repository or a hidden directory.
TEST_F(ModelControl, ModelOnDiskMatchesTheRepositoryListing) {
  const std::string root = repo_.path().string();
  std::filesystem::create_directories(repo_.path() / ".hidden");
  EXPECT_TRUE(model_on_disk(root, "mlp"));
  EXPECT_TRUE(model_on_disk(root, "mlp2"));
  for (const std::string& name : list_models(root)) EXPECT_TRUE(model_on_disk(root, name)) << name;
  for (const char* name : {"", ".", "..", ".hidden", "nope", "mlp/..", "../mlp", "mlp/1"})
    EXPECT_FALSE(model_on_disk(root, name)) << name;

  RunningServer server(options({}));
  ASSERT_TRUE(server.ok());
  TestClient c(server.port());
  auto r = c.post("/v2/models/nope/infer", body());
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.error().find("unknown model 'nope'"), std::string::npos) << r.body;
  r = c.post("/v2/models/.hidden/infer", body());
  EXPECT_EQ(r.status, 404) << r.body;
}

TEST_F(ModelControl, ExplicitModeLoadsTheNamedModelsAtStart) {
  RunningServer server(options({"mlp2"}));
  ASSERT_TRUE(server.ok());
  TestClient c(server.port());
  auto s = states(c);
  EXPECT_EQ(s["mlp"], "UNAVAILABLE");
  EXPECT_EQ(s["mlp2"], "READY");
  EXPECT_EQ(c.post("/v2/models/mlp2/infer", body()).status, 200);
  EXPECT_EQ(c.post("/v2/models/mlp/infer", body()).status, 503);
}

TEST_F(ModelControl, ExplicitModeStarLoadsEveryModel) {
  RunningServer server(options({"*"}));
  ASSERT_TRUE(server.ok());
  TestClient c(server.port());
  auto s = states(c);
  EXPECT_EQ(s["mlp"], "READY");
  EXPECT_EQ(s["mlp2"], "READY");
}

TEST_F(ModelControl, StartupModelErrors) {
  std::unique_ptr<InferenceServer> core;
  Status st = InferenceServer::create(options({"nonexistent"}), &core);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("--load-model nonexistent"), std::string::npos) << st.message();
  ServerOptions none = options({"mlp"});
  none.control_mode = "none";
  st = InferenceServer::create(none, &core);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("explicit"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace softdpu::server::testing
