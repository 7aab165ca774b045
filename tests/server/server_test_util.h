// Test support for the serving tests: a temporary model repository, the real server (core +
// HTTP front end) on loopback with port 0, and a small synchronous Beast HTTP client.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>

#include "core/npy.h"
#include "server/http_frontend.h"
#include "server/inference_server.h"
#include "server/model_version.h"

namespace softdpu::server::testing {

namespace fs = std::filesystem;
using nlohmann::json;

inline const std::string kRoot = SOFTDPU_SOURCE_DIR;

// A fresh directory under the system temp dir, removed at destruction.
class TempRepo {
 public:
  TempRepo() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("softdpu_repo_" + std::to_string(rd()) + "_" + std::to_string(::getpid()));
    fs::create_directories(path_);
  }
  ~TempRepo() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  // Copies bundled model `name` (config + version 1) as `as`, version `version`; `config`
  // replaces config.json when not empty.
  void add(const std::string& name, const std::string& as, int version = 1,
           const std::string& config = {}) {
    fs::create_directories(path_ / as / std::to_string(version));
    fs::copy_file(kRoot + "/models/" + name + "/1/model.onnx",
                  path_ / as / std::to_string(version) / "model.onnx",
                  fs::copy_options::overwrite_existing);
    std::ofstream f(path_ / as / "config.json");
    if (config.empty()) {
      std::ifstream src(kRoot + "/models/" + name + "/config.json");
      json j = json::parse(src);
      j["name"] = as;
      f << j.dump(2);
    } else {
      f << config;
    }
  }

 private:
  fs::path path_;
};

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  json parsed() const { return json::parse(body, nullptr, false); }
  std::string error() const {
    json j = parsed();
    return j.is_object() && j.contains("error") && j["error"].is_string()
               ? j["error"].get<std::string>()
               : std::string("<no {\"error\"} in: ") + body.substr(0, 200) + ">";
  }
};

// Waits (polling, no timing assumption) until `mv` has `n` requests queued; false after 30 s.
inline bool wait_queued(ModelVersion& mv, size_t n) {
  for (int i = 0; i < 30000 && mv.queued() != n; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return mv.queued() == n;
}

// One keep-alive connection.
class TestClient {
 public:
  explicit TestClient(int port) : socket_(ioc_) {
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"),
                                      static_cast<unsigned short>(port));
    socket_.connect(ep);
    socket_.set_option(boost::asio::ip::tcp::no_delay(true));
  }
  HttpResult request(boost::beast::http::verb verb, const std::string& target,
                     const std::string& body = {},
                     const std::map<std::string, std::string>& headers = {}) {
    send(verb, target, body, headers);
    return receive();
  }
  // The two halves of request(), for tests that must have requests in flight before answers.
  void send(boost::beast::http::verb verb, const std::string& target, const std::string& body = {},
            const std::map<std::string, std::string>& headers = {}) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(true);
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(socket_, req);
  }
  HttpResult receive() {
    namespace http = boost::beast::http;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1u << 30);
    http::read(socket_, buffer_, parser);
    HttpResult r;
    r.status = static_cast<int>(parser.get().result_int());
    r.body = parser.get().body();
    for (const auto& f : parser.get())
      r.headers[std::string(f.name_string())] = std::string(f.value());
    return r;
  }
  HttpResult get(const std::string& target) {
    return request(boost::beast::http::verb::get, target);
  }
  HttpResult post(const std::string& target, const std::string& body = {},
                  const std::map<std::string, std::string>& headers = {}) {
    return request(boost::beast::http::verb::post, target, body, headers);
  }
  boost::asio::ip::tcp::socket& socket() { return socket_; }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

// The real server: core + HTTP on 127.0.0.1, ports chosen by the OS.
class RunningServer {
 public:
  explicit RunningServer(ServerOptions so, size_t max_request_bytes = 64u << 20,
                         int http_threads = 2) {
    so.max_request_bytes = max_request_bytes;
    Status st = InferenceServer::create(so, &core_);
    EXPECT_TRUE(st) << st.to_string();
    if (!st) return;
    HttpOptions ho;
    ho.address = "127.0.0.1";
    ho.port = 0;
    ho.metrics_port = 0;
    ho.threads = http_threads;
    ho.max_request_bytes = max_request_bytes;
    st = HttpFrontend::start(core_.get(), ho, &http_);
    EXPECT_TRUE(st) << st.to_string();
  }
  ~RunningServer() {
    if (core_) core_->shutdown();
    if (http_) http_->stop();
  }
  bool ok() const { return core_ && http_; }
  int port() const { return http_->port(); }
  int metrics_port() const { return http_->metrics_port(); }
  InferenceServer* core() { return core_.get(); }

 private:
  std::unique_ptr<InferenceServer> core_;
  std::unique_ptr<HttpFrontend> http_;
};

// JSON infer body for one FP32 input.
inline std::string json_infer_body(const std::string& input, const Shape& shape, const float* data,
                                   const json& parameters = json::object()) {
  std::vector<float> v(data, data + shape_numel(shape));
  json j = {{"inputs", {{{"name", input}, {"shape", shape}, {"datatype", "FP32"}, {"data", v}}}}};
  if (!parameters.empty()) j["parameters"] = parameters;
  return j.dump();
}

// Rows [row, row + n) of a tensor whose first axis is the batch, as a new tensor.
inline Tensor rows_of(const Tensor& t, int64_t row, int64_t n) {
  Shape s = t.shape();
  s[0] = n;
  Tensor out(t.dtype(), s);
  size_t row_bytes = t.nbytes() / static_cast<size_t>(t.shape()[0]);
  std::memcpy(out.data(),
              static_cast<const uint8_t*>(t.data()) + static_cast<size_t>(row) * row_bytes,
              row_bytes * static_cast<size_t>(n));
  return out;
}

inline std::vector<float> floats_of(const json& data) {
  std::vector<float> v;
  for (const json& x : data) v.push_back(x.get<float>());
  return v;
}

}  // namespace softdpu::server::testing
