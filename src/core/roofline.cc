#include "core/roofline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include "core/cpu.h"
#include "core/roofline_loops.h"

namespace softdpu {
namespace {

using Clock = std::chrono::steady_clock;
namespace rl = roofline_loops;

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<unsigned char, AlignedFree>;

Buffer make_buffer(size_t bytes) {
  // aligned_alloc wants the size to be a multiple of the alignment.
  Buffer b(static_cast<unsigned char*>(std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096)));
  if (b) std::memset(b.get(), 0x5a, bytes);  // touch every page before timing
  return b;
}

size_t round_down_512(size_t n) {
  return std::max<size_t>(n / 512 * 512, 512);
}

// Runs body(thread index) on `threads` threads started together; returns wall seconds from the
// common start to the last finish.
template <class Body>
double timed_parallel(int threads, Body body) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      body(t);
    });
  while (ready.load() < threads - 1) {
  }
  auto t0 = Clock::now();
  go.store(true, std::memory_order_release);
  body(0);
  for (std::thread& th : pool) th.join();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::atomic<unsigned long long> g_sink{0};  // results land here so no loop is dead code

double measure_bandwidth(size_t per_thread, int threads, const RooflineOptions& o) {
  std::vector<Buffer> bufs;
  for (int t = 0; t < threads; ++t) {
    bufs.push_back(make_buffer(per_thread));
    if (!bufs.back()) return 0;
  }
  // Calibrate: passes per trial so that one trial lasts about seconds_per_trial.
  auto c0 = Clock::now();
  g_sink += read_stream(bufs[0].get(), per_thread);
  double one = std::max(std::chrono::duration<double>(Clock::now() - c0).count(), 1e-7);
  const int passes = std::max(2, static_cast<int>(o.seconds_per_trial / one));
  double best = 0;
  for (int trial = 0; trial < o.trials; ++trial) {
    double s = timed_parallel(threads, [&](int t) {
      unsigned long long x = 0;
      for (int p = 0; p < passes; ++p) x += read_stream(bufs[t].get(), per_thread);
      g_sink += x;
    });
    best = std::max(best, static_cast<double>(per_thread) * threads * passes / s / 1e9);
  }
  return best;
}

template <class Fn>
double measure_rate(int threads, double units_per_iter, Fn fn, const RooflineOptions& o) {
  auto c0 = Clock::now();
  g_sink += static_cast<unsigned long long>(fn(100000));
  double per_iter =
      std::max(std::chrono::duration<double>(Clock::now() - c0).count() / 100000, 1e-10);
  const int64_t iters =
      std::max<int64_t>(1000, static_cast<int64_t>(o.seconds_per_trial / per_iter));
  double best = 0;
  for (int trial = 0; trial < o.trials; ++trial) {
    double s =
        timed_parallel(threads, [&](int) { g_sink += static_cast<unsigned long long>(fn(iters)); });
    best = std::max(best, units_per_iter * static_cast<double>(iters) * threads / s / 1e9);
  }
  return best;
}

// Working sets from about 2x L2 to 256 MiB in steps of sqrt(2), one thread, fewer trials than
// the headline figures: the sweep only has to tell a plateau from a cliff.
std::vector<BandwidthPoint> sweep_l3(const CacheSizes& c, const RooflineOptions& o) {
  RooflineOptions quick = o;
  quick.trials = std::max(3, o.trials / 6);
  std::vector<BandwidthPoint> sweep;
  for (double ws = std::max<double>(2.0 * c.l2, 2 << 20); ws <= double(size_t{256} << 20) * 1.01;
       ws *= std::sqrt(2.0)) {
    const size_t bytes = round_down_512(static_cast<size_t>(ws));
    sweep.push_back({"sweep", bytes, 1, measure_bandwidth(bytes, 1, quick)});
  }
  return sweep;
}

}  // namespace

unsigned long long read_stream(const void* buf, size_t bytes) {
  switch (active_isa()) {
    case Isa::kAvx512: return rl::read_avx512(buf, bytes);
    case Isa::kAvx2: return rl::read_avx2(buf, bytes);
    default: return rl::read_scalar(buf, bytes);
  }
}

size_t roofline_working_set(const CacheSizes& c, const std::string& level, int threads) {
  if (level == "L1") return round_down_512(c.l1d / 2) * threads;
  if (level == "L2") return round_down_512(c.l2 / 2) * threads;
  if (level == "L3") return round_down_512(std::max(c.l3 / 4, 2 * c.l2 * threads));
  return round_down_512(std::max<size_t>(4 * c.l3, size_t{256} << 20));
}

Roofline measure_roofline(const RooflineOptions& o) {
  Roofline r;
  r.caches = read_cache_sizes();
  if (r.caches.l3_source == CacheSource::kDefault) {
    r.l3_sweep = sweep_l3(r.caches, o);
    std::vector<std::pair<size_t, double>> points;
    for (const BandwidthPoint& p : r.l3_sweep) points.emplace_back(p.working_set, p.gb_per_s);
    if (const size_t l3 = l3_from_bandwidth_sweep(points)) {
      r.caches.l3 = l3;
      r.caches.l3_source = CacheSource::kMeasured;
    }
  }
  const Isa isa = active_isa();
  r.read_loop = isa == Isa::kAvx512 ? "avx512 (vmovdqa64 + vpxorq, 8 chains)"
                : isa == Isa::kAvx2 ? "avx2 (vmovdqa + vpxor, 8 chains)"
                                    : "scalar (64-bit loads + xor, 8 chains)";
  r.fp32_loop = isa == Isa::kAvx512 ? "avx512 vfmadd231ps zmm, 12 chains"
                : isa == Isa::kAvx2 ? "avx2 vfmadd231ps ymm, 12 chains"
                                    : "scalar mul+add, 8 chains";
  const bool vnni = isa == Isa::kAvx512 && cpu_has_avx512_vnni();
  r.int8_loop = vnni                  ? "avx512_vnni vpdpbusd zmm, 12 chains"
                : isa == Isa::kAvx512 ? "avx512bw vpmaddubsw + vpmaddwd + vpaddd zmm, 8 chains"
                : isa == Isa::kAvx2   ? "avx2 vpmaddubsw + vpmaddwd + vpaddd ymm, 8 chains"
                                      : "scalar int32 multiply-add, 8 chains";
  for (int threads : o.threads) {
    for (const char* level : {"L1", "L2", "L3", "DRAM"}) {
      const size_t ws = roofline_working_set(r.caches, level, threads);
      const size_t per_thread = round_down_512(ws / threads);
      r.bandwidth.push_back(
          {level, per_thread * threads, threads, measure_bandwidth(per_thread, threads, o)});
    }
    ComputePoint cp;
    cp.threads = threads;
    if (isa == Isa::kAvx512)
      cp.fp32_gflops = measure_rate(threads, rl::kFmaFlopsAvx512, rl::fma_avx512, o);
    else if (isa == Isa::kAvx2)
      cp.fp32_gflops = measure_rate(threads, rl::kFmaFlopsAvx2, rl::fma_avx2, o);
    else
      cp.fp32_gflops = measure_rate(threads, rl::kFmaFlopsScalar, rl::fma_scalar, o);
    if (vnni)
      cp.int8_gops = measure_rate(threads, 2.0 * rl::kDotMacsVnni, rl::dot_avx512vnni, o);
    else if (isa == Isa::kAvx512)
      cp.int8_gops = measure_rate(threads, 2.0 * rl::kDotMacsAvx512bw, rl::dot_avx512bw, o);
    else if (isa == Isa::kAvx2)
      cp.int8_gops = measure_rate(threads, 2.0 * rl::kDotMacsAvx2, rl::dot_avx2, o);
    else
      cp.int8_gops = measure_rate(threads, 2.0 * rl::kDotMacsScalar, rl::dot_scalar, o);
    r.compute.push_back(cp);
  }
  return r;
}

}  // namespace softdpu
