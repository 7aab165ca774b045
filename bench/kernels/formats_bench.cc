// Batch-1, one-thread matrix-vector products with packed weights in every format, against our
// FP32 kernel (kernels::gemm_packed). "weights_B/s" counts the packed weight bytes (codes, block
// scales, row scales) streamed per second: compare it with the measured read bandwidth in
// ../shared/BUILD-NOTES.md (DRAM ~22 GB/s, L3 64-100 GB/s on one core).
//
//   BM_QGemv/<format>/<n>        y = W x, W n x n; the same matrix every iteration, so weights
//                                that fit in L3 (32 MiB here) stay there: the CPU analogue of
//                                BrainWave's weights pinned on chip.
//   BM_QGemvCold/<format>/<n>    cycles through enough copies of W (>= 96 MiB in all) that every
//                                call streams its weights from DRAM.
//   .../native                   kNative activations (MXINT8 x MXINT8 with VNNI, bf16 x bf16).
//   BM_QGemvRecurrent/<format>/<H>/<layout>/t<threads>
//                                an LSTM's per-step product H_{t-1} · Rᵀ (R is 4H x H, kNative
//                                activations): `rows` is the row-major qgemm kernel, `panels`
//                                the 16-row interleaved layout (qgemv_panels.h) the RNN plans use.
//   BM_Fp32GemmPacked/<n>        the FP32 reference point (64 MiB at 4096: always from DRAM).
//   BM_QGemm.../m16              16 activation rows (batched calls, Conv): decoded weights are
//                                reused across rows, so these run near FMA peak, not bandwidth.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_data.h"
#include "core/thread_pool.h"
#include "formats/packed.h"
#include "kernels/linalg/gemm.h"
#include "kernels/quant/qgemm.h"
#include "kernels/quant/qgemv_panels.h"

namespace {

using namespace softdpu;
using namespace softdpu::kernels;

using bench::normal_vec;

void set_counters(benchmark::State& state, double weight_bytes, double n, double k) {
  state.counters["weights_B/s"] =
      benchmark::Counter(weight_bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bits/w"] = weight_bytes * 8 / (n * k);
}

void run_qgemv(benchmark::State& state, const std::string& format, int64_t n, bool native,
               bool cold, int64_t m = 1) {
  const int64_t k = n;
  const std::vector<float> w = normal_vec(size_t(n * k), 1, 0.05f);
  const std::vector<float> x = normal_vec(size_t(m * k), 2, 1.f);
  std::vector<float> y(static_cast<size_t>(m * n));
  const formats::WeightFormat f = formats::parse_format(format);
  std::vector<formats::PackedMatrix> copies = {formats::PackedMatrix::pack(w.data(), n, k, k, f)};
  if (cold) {
    // Packing is slow (scalar reference encoders): copy the packed bytes instead.
    const size_t count = std::max<size_t>(1, (size_t(96) << 20) / copies[0].bytes() + 1);
    for (size_t c = 1; c < count; ++c) copies.push_back(copies[0].clone());
  }
  ThreadPool pool(1);
  QGemmOptions opt;
  opt.activations = native ? QuantActivations::kNative : QuantActivations::kFp32;
  std::vector<uint8_t> scratch(qgemm_scratch_bytes(m, copies[0], opt) + 64);
  void* aligned = scratch.data() + (64 - reinterpret_cast<uintptr_t>(scratch.data()) % 64) % 64;
  size_t next = 0;
  for (auto _ : state) {
    qgemm(m, x.data(), k, copies[next], y.data(), n, GemmEpilogue{}, &pool, opt, aligned);
    next = next + 1 == copies.size() ? 0 : next + 1;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, double(copies[0].bytes()), double(n), double(k));
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
}

void run_recurrent(benchmark::State& state, const std::string& format, int64_t h, bool panels,
                   int threads) {
  const int64_t n = 4 * h, k = h;
  const std::vector<float> w = normal_vec(size_t(n * k), 1, 0.05f);
  const std::vector<float> x = normal_vec(size_t(k), 2, 1.f);
  std::vector<float> y(static_cast<size_t>(n));
  const formats::PackedMatrix packed =
      formats::PackedMatrix::pack(w.data(), n, k, k, formats::parse_format(format));
  const PanelMatrix pm = PanelMatrix::from(packed);
  ThreadPool pool(threads);
  QGemmOptions opt;
  opt.activations = QuantActivations::kNative;
  std::vector<uint8_t> scratch(
      std::max(qgemm_scratch_bytes(1, packed, opt), qgemv_panels_scratch_bytes(1, pm)) + 64);
  void* aligned = scratch.data() + (64 - reinterpret_cast<uintptr_t>(scratch.data()) % 64) % 64;
  for (auto _ : state) {
    if (panels)
      qgemv_panels(1, x.data(), k, pm, y.data(), n, GemmEpilogue{}, &pool, aligned);
    else
      qgemm(1, x.data(), k, packed, y.data(), n, GemmEpilogue{}, &pool, opt, aligned);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, double(packed.bytes()), double(n), double(k));
  state.counters["MAC/s"] =
      benchmark::Counter(double(n * k), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Fp32GemmPacked(benchmark::State& state) {
  const int64_t n = state.range(0), k = n, m = state.range(1);
  const std::vector<float> w = normal_vec(size_t(n * k), 1, 0.05f);
  const std::vector<float> x = normal_vec(size_t(m * k), 2, 1.f);
  std::vector<float> y(static_cast<size_t>(m * n));
  // y[1, N] = x[1, K] * W^T: W (N x K row-major) is B transposed.
  const PackedB packed = PackedB::pack(w.data(), k, n, k, true);
  ThreadPool pool(1);
  for (auto _ : state) {
    gemm_packed(m, x.data(), k, packed, y.data(), n, GemmEpilogue{}, &pool);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, double(packed.bytes()), double(n), double(k));
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Fp32GemmPacked)
    ->Args({1024, 1})
    ->Args({4096, 1})
    ->Args({1024, 16})
    ->Unit(benchmark::kMicrosecond);

const char* const kFormats[] = {
    "fp32",       "bf16",       "fp16",       "int8",   "mxint8", "mxfp8_e4m3", "mxfp8_e5m2",
    "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4_e2m1", "ms-fp8", "ms-fp9", "msfp12",     "msfp16"};

// Registered at start-up so every format gets its own named benchmark.
const bool kRegistered = [] {
  for (bool cold : {false, true}) {
    for (int64_t n : {1024, 4096}) {
      if (cold && n != 4096) continue;
      for (const char* f : kFormats) {
        for (bool native : {false, true}) {
          if (native && !qgemm_has_native_path(formats::parse_format(f))) continue;
          const std::string name = std::string(cold ? "BM_QGemvCold/" : "BM_QGemv/") + f + "/" +
                                   std::to_string(n) + (native ? "/native" : "");
          benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) {
            run_qgemv(s, f, n, native, cold);
          })->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
  for (const char* f :
       {"fp32", "bf16", "mxint8", "mxfp8_e4m3", "mxfp6_e2m3", "mxfp4_e2m1", "msfp12"}) {
    const std::string name = std::string("BM_QGemm/") + f + "/1024/m16";
    benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) {
      run_qgemv(s, f, 1024, false, false, 16);
    })->Unit(benchmark::kMicrosecond);
  }
  // rows and panels of one case register next to each other, so they run back to back.
  for (const char* f : {"mxint8", "mxfp4_e2m1"}) {
    for (int64_t h : {256, 1024}) {
      for (int threads : {1, 2}) {
        for (bool panels : {false, true}) {
          const std::string name = std::string("BM_QGemvRecurrent/") + f + "/" + std::to_string(h) +
                                   (panels ? "/panels" : "/rows") + "/t" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) {
            run_recurrent(s, f, h, panels, threads);
          })->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
  return true;
}();

}  // namespace
