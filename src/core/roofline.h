// Measures this machine's roofline: streaming read bandwidth per cache level and DRAM, peak FP32
// FMA rate and int8 dot-product rate, for a given thread count. `softdpu roofline` prints it and
// caches it; `softdpu bench --json` compares a model's achieved weight bandwidth against it.
// Each figure is the best of several timed trials (the STREAM convention: the machine's capability,
// not its average under load), on loops picked at run time for the active ISA (src/core/cpu.h).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/cache_info.h"

namespace softdpu {

struct BandwidthPoint {
  std::string level;       // "L1", "L2", "L3", "DRAM"
  size_t working_set = 0;  // bytes, all threads together
  int threads = 1;
  double gb_per_s = 0;  // 1e9 bytes read per second, all threads together
};

struct ComputePoint {
  int threads = 1;
  double fp32_gflops = 0;  // 2 flops per FMA lane
  double int8_gops = 0;    // 2 ops per int8 multiply-accumulate
};

// Many short trials rather than a few long ones: on a shared machine a short trial is more likely
// to run undisturbed, and the best trial is the one reported.
struct RooflineOptions {
  std::vector<int> threads = {1};
  int trials = 30;
  double seconds_per_trial = 0.005;
};

struct Roofline {
  CacheSizes caches;
  std::string read_loop;  // e.g. "avx512 (vmovdqa64 + vpxorq)"
  std::string fp32_loop;  // e.g. "avx512 vfmadd231ps"
  std::string int8_loop;  // e.g. "avx512_vnni vpdpbusd"
  std::vector<BandwidthPoint> bandwidth;
  std::vector<ComputePoint> compute;
  // When neither sysfs nor a deterministic CPUID leaf gives the L3 size, measure_roofline finds
  // it from this single-thread read sweep (l3_from_bandwidth_sweep) before sizing the L3/DRAM
  // working sets. Level "sweep"; empty when the L3 size was known.
  std::vector<BandwidthPoint> l3_sweep;
};

// Working-set size used for each level: half of L1d, half of L2, a quarter of L3 (at least 2x L2),
// and 4x L3 (at least 256 MiB) for DRAM. Per thread for L1/L2 (private caches), total for L3/DRAM.
size_t roofline_working_set(const CacheSizes& c, const std::string& level, int threads);

Roofline measure_roofline(const RooflineOptions& options);

// Streams buf once with the active ISA's read loop; returns a checksum (keeps the loads alive).
// bytes must be a multiple of 512 and buf 64-byte aligned.
unsigned long long read_stream(const void* buf, size_t bytes);

}  // namespace softdpu
