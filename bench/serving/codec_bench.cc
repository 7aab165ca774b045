// REST codec cost per request (Google Benchmark): decoding a batch-1 Fashion-MNIST infer body as
// JSON and as a binary-extension body, and encoding a 10-logit JSON response.
//   build/bench/softdpu_bench_serving --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "server/http_infer_codec.h"

namespace softdpu::server {
namespace {

std::vector<float> image() {
  std::vector<float> v(784);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 37) % 256) / 255.0f;
  return v;
}

void BM_DecodeJson784(benchmark::State& state) {
  nlohmann::json j = {
      {"inputs",
       {{{"name", "input"}, {"shape", {1, 1, 28, 28}}, {"datatype", "FP32"}, {"data", image()}}}}};
  const std::string body = j.dump();
  for (auto _ : state) {
    InferRequest r;
    ResponseFormat f;
    benchmark::DoNotOptimize(decode_infer_request(body, -1, &r, &f));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_DecodeJson784);

void BM_DecodeBinary784(benchmark::State& state) {
  nlohmann::json h = {{"inputs",
                       {{{"name", "input"},
                         {"shape", {1, 1, 28, 28}},
                         {"datatype", "FP32"},
                         {"parameters", {{"binary_data_size", 3136}}}}}},
                      {"outputs", {{{"name", "logits"}, {"parameters", {{"binary_data", true}}}}}}};
  const std::string hs = h.dump();
  std::vector<float> x = image();
  const std::string body = hs + std::string(reinterpret_cast<const char*>(x.data()), 3136);
  for (auto _ : state) {
    InferRequest r;
    ResponseFormat f;
    benchmark::DoNotOptimize(decode_infer_request(body, static_cast<int64_t>(hs.size()), &r, &f));
  }
}
BENCHMARK(BM_DecodeBinary784);

void BM_EncodeJson10(benchmark::State& state) {
  InferResponse resp;
  resp.model_name.assign("fashion_mlp", 11);  // (assign: dodges a GCC 12 false -Wrestrict)
  resp.model_version.assign(1, '1');
  std::vector<float> logits = {-3.60f, -6.78f, -5.16f, -6.01f, -5.28f,
                               3.00f,  -4.20f, 3.37f,  -3.40f, 7.00f};
  OutputTensor y;
  y.name.assign("logits", 6);
  y.datatype.assign("FP32", 4);
  y.shape = {1, 10};
  y.data.assign(reinterpret_cast<char*>(logits.data()), 40);
  resp.outputs.push_back(std::move(y));
  for (auto _ : state) {
    std::string body;
    int64_t hl;
    encode_infer_response(resp, ResponseFormat{}, &body, &hl);
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_EncodeJson10);

}  // namespace
}  // namespace softdpu::server
