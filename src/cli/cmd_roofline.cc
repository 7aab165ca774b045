// softdpu roofline: measures read bandwidth per cache level and DRAM, peak FP32 FMA and int8
// dot-product rates (src/core/roofline.h), prints them, and caches them for `softdpu bench --json`
// (path: src/cli/roofline_cache.h, docs/benchmarks.md).
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/roofline_cache.h"
#include "core/cpu.h"
#include "core/cpu_count.h"

namespace softdpu::cli {
namespace {

struct RooflineArgs {
  std::vector<int> threads;
  int trials = 30;
  double seconds = 0.005;
  std::string output;
  bool no_cache = false;
  bool json = false;
};

int run_roofline(const RooflineArgs& a) {
  RooflineOptions o;
  o.threads = a.threads;
  if (o.threads.empty()) {
    o.threads = {1};
    const int n = usable_cpu_count();
    if (n > 1) o.threads.push_back(n);
  }
  o.trials = a.trials;
  o.seconds_per_trial = a.seconds;
  const Roofline r = measure_roofline(o);
  nlohmann::json j = roofline_to_json(r);
  j["isa"] = isa_name(active_isa());
  j["trials"] = o.trials;
  j["seconds_per_trial"] = o.seconds_per_trial;

  const std::string path = a.output.empty() ? default_roofline_path() : a.output;
  if (!a.no_cache) {
    std::error_code ec;
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    std::ofstream f(path);
    if (!f || !(f << j.dump(2) << "\n")) {
      std::cerr << "error: cannot write the roofline cache " << path << "\n";
      return 1;
    }
    j["cached_at"] = path;
  }
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("CPU %s, ISA %s; caches L1d %zu KiB, L2 %zu KiB (%s), L3 %zu KiB (%s)\n",
              cpu_model_name().c_str(), isa_name(active_isa()), r.caches.l1d >> 10,
              r.caches.l2 >> 10, cache_source_name(r.caches.l1_l2_source), r.caches.l3 >> 10,
              cache_source_name(r.caches.l3_source));
  if (!r.l3_sweep.empty()) {
    std::printf("L3 size from a 1-thread read sweep (no sysfs or CPUID cache topology):\n");
    for (const BandwidthPoint& b : r.l3_sweep)
      std::printf("  %9.2f MiB %8.1f GB/s\n", b.working_set / 1048576.0, b.gb_per_s);
  }
  std::printf("best of %d trials of ~%.0f ms each\n\n", o.trials, o.seconds_per_trial * 1e3);
  std::printf("read bandwidth, %s\n", r.read_loop.c_str());
  std::printf("  %-5s %8s %14s %10s\n", "level", "threads", "working set", "GB/s");
  for (const BandwidthPoint& b : r.bandwidth)
    std::printf("  %-5s %8d %11.2f MiB %10.1f\n", b.level.c_str(), b.threads,
                b.working_set / 1048576.0, b.gb_per_s);
  std::printf("\ncompute\n  fp32: %s\n  int8: %s\n", r.fp32_loop.c_str(), r.int8_loop.c_str());
  std::printf("  %8s %14s %14s\n", "threads", "FP32 GFLOP/s", "int8 GOP/s");
  for (const ComputePoint& c : r.compute)
    std::printf("  %8d %14.1f %14.1f\n", c.threads, c.fp32_gflops, c.int8_gops);
  if (!a.no_cache) std::printf("\ncached in %s (read by softdpu bench --json)\n", path.c_str());
  return 0;
}

}  // namespace

void register_roofline(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<RooflineArgs>();
  CLI::App* cmd = app.add_subcommand(
      "roofline",
      "Measure cache/DRAM read bandwidth and peak FP32/int8 rates; cache them for bench --json");
  cmd->add_option("--threads", args->threads, "thread counts to measure (default: 1 and all cores)")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--trials", args->trials, "timed trials per figure (the best is kept)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--seconds", args->seconds, "length of one trial in seconds")
      ->check(CLI::Range(0.001, 10.0));
  cmd->add_option("--output,-o", args->output, "cache file (default: see docs/benchmarks.md)");
  cmd->add_flag("--no-cache", args->no_cache, "do not write the cache file");
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->callback([args, run] { *run = [args] { return run_roofline(*args); }; });
}

}  // namespace softdpu::cli
