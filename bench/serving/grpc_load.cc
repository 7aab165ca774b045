// softdpu_grpc_load: a small gRPC load generator for the Open Inference Protocol's ModelInfer
// (docs/serving-grpc.md, "Load generator"). It reads the model's inputs from ModelMetadata, fills
// FP32 tensors with random values (batch 1: a -1 dimension becomes 1) and sends them either
//  - closed loop: C clients, each on its own connection, each sending its next request when the
//    previous answer arrives (measures latency at a given concurrency and the peak throughput), or
//  - open loop: a fixed offered rate R spread over C connections; each latency is counted from the
//    moment the request was due, not when it was sent, so a stalled server cannot hide its queue
//    (no coordinated omission).
// Reports p50 / p99 / p99.9 latency and throughput of the successful calls after a warm-up.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "grpc_predict_v2.grpc.pb.h"
#include "load_report.h"

namespace {

namespace pb = ::inference;
using Clock = std::chrono::steady_clock;

struct Options : softdpu::bench::LoadShape {
  std::string address = "127.0.0.1:8001";
  std::string model;
  std::string version;
  bool typed = false;
  unsigned seed = 1;
};

struct Results {
  std::mutex mu;
  std::vector<double> latencies_us;  // successful calls inside the measured window
  std::vector<double> send_late_us;  // open loop: issue time - due time of the measured calls
  std::vector<double> from_send_us;  // open loop: answer time - issue time
  uint64_t errors = 0;
  uint64_t late = 0;  // open loop: requests not sent because too many were outstanding
  std::string first_error;

  void add(const std::vector<double>& lat, uint64_t errs, const std::string& err) {
    std::lock_guard<std::mutex> lock(mu);
    latencies_us.insert(latencies_us.end(), lat.begin(), lat.end());
    errors += errs;
    if (first_error.empty()) first_error = err;
  }
};

std::shared_ptr<grpc::Channel> make_channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  // One TCP connection per channel: clients must not share one socket behind our back.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

bool build_request(const Options& o, pb::ModelInferRequest* req) {
  auto stub = pb::GRPCInferenceService::NewStub(make_channel(o.address));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  pb::ModelMetadataRequest mreq;
  mreq.set_name(o.model);
  mreq.set_version(o.version);
  pb::ModelMetadataResponse md;
  grpc::Status st = stub->ModelMetadata(&ctx, mreq, &md);
  if (!st.ok()) {
    std::fprintf(stderr, "grpc_load: ModelMetadata(%s) failed: %s\n", o.model.c_str(),
                 st.error_message().c_str());
    return false;
  }
  std::mt19937 rng(o.seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  req->set_model_name(o.model);
  req->set_model_version(o.version);
  for (const auto& t : md.inputs()) {
    if (t.datatype() != "FP32") {
      std::fprintf(stderr, "grpc_load: input '%s' is %s; grpc_load sends FP32 inputs only\n",
                   t.name().c_str(), t.datatype().c_str());
      return false;
    }
    auto* in = req->add_inputs();
    in->set_name(t.name());
    in->set_datatype("FP32");
    int64_t numel = 1;
    for (int64_t d : t.shape()) {
      const int64_t dim = d < 0 ? 1 : d;  // batch 1
      in->add_shape(dim);
      numel *= dim;
    }
    std::vector<float> values(static_cast<size_t>(numel));
    for (float& v : values) v = dist(rng);
    if (o.typed) {
      for (float v : values) in->mutable_contents()->add_fp32_contents(v);
    } else {
      req->add_raw_input_contents(
          std::string(reinterpret_cast<const char*>(values.data()), values.size() * 4));
    }
  }
  return true;
}

void closed_loop(const Options& o, const pb::ModelInferRequest& req, Results* out) {
  const auto start = Clock::now();
  const auto measure_from = start + std::chrono::duration<double>(o.warmup_s);
  const auto end = measure_from + std::chrono::duration<double>(o.duration_s);
  std::vector<std::thread> clients;
  for (int c = 0; c < o.concurrency; ++c) {
    clients.emplace_back([&] {
      auto stub = pb::GRPCInferenceService::NewStub(make_channel(o.address));
      std::vector<double> lat;
      lat.reserve(1 << 16);
      uint64_t errors = 0;
      std::string first_error;
      pb::ModelInferResponse resp;
      for (auto now = Clock::now(); now < end; now = Clock::now()) {
        grpc::ClientContext ctx;
        resp.Clear();
        grpc::Status st = stub->ModelInfer(&ctx, req, &resp);
        const auto done = Clock::now();
        if (now < measure_from) continue;
        if (st.ok()) {
          lat.push_back(std::chrono::duration<double, std::micro>(done - now).count());
        } else {
          ++errors;
          if (first_error.empty()) first_error = st.error_message();
        }
      }
      out->add(lat, errors, first_error);
    });
  }
  for (auto& t : clients) t.join();
}

void open_loop(const Options& o, const pb::ModelInferRequest& req, Results* out) {
  std::vector<std::unique_ptr<pb::GRPCInferenceService::Stub>> stubs;
  for (int c = 0; c < o.concurrency; ++c) {
    stubs.push_back(pb::GRPCInferenceService::NewStub(make_channel(o.address)));
  }
  struct Call {
    grpc::ClientContext ctx;
    pb::ModelInferResponse resp;
    Clock::time_point due, sent;
    bool measured;
  };
  constexpr int kMaxOutstanding = 20000;  // bounded memory when the server falls behind
  std::atomic<int> outstanding{0};
  std::mutex done_mu;
  std::condition_variable done_cv;
  std::vector<double> lat, send_late, from_send;
  uint64_t errors = 0;
  std::string first_error;
  std::mutex lat_mu;

  const auto start = Clock::now();
  const auto measure_from = start + std::chrono::duration<double>(o.warmup_s);
  const auto end = measure_from + std::chrono::duration<double>(o.duration_s);
  const auto period = std::chrono::duration<double>(1.0 / o.rate);
  // Reserved up front: a reallocation inside the pacing loop would add to the lateness measured.
  const size_t expected = static_cast<size_t>(o.rate * (o.warmup_s + o.duration_s)) + 16;
  send_late.reserve(expected);
  lat.reserve(expected);
  from_send.reserve(expected);
  softdpu::bench::set_timer_slack(o);
  for (uint64_t i = 0;; ++i) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(period * double(i));
    if (due >= end) break;
    softdpu::bench::wait_until<Clock>(o, due);
    const auto sent = Clock::now();
    if (outstanding.load() >= kMaxOutstanding) {
      if (due >= measure_from) ++out->late;
      continue;
    }
    auto* call = new Call;
    call->due = due;
    call->sent = sent;
    call->measured = due >= measure_from;
    if (call->measured)
      send_late.push_back(std::chrono::duration<double, std::micro>(sent - due).count());
    outstanding.fetch_add(1);
    stubs[i % stubs.size()]->async()->ModelInfer(
        &call->ctx, &req, &call->resp, [&, call](grpc::Status st) {
          const auto done = Clock::now();
          if (call->measured) {
            std::lock_guard<std::mutex> lock(lat_mu);
            if (st.ok()) {
              lat.push_back(std::chrono::duration<double, std::micro>(done - call->due).count());
              from_send.push_back(
                  std::chrono::duration<double, std::micro>(done - call->sent).count());
            } else {
              ++errors;
              if (first_error.empty()) first_error = st.error_message();
            }
          }
          delete call;
          // Decrement under the lock: the waiter may return (and destroy done_mu) as soon as
          // it sees zero.
          std::lock_guard<std::mutex> lock(done_mu);
          if (outstanding.fetch_sub(1) == 1) done_cv.notify_all();
        });
  }
  std::unique_lock<std::mutex> lock(done_mu);
  done_cv.wait(lock, [&] { return outstanding.load() == 0; });
  out->add(lat, errors, first_error);
  out->send_late_us = std::move(send_late);
  out->from_send_us = std::move(from_send);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"softdpu gRPC load generator (ModelInfer, batch 1, random FP32 inputs)"};
  app.add_option("--address", o.address, "server host:port")->capture_default_str();
  app.add_option("--model", o.model, "model name")->required();
  app.add_option("--model-version", o.version, "model version (default: the server's choice)");
  softdpu::bench::add_load_shape_options(app, &o, "clients (closed loop) or connections (open)");
  app.add_flag("--typed", o.typed, "send InferTensorContents.fp32_contents instead of raw bytes");
  app.add_option("--seed", o.seed, "seed of the random inputs")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  pb::ModelInferRequest req;
  if (!build_request(o, &req)) return 1;
  Results r;
  if (o.rate > 0) {
    open_loop(o, req, &r);
  } else {
    closed_loop(o, req, &r);
  }
  softdpu::bench::LoadReport rep =
      softdpu::bench::make_report(o, o.model, o.typed ? "typed" : "raw");
  rep.latencies_us = std::move(r.latencies_us);
  rep.send_late_us = std::move(r.send_late_us);
  rep.from_send_us = std::move(r.from_send_us);
  rep.errors = r.errors;
  rep.late = r.late;
  rep.first_error = r.first_error;
  return softdpu::bench::print_report(rep, o.json);
}
