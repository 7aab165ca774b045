// The test double of InferenceServer behind the gRPC front-end tests: small models whose answers
// the tests compute themselves (add_sub: a+b and a-b; accum: a running sum per sequence_id,
// completed on a worker thread like the core's queued path; status: fails with the StatusCode
// it is sent; slow: answers after 300 ms), input validation written the way the core does it
// (names, datatypes, shapes, byte sizes), and a record of the last request the core received.
#pragma once

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/inference_server.h"

namespace softdpu::server::grpc_test {

inline std::string bytes_of(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}
inline std::vector<float> floats_of(const std::string& s) {
  std::vector<float> v(s.size() / sizeof(float));
  std::memcpy(v.data(), s.data(), v.size() * sizeof(float));
  return v;
}

class FakeServer final : public InferenceServer {
 public:
  ~FakeServer() override {
    for (auto& t : workers_) t.join();
  }

  bool live() const override { return true; }
  bool ready() const override { return true; }
  std::string server_name() const override { return "fake"; }
  std::string server_version() const override { return "0.0-test"; }
  std::vector<std::string> extensions() const override { return {"sequence", "statistics"}; }

  Status model_ready(const std::string& name, const std::string& version,
                     bool* ready) const override {
    if (!known(name)) return not_found(name);
    *ready = version.empty() || version == "1";
    return Status::ok();
  }

  Status model_metadata(const std::string& name, const std::string&,
                        ModelMetadata* out) const override {
    if (!known(name)) return not_found(name);
    out->name = name;
    out->versions = {"1"};
    if (name == "add_sub") {
      out->inputs = {{"INPUT0", "FP32", {1, 4}}, {"INPUT1", "FP32", {1, 4}}};
      out->outputs = {{"OUTPUT0", "FP32", {1, 4}}, {"OUTPUT1", "FP32", {1, 4}}};
    } else if (name == "accum") {
      out->inputs = {{"INPUT", "FP32", {-1, 1}}};
      out->outputs = {{"OUTPUT", "FP32", {-1, 1}}};
    } else {
      out->inputs = {{"CODE", "INT32", {1}}};
    }
    return Status::ok();
  }

  Status model_config(const std::string& name, const std::string&,
                      std::string* json) const override {
    if (!known(name)) return not_found(name);
    if (name == "status") {  // not JSON at all: the config is still served, without batching
      *json = "max_batch_size = 4";
      return Status::ok();
    }
    *json = name == "accum" ? R"({"name":"accum","max_batch_size":4,"sequence":{"idle_us":1}})"
                            : R"({"name":")" + name + R"(","max_batch_size":0})";
    return Status::ok();
  }

  Status model_statistics(const std::string& name, const std::string&,
                          std::string* json) const override {
    if (!name.empty() && !known(name)) return not_found(name);
    if (name == "status") {  // a core whose JSON does not have the model_stats layout
      *json = R"({"model_stats":5})";
      return Status::ok();
    }
    // Triton's model_stats layout, with a field newer than our .proto (response_stats).
    *json = R"({"model_stats":[{"name":"add_sub","version":"1","last_inference":1700000000123,
      "inference_count":7,"execution_count":5,
      "inference_stats":{"success":{"count":7,"ns":7000},"fail":{"count":2,"ns":300},
                         "queue":{"count":7,"ns":700},"compute_infer":{"count":5,"ns":5000}},
      "batch_stats":[{"batch_size":1,"compute_infer":{"count":5,"ns":5000}}],
      "response_stats":{}}]})";
    return Status::ok();
  }

  void infer(InferRequest r, InferCallback done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_request_ = r;
    }
    if (r.model_name == "accum" || r.model_name == "slow") {
      // Completed on another thread, as the core's queued path does.
      std::lock_guard<std::mutex> lock(mu_);
      workers_.emplace_back([this, r = std::move(r), done = std::move(done)]() mutable {
        if (r.model_name == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(300));
        InferResponse resp;
        Status st = r.model_name == "slow" ? Status::ok() : run_accum(r, &resp);
        resp.model_name = r.model_name;
        resp.id = r.id;
        done(st, std::move(resp));
      });
      return;
    }
    InferResponse resp;
    resp.model_name = r.model_name;
    resp.model_version = "1";
    resp.id = r.id;
    Status st = !known(r.model_name)       ? not_found(r.model_name)
                : r.model_name == "status" ? run_status(r)
                                           : run_add_sub(r, &resp);
    done(st, st ? std::move(resp) : InferResponse{});  // inline: the batch-1 fast path
  }

  std::vector<RepositoryEntry> repository_index() const override {
    return {{"accum", "1", "READY", ""},
            {"add_sub", "1", "READY", ""},
            {"broken", "1", "UNAVAILABLE", "model.onnx: not an ONNX model"}};
  }
  Status load_model(const std::string& name) override {
    if (name == "broken") return {StatusCode::kInvalidModel, "model.onnx: not an ONNX model"};
    return known(name) ? Status::ok() : not_found(name);
  }
  Status unload_model(const std::string& name) override {
    return known(name) ? Status::ok() : not_found(name);
  }
  std::string metrics_text() const override { return ""; }
  void shutdown() override {}

  InferRequest last_request() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_request_;
  }

 private:
  static bool known(const std::string& n) {
    return n == "add_sub" || n == "accum" || n == "status" || n == "slow";
  }
  static Status not_found(const std::string& n) {
    return {StatusCode::kNotFound, "unknown model '" + n + "'"};
  }

  // The core's input checks, written out for the models of this double.
  static Status check_input(const InferRequest& r, const std::string& name, const Shape& shape,
                            const InputTensor** found) {
    for (const auto& in : r.inputs) {
      if (in.name != name) continue;
      if (in.datatype != "FP32") {
        return {StatusCode::kInvalidArgument,
                "input '" + name + "': expected datatype FP32, got " + in.datatype};
      }
      if (in.shape != shape) {
        return {StatusCode::kInvalidArgument, "input '" + name + "': expected shape " +
                                                  shape_to_string(shape) + ", got " +
                                                  shape_to_string(in.shape)};
      }
      const size_t want = static_cast<size_t>(shape_numel(shape)) * sizeof(float);
      if (in.data.size() != want) {
        return {StatusCode::kInvalidArgument, "input '" + name + "': expected " +
                                                  std::to_string(want) + " bytes, got " +
                                                  std::to_string(in.data.size())};
      }
      *found = &in;
      return Status::ok();
    }
    return {StatusCode::kInvalidArgument, "missing input '" + name + "'"};
  }

  static Status run_add_sub(const InferRequest& r, InferResponse* resp) {
    const InputTensor *a = nullptr, *b = nullptr;
    if (Status st = check_input(r, "INPUT0", {1, 4}, &a); !st) return st;
    if (Status st = check_input(r, "INPUT1", {1, 4}, &b); !st) return st;
    std::vector<float> x = floats_of(a->data), y = floats_of(b->data), sum(4), diff(4);
    for (int i = 0; i < 4; ++i) {
      sum[i] = x[i] + y[i];
      diff[i] = x[i] - y[i];
    }
    std::map<std::string, std::string> all = {{"OUTPUT0", bytes_of(sum)},
                                              {"OUTPUT1", bytes_of(diff)}};
    std::vector<std::string> wanted;
    for (const auto& o : r.outputs) wanted.push_back(o.name);
    if (wanted.empty()) wanted = {"OUTPUT0", "OUTPUT1"};
    for (const auto& name : wanted) {
      auto it = all.find(name);
      if (it == all.end()) {
        return {StatusCode::kInvalidArgument, "unknown output '" + name + "'"};
      }
      resp->outputs.push_back({name, "FP32", {1, 4}, it->second});
    }
    return Status::ok();
  }

  Status run_accum(const InferRequest& r, InferResponse* resp) {
    const InputTensor* in = nullptr;
    if (Status st = check_input(r, "INPUT", {1, 1}, &in); !st) return st;
    if (r.sequence_id.empty()) return {StatusCode::kInvalidArgument, "accum needs a sequence_id"};
    std::lock_guard<std::mutex> lock(seq_mu_);
    if (r.sequence_start) sums_[r.sequence_id] = 0;
    auto it = sums_.find(r.sequence_id);
    if (it == sums_.end()) {
      return {StatusCode::kInvalidArgument, "unknown sequence '" + r.sequence_id + "'"};
    }
    it->second += floats_of(in->data)[0];
    resp->outputs.push_back({"OUTPUT", "FP32", {1, 1}, bytes_of({it->second})});
    if (r.sequence_end) sums_.erase(it);
    return Status::ok();
  }

  static Status run_status(const InferRequest& r) {
    int32_t code = 0;
    std::memcpy(&code, r.inputs.at(0).data.data(), sizeof(code));
    return {static_cast<StatusCode>(code), "forced status " + std::to_string(code)};
  }

  std::mutex mu_;
  InferRequest last_request_;
  std::vector<std::thread> workers_;
  std::mutex seq_mu_;
  std::map<std::string, float> sums_;
};

}  // namespace softdpu::server::grpc_test
