// Bad requests over HTTP: each gets the right status and an {"error"} naming the problem, and a
// good request right after it on the same server still succeeds.
#include "server/server_test_util.h"

namespace softdpu::server::testing {
namespace {

constexpr size_t kLimit = 1u << 20;  // a small body limit so the 413 test stays cheap

class HttpErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    repo_ = new TempRepo();
    repo_->add("fashion_mlp", "fashion_mlp");
    ServerOptions so;
    so.model_repository = repo_->path().string();
    server_ = new RunningServer(so, kLimit);
    x_ = new Tensor(read_npy(kRoot + "/tests/data/models/fashion_mlp/input1.npy"));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete repo_;
    delete x_;
  }

  // The request must fail with `status` and an error mentioning every `needles` entry; then a
  // good request on a fresh connection must succeed.
  void expect_error(const HttpResult& r, int status, std::vector<std::string> needles) {
    EXPECT_EQ(r.status, status) << r.body;
    for (const std::string& n : needles)
      EXPECT_NE(r.error().find(n), std::string::npos) << "'" << n << "' not in: " << r.error();
    TestClient good(server_->port());
    auto ok = good.post("/v2/models/fashion_mlp/infer", good_body());
    EXPECT_EQ(ok.status, 200) << ok.body;
  }
  static std::string good_body() {
    return json_infer_body("input", x_->shape(), x_->data_as<float>());
  }
  static json good_json() { return json::parse(good_body()); }

  static TempRepo* repo_;
  static RunningServer* server_;
  static Tensor* x_;
};
TempRepo* HttpErrors::repo_ = nullptr;
RunningServer* HttpErrors::server_ = nullptr;
Tensor* HttpErrors::x_ = nullptr;

TEST_F(HttpErrors, MalformedJson) {
  TestClient c(server_->port());
  expect_error(c.post("/v2/models/fashion_mlp/infer", R"({"inputs": [{"name": "input",)"), 400,
               {"malformed JSON", "parse error"});
}

TEST_F(HttpErrors, WrongDatatype) {
  TestClient c(server_->port());
  json j = good_json();
  j["inputs"][0]["datatype"] = "FP64";  // valid protocol type, the wrong one for this input
  expect_error(c.post("/v2/models/fashion_mlp/infer", j.dump()), 400,
               {"input 'input'", "expected datatype FP32", "got FP64"});
}

TEST_F(HttpErrors, WrongShape) {
  TestClient c(server_->port());
  json j = good_json();
  j["inputs"][0]["shape"] = {1, 28, 28};  // same element count, wrong rank
  expect_error(c.post("/v2/models/fashion_mlp/infer", j.dump()), 400,
               {"input 'input'", "expected shape [-1, 1, 28, 28]", "got [1, 28, 28]"});
  j["inputs"][0]["shape"] = {9, 1, 28, 28};
  j["inputs"][0]["data"] = std::vector<float>(9 * 784, 0.5f);
  expect_error(c.post("/v2/models/fashion_mlp/infer", j.dump()), 400,
               {"input 'input'", "batch 1..8", "got [9, 1, 28, 28]"});
}

TEST_F(HttpErrors, WrongElementCountAndByteSize) {
  TestClient c(server_->port());
  json j = good_json();
  j["inputs"][0]["data"] = std::vector<float>(780, 0.f);
  expect_error(c.post("/v2/models/fashion_mlp/infer", j.dump()), 400,
               {"input 'input'", "needs 784 elements", "has 780"});
  // Binary: the shape says 3136 bytes, binary_data_size (consistent with the body) says 100.
  json h = {{"inputs",
             {{{"name", "input"},
               {"shape", {1, 1, 28, 28}},
               {"datatype", "FP32"},
               {"parameters", {{"binary_data_size", 100}}}}}}};
  std::string hs = h.dump();
  expect_error(c.post("/v2/models/fashion_mlp/infer", hs + std::string(100, '\0'),
                      {{"Inference-Header-Content-Length", std::to_string(hs.size())}}),
               400, {"input 'input'", "needs 3136 bytes", "got 100"});
}

TEST_F(HttpErrors, MissingAndUnknownTensors) {
  TestClient c(server_->port());
  json j = good_json();
  j["inputs"][0]["name"] = "pixels";
  expect_error(c.post("/v2/models/fashion_mlp/infer", j.dump()), 400,
               {"unknown input 'pixels'", "has inputs: input"});
  expect_error(c.post("/v2/models/fashion_mlp/infer", R"({"inputs": []})"), 400,
               {"missing input 'input'"});
  j = good_json();
  j["outputs"] = {{{"name", "probabilities"}}};
  expect_error(c.post("/v2/models/fashion_mlp/infer", j.dump()), 400,
               {"unknown output 'probabilities'", "has outputs: logits"});
}

TEST_F(HttpErrors, UnknownModelAndVersion) {
  TestClient c(server_->port());
  expect_error(c.post("/v2/models/resnet/infer", good_body()), 404,
               {"unknown model 'resnet'", "fashion_mlp"});
  expect_error(c.post("/v2/models/fashion_mlp/versions/4/infer", good_body()), 404,
               {"no version '4'", "ready versions: 1"});
  expect_error(c.get("/v2/models/resnet"), 404, {"unknown model 'resnet'"});
  expect_error(c.get("/v2/models/fashion_mlp/versions/4/stats"), 404, {"no version '4'"});
  expect_error(c.get("/v2/nonsense"), 404, {"unknown endpoint"});
  expect_error(c.get("/v2/models/fashion_mlp/infer"), 405, {"method GET"});
  expect_error(c.post("/v2/repository/models/fashion_mlp/unload"), 503,
               {"explicit model control is off"});
}

TEST_F(HttpErrors, BodyOverTheLimit) {
  // The server refuses on the declared Content-Length, before reading the body. The client here
  // writes the whole over-limit body first and only then reads: the server must drain it
  // (lingering close) instead of closing with unread data, which would reset the connection
  // (broken pipe on the write, or the 413 lost).
  namespace http = boost::beast::http;
  constexpr size_t kBody = kLimit + kLimit / 2;  // within what the server drains (2x the limit)
  TestClient c(server_->port());
  const std::string req =
      "POST /v2/models/fashion_mlp/infer HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(kBody) + "\r\n\r\n" + std::string(kBody, ' ');
  boost::system::error_code ec;
  boost::asio::write(c.socket(), boost::asio::buffer(req), ec);
  ASSERT_FALSE(ec) << "writing the whole body: " << ec.message();
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  http::read(c.socket(), buffer, parser, ec);
  ASSERT_FALSE(ec) << "reading the 413: " << ec.message();
  HttpResult r;
  r.status = static_cast<int>(parser.get().result_int());
  r.body = parser.get().body();
  EXPECT_FALSE(parser.get().keep_alive());
  // Then the server closes its side: end of stream, not a reset.
  char byte;
  c.socket().read_some(boost::asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, boost::asio::error::eof) << ec.message();
  expect_error(r, 413, {"exceeds the limit of " + std::to_string(kLimit)});
}

TEST_F(HttpErrors, BinaryHeaderInconsistentWithBody) {
  TestClient c(server_->port());
  std::string body = good_body();
  expect_error(c.post("/v2/models/fashion_mlp/infer", body,
                      {{"Inference-Header-Content-Length", std::to_string(body.size() + 10)}}),
               400, {"Inference-Header-Content-Length", "only " + std::to_string(body.size())});
  json h = {{"inputs",
             {{{"name", "input"},
               {"shape", {1, 1, 28, 28}},
               {"datatype", "FP32"},
               {"parameters", {{"binary_data_size", 3136}}}}}}};
  std::string hs = h.dump();
  expect_error(c.post("/v2/models/fashion_mlp/infer", hs + std::string(3000, '\0'),
                      {{"Inference-Header-Content-Length", std::to_string(hs.size())}}),
               400, {"input 'input'", "binary_data_size 3136", "only 3000 bytes"});
  expect_error(c.post("/v2/models/fashion_mlp/infer", hs + std::string(3200, '\0'),
                      {{"Inference-Header-Content-Length", std::to_string(hs.size())}}),
               400, {"64 bytes of binary data", "no input"});
  expect_error(
      c.post("/v2/models/fashion_mlp/infer", hs, {{"Inference-Header-Content-Length", "12x"}}), 400,
      {"Inference-Header-Content-Length '12x'"});
}

TEST_F(HttpErrors, ClientDisconnectsMidRequest) {
  // Headers announce 10000 bytes; half arrive, then the client vanishes.
  {
    TestClient quitter(server_->port());
    std::string partial =
        "POST /v2/models/fashion_mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n" +
        std::string(5000, '{');
    boost::asio::write(quitter.socket(), boost::asio::buffer(partial));
  }  // closed here
  // Another connection, concurrently open before and after, keeps working.
  TestClient c(server_->port());
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(c.post("/v2/models/fashion_mlp/infer", good_body()).status, 200);
  // A client that sends a whole request and leaves before the answer.
  {
    TestClient leaver(server_->port());
    std::string req = "POST /v2/models/fashion_mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                      std::to_string(good_body().size()) + "\r\n\r\n" + good_body();
    boost::asio::write(leaver.socket(), boost::asio::buffer(req));
  }
  EXPECT_EQ(c.post("/v2/models/fashion_mlp/infer", good_body()).status, 200);
  EXPECT_EQ(c.get("/v2/health/ready").status, 200);
}

TEST_F(HttpErrors, TimeoutBeforeExecution) {
  // The timeout runs from arrival (the body fully read) to the start of execution; decoding a
  // 784-element JSON body alone takes longer than 1 us, so this request cannot make it.
  TestClient c(server_->port());
  json j = good_json();
  j["parameters"] = {{"timeout", 1}};
  expect_error(c.post("/v2/models/fashion_mlp/infer", j.dump()), 504,
               {"timed out", "timeout 1 us", "fashion_mlp"});
  j["parameters"] = {{"timeout", 10000000}};  // 10 s: plenty
  EXPECT_EQ(c.post("/v2/models/fashion_mlp/infer", j.dump()).status, 200);
}

TEST_F(HttpErrors, BadParameters) {
  TestClient c(server_->port());
  json j = good_json();
  j["parameters"] = {{"timeout", "soon"}};
  expect_error(c.post("/v2/models/fashion_mlp/infer", j.dump()), 400, {"parameter 'timeout'"});
  j["parameters"] = {{"sequence_id", 5}, {"sequence_start", true}};
  expect_error(c.post("/v2/models/fashion_mlp/infer", j.dump()), 400,
               {"no sequence_batching", "sequence_id"});
}

}  // namespace
}  // namespace softdpu::server::testing
