// Compressed weight formats (docs/compression.md) against our dense FP32 (PackedB + gemm_packed)
// and MXINT8 (qgemm) kernels on the same shapes: batch 1, one thread.
//
//   BM_CircDense/<n>, BM_CircMxint8/<n>   y = W x with W n x n, dense
//   BM_Circulant/<n>/b<b>                 the same product with W block-circulant (FFT path)
//   BM_EieDense/<layer>, BM_EieMxint8/<layer>, BM_EieSparse/<layer>, BM_EieSparsePrev/<layer>,
//   BM_EieColumns/<layer>
//       the EIE paper's layers (Han et al., ISCA'16, Table III) with its weight and activation
//       densities; the sparse weights use a 4-bit codebook (EIE's format); the activations are
//       ReLU-like (zeros at the given rate), which only the sparse kernels exploit. BM_EieSparse
//       runs apply() as the engine does (the row-entry kernel on AVX-512), BM_EieSparsePrev the
//       previous row-entry loop (SparseOptions::previous_row_entry_loop), BM_EieColumns the EIE
//       column kernel (SparseOptions::row_entries = false), for the A/Bs. "active_nonzeros" is
//       the updates a sparse call makes (non-zero weights of the non-zero activations' columns).
// "weight_bytes" is what each kernel streams per call. Dense weights of these sizes come from
// DRAM on every call (>= 4 MiB); compressed ones may fit in cache: that is the point.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_data.h"
#include "compress/circulant.h"
#include "compress/circulant_matrix.h"
#include "compress/sparse_matrix.h"
#include "core/thread_pool.h"
#include "formats/packed.h"
#include "kernels/linalg/gemm.h"
#include "kernels/quant/qgemm.h"

namespace {

using namespace softdpu;
using namespace softdpu::kernels;

using bench::normal_vec;

// ReLU-like activations: `density` of them positive, the rest exactly zero.
std::vector<float> activations(size_t n, double density, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng) < density ? 0.1f + u(rng) : 0.f;
  return v;
}

using AlignedBytes = std::vector<uint8_t, AlignedAllocator<uint8_t>>;

// The dense forms of one N x K shape, built once and shared by the benchmarks of that shape
// (registered next to each other); a new shape frees the previous one.
struct DenseForms {
  int64_t n = 0, k = 0;
  std::vector<float> w;
  std::unique_ptr<PackedB> fp32;
  std::unique_ptr<formats::PackedMatrix> mxint8;
};

DenseForms& dense_forms(int64_t n, int64_t k) {
  static DenseForms d;
  if (d.n != n || d.k != k) {
    d = DenseForms{};
    d.n = n;
    d.k = k;
    d.w = normal_vec(size_t(n * k), 1, 0.05f);
  }
  return d;
}

void weight_counters(benchmark::State& state, double bytes, int64_t n, int64_t k) {
  state.counters["weight_bytes"] = bytes;
  state.counters["bits/w"] = bytes * 8 / double(n * k);
}

void run_dense(benchmark::State& state, int64_t n, int64_t k, double act_density) {
  DenseForms& d = dense_forms(n, k);
  if (!d.fp32) d.fp32 = std::make_unique<PackedB>(PackedB::pack(d.w.data(), k, n, k, true));
  const std::vector<float> x = activations(size_t(k), act_density, 2);
  std::vector<float> y(static_cast<size_t>(n));
  ThreadPool pool(1);
  for (auto _ : state) {
    gemm_packed(1, x.data(), k, *d.fp32, y.data(), n, GemmEpilogue{}, &pool);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  weight_counters(state, double(d.fp32->bytes()), n, k);
}

void run_mxint8(benchmark::State& state, int64_t n, int64_t k, double act_density) {
  DenseForms& d = dense_forms(n, k);
  if (!d.mxint8) {
    d.mxint8 = std::make_unique<formats::PackedMatrix>(
        formats::PackedMatrix::pack(d.w.data(), n, k, k, formats::parse_format("mxint8")));
  }
  const std::vector<float> x = activations(size_t(k), act_density, 2);
  std::vector<float> y(static_cast<size_t>(n));
  AlignedBytes scratch(qgemm_scratch_bytes(1, *d.mxint8, {}) + 64);
  ThreadPool pool(1);
  for (auto _ : state) {
    qgemm(1, x.data(), k, *d.mxint8, y.data(), n, GemmEpilogue{}, &pool, {}, scratch.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  weight_counters(state, double(d.mxint8->bytes()), n, k);
}

void run_circulant(benchmark::State& state, int64_t n, int b) {
  compress::CirculantVectors v;
  v.n = v.k = n;
  v.block = b;
  v.p = v.q = n / b;
  v.c = normal_vec(size_t(v.p * v.q * b), 3, 0.05f);
  const compress::CirculantMatrix cm(v);
  const std::vector<float> x = normal_vec(size_t(n), 2, 1.f);
  std::vector<float> y(static_cast<size_t>(n));
  AlignedBytes scratch(cm.scratch_bytes(1));
  for (auto _ : state) {
    cm.apply(1, x.data(), n, y.data(), n, GemmEpilogue{}, nullptr, scratch.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  weight_counters(state, double(cm.bytes()), n, n);
}

void run_sparse(benchmark::State& state, int64_t n, int64_t k, double w_density, double act_density,
                bool row_entries, bool previous_loop = false) {
  std::unique_ptr<compress::SparseMatrix> sm;
  const std::vector<float> x = activations(size_t(k), act_density, 2);
  int64_t active_nonzeros = 0;  // the updates a call makes: non-zero weights of active columns
  {
    // Random pruning mask: magnitude pruning of i.i.d. weights keeps a random subset too.
    std::vector<float> w = normal_vec(size_t(n * k), 4, 0.05f);
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    for (float& v : w)
      if (u(rng) >= w_density) v = 0.f;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c) active_nonzeros += x[c] != 0.f && w[r * k + c] != 0.f;
    sm = std::make_unique<compress::SparseMatrix>(
        w.data(), n, k, k, compress::SparseOptions{1, 4, "fp32", row_entries, previous_loop});
  }
  std::vector<float> y(static_cast<size_t>(n));
  AlignedBytes scratch(sm->scratch_bytes(1));
  for (auto _ : state) {
    sm->apply(1, x.data(), k, y.data(), n, GemmEpilogue{}, nullptr, scratch.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  weight_counters(state, double(sm->bytes()), n, k);
  state.counters["entries"] = double(sm->entries());
  state.counters["row_entry_bytes"] = double(sm->row_entry_bytes());
  state.counters["active_nonzeros"] = double(active_nonzeros);
}

struct EieLayer {
  const char* name;
  int64_t k, n;  // input x output, as the paper lists them
  double w_density, act_density;
};
// Han et al., EIE (ISCA'16), Table III.
constexpr EieLayer kEie[] = {
    {"Alex-6", 9216, 4096, 0.09, 0.35},  {"Alex-7", 4096, 4096, 0.09, 0.35},
    {"Alex-8", 4096, 1000, 0.25, 0.38},  {"VGG-6", 25088, 4096, 0.04, 0.18},
    {"NT-LSTM", 1201, 2400, 0.10, 1.00},
};

const bool kRegistered = [] {
  for (int64_t n : {256, 512, 1024, 2048, 4096, 8192}) {
    const std::string s = std::to_string(n);
    benchmark::RegisterBenchmark(("BM_CircDense/" + s).c_str(), [=](benchmark::State& st) {
      run_dense(st, n, n, 1.0);
    })->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_CircMxint8/" + s).c_str(), [=](benchmark::State& st) {
      run_mxint8(st, n, n, 1.0);
    })->Unit(benchmark::kMicrosecond);
    for (int b : {64, 128}) {
      benchmark::RegisterBenchmark(("BM_Circulant/" + s + "/b" + std::to_string(b)).c_str(),
                                   [=](benchmark::State& st) { run_circulant(st, n, b); })
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (const EieLayer& l : kEie) {
    const std::string s = l.name;
    benchmark::RegisterBenchmark(("BM_EieDense/" + s).c_str(), [=](benchmark::State& st) {
      run_dense(st, l.n, l.k, l.act_density);
    })->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_EieMxint8/" + s).c_str(), [=](benchmark::State& st) {
      run_mxint8(st, l.n, l.k, l.act_density);
    })->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_EieSparse/" + s).c_str(), [=](benchmark::State& st) {
      run_sparse(st, l.n, l.k, l.w_density, l.act_density, true);
    })->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_EieSparsePrev/" + s).c_str(), [=](benchmark::State& st) {
      run_sparse(st, l.n, l.k, l.w_density, l.act_density, true, true);
    })->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_EieColumns/" + s).c_str(), [=](benchmark::State& st) {
      run_sparse(st, l.n, l.k, l.w_density, l.act_density, false);
    })->Unit(benchmark::kMicrosecond);
  }
  return true;
}();

}  // namespace
