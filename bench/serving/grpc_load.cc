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

namespace {

namespace pb = ::inference;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string address = "127.0.0.1:8001";
  std::string model;
  std::string version;
  int concurrency = 1;
  double rate = 0;  // requests/s; 0 = closed loop
  double duration_s = 10;
  double warmup_s = 1;
  bool typed = false;
  unsigned seed = 1;
  bool json = false;
};

struct Results {
  std::mutex mu;
  std::vector<double> latencies_us;  // successful calls inside the measured window
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
    Clock::time_point due;
    bool measured;
  };
  constexpr int kMaxOutstanding = 20000;  // bounded memory when the server falls behind
  std::atomic<int> outstanding{0};
  std::mutex done_mu;
  std::condition_variable done_cv;
  std::vector<double> lat;
  uint64_t errors = 0;
  std::string first_error;
  std::mutex lat_mu;

  const auto start = Clock::now();
  const auto measure_from = start + std::chrono::duration<double>(o.warmup_s);
  const auto end = measure_from + std::chrono::duration<double>(o.duration_s);
  const auto period = std::chrono::duration<double>(1.0 / o.rate);
  for (uint64_t i = 0;; ++i) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(period * double(i));
    if (due >= end) break;
    std::this_thread::sleep_until(due);
    if (outstanding.load() >= kMaxOutstanding) {
      if (due >= measure_from) ++out->late;
      continue;
    }
    auto* call = new Call;
    call->due = due;
    call->measured = due >= measure_from;
    outstanding.fetch_add(1);
    stubs[i % stubs.size()]->async()->ModelInfer(
        &call->ctx, &req, &call->resp, [&, call](grpc::Status st) {
          const auto done = Clock::now();
          if (call->measured) {
            std::lock_guard<std::mutex> lock(lat_mu);
            if (st.ok()) {
              lat.push_back(std::chrono::duration<double, std::micro>(done - call->due).count());
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
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p / 100.0 * sorted.size()));
  return sorted[i];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"softdpu gRPC load generator (ModelInfer, batch 1, random FP32 inputs)"};
  app.add_option("--address", o.address, "server host:port")->capture_default_str();
  app.add_option("--model", o.model, "model name")->required();
  app.add_option("--model-version", o.version, "model version (default: the server's choice)");
  app.add_option("-c,--concurrency", o.concurrency, "clients (closed loop) or connections (open)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("-r,--rate", o.rate, "offered requests/s (open loop); 0 = closed loop")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("-d,--duration", o.duration_s, "measured seconds")->capture_default_str();
  app.add_option("--warmup", o.warmup_s, "seconds sent before measuring")->capture_default_str();
  app.add_flag("--typed", o.typed, "send InferTensorContents.fp32_contents instead of raw bytes");
  app.add_option("--seed", o.seed, "seed of the random inputs")->capture_default_str();
  app.add_flag("--json", o.json, "print one JSON line instead of text");
  CLI11_PARSE(app, argc, argv);

  pb::ModelInferRequest req;
  if (!build_request(o, &req)) return 1;
  Results r;
  if (o.rate > 0) {
    open_loop(o, req, &r);
  } else {
    closed_loop(o, req, &r);
  }
  std::sort(r.latencies_us.begin(), r.latencies_us.end());
  const double n = static_cast<double>(r.latencies_us.size());
  const double p50 = percentile(r.latencies_us, 50), p99 = percentile(r.latencies_us, 99),
               p999 = percentile(r.latencies_us, 99.9);
  const double max = r.latencies_us.empty() ? 0 : r.latencies_us.back();
  const double throughput = n / o.duration_s;
  const char* mode = o.rate > 0 ? "open" : "closed";
  if (o.json) {
    std::printf(
        "{\"model\":\"%s\",\"mode\":\"%s\",\"concurrency\":%d,\"offered_rps\":%.1f,"
        "\"contents\":\"%s\",\"ok\":%.0f,\"errors\":%llu,\"late\":%llu,\"throughput_rps\":%.1f,"
        "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f}\n",
        o.model.c_str(), mode, o.concurrency, o.rate, o.typed ? "typed" : "raw", n,
        static_cast<unsigned long long>(r.errors), static_cast<unsigned long long>(r.late),
        throughput, p50, p99, p999, max);
  } else {
    std::printf("model %s, %s loop, concurrency %d, offered %s, %s contents, %.0f s measured\n",
                o.model.c_str(), mode, o.concurrency,
                o.rate > 0 ? (std::to_string(static_cast<long>(o.rate)) + " req/s").c_str() : "-",
                o.typed ? "typed" : "raw", o.duration_s);
    std::printf("  ok %.0f  errors %llu  late %llu  throughput %.1f req/s\n", n,
                static_cast<unsigned long long>(r.errors), static_cast<unsigned long long>(r.late),
                throughput);
    std::printf("  latency us: p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", p50, p99, p999, max);
  }
  if (!r.first_error.empty()) std::fprintf(stderr, "first error: %s\n", r.first_error.c_str());
  return r.errors == 0 && n > 0 ? 0 : 2;
}
