// LibTorch peer for softdpu's batch-1 benchmarks: loads a TorchScript module, runs warm-up then
// timed iterations under NoGradGuard + InferenceMode on the given .npy inputs, prints one JSON
// object with the same fields as `softdpu bench --json` and the ONNX Runtime peer, plus which BLAS
// library the process actually mapped (Debian's default libblas.so.3 is the slow reference BLAS;
// bench/peers/README.md explains how OpenBLAS is selected).
//
//   softdpu_peer_libtorch MODEL.pt --input FILE.npy [--input FILE2.npy] [--threads 1]
//       [--iterations 1000] [--warmup 50] [--output-npy OUT.npy] [--latencies]
#include <ATen/Parallel.h>
#include <sys/resource.h>
#include <torch/script.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "npy_min.h"

namespace {

struct Args {
  std::string model;
  std::vector<std::string> inputs;
  int threads = 1;
  int iterations = 1000;
  int warmup = 50;
  std::string output_npy;
  bool latencies = false;
};

[[noreturn]] void usage(const std::string& msg) {
  std::cerr
      << "error: " << msg
      << "\nusage: softdpu_peer_libtorch MODEL.pt --input FILE.npy [--threads N] [--iterations N]"
         " [--warmup N] [--output-npy OUT.npy] [--latencies]\n";
  std::exit(2);
}

int to_int(const std::string& flag, const std::string& v, int min) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < min || n > 1000000000)
    usage(flag + ": expected an integer >= " + std::to_string(min) + ", got '" + v + "'");
  return static_cast<int>(n);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(k + " needs a value");
      return argv[++i];
    };
    if (k == "--threads")
      a.threads = to_int(k, value(), 1);
    else if (k == "--iterations")
      a.iterations = to_int(k, value(), 1);
    else if (k == "--warmup")
      a.warmup = to_int(k, value(), 0);
    else if (k == "--input" || k == "-i")
      a.inputs.push_back(value());
    else if (k == "--output-npy")
      a.output_npy = value();
    else if (k == "--latencies")
      a.latencies = true;
    else if (!k.empty() && k[0] == '-')
      usage("unknown flag " + k);
    else if (a.model.empty())
      a.model = k;
    else
      usage("unexpected argument " + k);
  }
  if (a.model.empty()) usage("MODEL.pt is required");
  return a;
}

torch::Tensor to_torch(const npy::Array& arr) {
  std::vector<int64_t> dims(arr.shape.begin(), arr.shape.end());
  auto dtype = arr.descr == "<f4" ? torch::kFloat32 : torch::kInt64;
  return torch::from_blob(const_cast<char*>(arr.data.data()), dims, dtype).clone();
}

// The shared objects this process mapped whose file name mentions BLAS (OpenBLAS, reference BLAS,
// MKL), read from /proc/self/maps: the only reliable answer to "which BLAS does torch call".
std::vector<std::string> mapped_blas() {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> libs;
  std::string line;
  while (std::getline(maps, line)) {
    size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    std::string base = path.substr(path.rfind('/') + 1);
    if (base.find("blas") != std::string::npos || base.find("mkl") != std::string::npos)
      libs.insert(path);
  }
  return {libs.begin(), libs.end()};
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p / 100.0 * (sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

int run(const Args& a) {
  // Threads first: set_num_interop_threads must precede any inter-op work.
  at::set_num_interop_threads(1);
  at::set_num_threads(a.threads);
  std::vector<torch::jit::IValue> inputs;
  for (const std::string& path : a.inputs) inputs.emplace_back(to_torch(npy::read(path)));

  auto t0 = std::chrono::steady_clock::now();
  torch::jit::script::Module module = torch::jit::load(a.model);
  module.eval();
  double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  c10::InferenceMode inference_mode;
  torch::NoGradGuard no_grad;
  torch::jit::IValue out;
  for (int i = 0; i < a.warmup; ++i) out = module.forward(inputs);
  std::vector<double> us(a.iterations);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < a.iterations; ++i) {
    auto b = std::chrono::steady_clock::now();
    out = module.forward(inputs);
    us[i] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - b).count();
  }
  double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (!a.output_npy.empty()) {
    torch::Tensor o = (out.isTuple() ? out.toTuple()->elements()[0] : out)
                          .toTensor()
                          .contiguous()
                          .to(torch::kFloat32);
    npy::write_f32(a.output_npy, o.data_ptr<float>(),
                   std::vector<int64_t>(o.sizes().begin(), o.sizes().end()));
  }
  std::vector<double> sorted = us;
  std::sort(sorted.begin(), sorted.end());
  double mean = 0;
  for (double v : us) mean += v;
  mean /= std::max<size_t>(us.size(), 1);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::vector<std::string> blas = mapped_blas();
  bool openblas = std::any_of(blas.begin(), blas.end(), [](const std::string& p) {
    return p.find("openblas") != std::string::npos;
  });
  nlohmann::json j = {
      {"engine", "libtorch"},
      {"engine_version", TORCH_VERSION},
      {"model", a.model},
      {"batch", 1},
      {"threads", a.threads},
      {"torch_threads", at::get_num_threads()},
      {"iterations", a.iterations},
      {"warmup", a.warmup},
      {"p50_us", percentile(sorted, 50)},
      {"p90_us", percentile(sorted, 90)},
      {"p99_us", percentile(sorted, 99)},
      {"min_us", sorted.empty() ? 0 : sorted.front()},
      {"max_us", sorted.empty() ? 0 : sorted.back()},
      {"mean_us", mean},
      {"throughput_per_s", total_s > 0 ? a.iterations / total_s : 0},
      {"peak_rss_bytes", static_cast<int64_t>(ru.ru_maxrss) * 1024},
      {"load_ms", load_ms},
      {"blas_libraries", blas},
      {"blas", openblas ? "openblas" : (blas.empty() ? "none mapped" : "reference (not OpenBLAS)")},
      {"parallel_info", at::get_parallel_info()},
  };
  if (a.latencies) j["latencies_us"] = us;
  std::cout << j.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  try {
    return run(a);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
