// softdpu bench MODEL: latency percentiles after warm-up, throughput and peak RSS.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/roofline_cache.h"

namespace softdpu::cli {
namespace {
struct BenchArgs {
  PrecisionArgs precision;
  std::string model;
  int64_t batch = 1;
  int threads = 1;
  int iterations = 1000;
  int warmup = 50;
  std::vector<std::string> inputs;
  bool json = false;
  bool per_op = false;   // per-kernel times (Session::record_step_times)
  std::string roofline;  // cached roofline to compare against (default_roofline_path())
};

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p / 100.0 * (sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

// Per kernel: minimum and median of its time over the timed runs (the machine's noise lands on
// some runs; the minimum says what the kernel can do, the median what it usually does), and the
// thread pool's jobs per inference and the chunks of them its calling thread ran for a late worker.
nlohmann::json per_op_json(const Session::StepTimes& t, const Session::StepTimes& t0,
                           int iterations) {
  nlohmann::json steps = nlohmann::json::array();
  double sum_min = 0, sum_p50 = 0;
  for (size_t i = 0; i < t.names.size(); ++i) {
    std::vector<double> v = t.us[i];
    std::sort(v.begin(), v.end());
    const double mn = v.empty() ? 0 : v.front(), p50 = percentile(v, 50);
    sum_min += mn;
    sum_p50 += p50;
    steps.push_back({{"name", t.names[i]}, {"op", t.ops[i]}, {"min_us", mn}, {"p50_us", p50}});
  }
  return {{"steps", steps},
          {"sum_min_us", sum_min},
          {"sum_p50_us", sum_p50},
          {"pool_jobs_per_run", static_cast<double>(t.pool_jobs - t0.pool_jobs) / iterations},
          {"pool_late_chunks_per_run",
           static_cast<double>(t.pool_late_chunks - t0.pool_late_chunks) / iterations}};
}

void print_per_op(const nlohmann::json& j) {
  std::printf("%-40s %-14s %10s %10s\n", "kernel", "op", "min us", "p50 us");
  for (const auto& s : j["steps"])
    std::printf("%-40s %-14s %10.1f %10.1f\n", s["name"].get<std::string>().c_str(),
                s["op"].get<std::string>().c_str(), s["min_us"].get<double>(),
                s["p50_us"].get<double>());
  std::printf("%-40s %-14s %10.1f %10.1f\n", "sum", "", j["sum_min_us"].get<double>(),
              j["sum_p50_us"].get<double>());
  std::printf(
      "pool jobs    %.1f per inference, %.2f chunks of them run by the caller for a late "
      "worker\n",
      j["pool_jobs_per_run"].get<double>(), j["pool_late_chunks_per_run"].get<double>());
}

int run_bench(const BenchArgs& a) {
  std::map<std::string, Tensor> given = read_named_inputs(a.inputs);
  std::unique_ptr<Session> s;
  Status st = Session::load(a.model, &s);
  if (!st) return report(st);
  PlanOptions opt;
  apply_precision(a.precision, *s, &opt);
  opt.batch = a.batch;
  opt.threads = a.threads;
  for (const auto& [name, t] : given) opt.input_shapes[name] = t.shape();
  st = s->plan(opt);
  if (!st) return report(st);

  std::vector<Tensor> in_tensors;
  std::vector<ConstTensorView> in;
  uint32_t seed = 1;
  for (const ValueInfo& vi : s->inputs()) {
    auto it = given.find(vi.name);
    in_tensors.push_back(it != given.end() ? it->second : random_input(vi, seed++));
  }
  for (const Tensor& t : in_tensors) in.push_back({t.dtype(), t.shape(), t.data()});
  std::vector<Tensor> out_tensors;
  std::vector<TensorView> out;
  for (const ValueInfo& vi : s->outputs()) out_tensors.emplace_back(vi.dtype, vi.shape);
  for (Tensor& t : out_tensors) out.push_back({t.dtype(), t.shape(), t.data()});

  for (int i = 0; i < a.warmup; ++i) {
    st = s->run(in, out);
    if (!st) return report(st);
  }
  if (a.per_op) s->record_step_times(a.iterations);
  const Session::StepTimes before = a.per_op ? s->step_times() : Session::StepTimes{};
  std::vector<double> us(a.iterations);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < a.iterations; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    s->run(in, out);
    auto t1 = std::chrono::steady_clock::now();
    us[i] = std::chrono::duration<double, std::micro>(t1 - t0).count();
  }
  double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> sorted = us;
  std::sort(sorted.begin(), sorted.end());
  double mean = 0;
  for (double v : us) mean += v;
  mean /= std::max<size_t>(us.size(), 1);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const PlanStats& ps = s->stats();
  nlohmann::json j = {
      {"model", a.model},
      {"batch", a.batch},
      {"threads", a.threads},
      {"iterations", a.iterations},
      {"p50_us", percentile(sorted, 50)},
      {"p90_us", percentile(sorted, 90)},
      {"p99_us", percentile(sorted, 99)},
      {"max_us", sorted.empty() ? 0 : sorted.back()},
      {"min_us", sorted.empty() ? 0 : sorted.front()},
      {"mean_us", mean},
      {"throughput_per_s", total_s > 0 ? a.iterations * a.batch / total_s : 0},
      {"peak_rss_bytes", static_cast<int64_t>(ru.ru_maxrss) * 1024},
      {"weight_bytes", ps.weight_bytes},
      {"weight_bytes_by_format", ps.weight_bytes_by_format},
      {"precision", precision_label(a.precision, *s)},
      {"arena_bytes", ps.arena_bytes},
  };
  // Weight traffic per inference against the roofline (src/cli/roofline_cache.h); per batch item
  // the weights are read once for the whole batch, so bytes/latency is the achieved bandwidth.
  j.update(weight_bandwidth(ps.weight_bytes_read, ps.weight_working_set,
                            percentile(sorted, 50) * 1e-6, a.threads,
                            a.roofline.empty() ? default_roofline_path() : a.roofline));
  if (a.per_op) j["per_op"] = per_op_json(s->step_times(), before, a.iterations);
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("%s  batch %lld  threads %d  precision %s  %d iterations\n", a.model.c_str(),
              static_cast<long long>(a.batch), a.threads, precision_label(a.precision, *s).c_str(),
              a.iterations);
  std::printf("latency us   p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  mean %.1f\n",
              j["p50_us"].get<double>(), j["p90_us"].get<double>(), j["p99_us"].get<double>(),
              j["max_us"].get<double>(), mean);
  if (a.per_op) print_per_op(j["per_op"]);
  std::printf("throughput   %.0f inferences/s\n", j["throughput_per_s"].get<double>());
  std::printf("memory       peak RSS %.1f MiB, weights %.2f MiB, arena %.2f MiB\n",
              ru.ru_maxrss / 1024.0, ps.weight_bytes / 1048576.0, ps.arena_bytes / 1048576.0);
  std::printf("weights      %.2f MiB read per inference from %s, %.1f GB/s at p50",
              ps.weight_bytes_read / 1048576.0, j["weight_level"].get<std::string>().c_str(),
              j["achieved_gb_per_s"].get<double>());
  if (j["bandwidth_fraction"].is_number()) {
    std::printf(" = %.0f%% of the measured %s bandwidth (%.1f GB/s)",
                100 * j["bandwidth_fraction"].get<double>(),
                j["weight_level"].get<std::string>().c_str(), j["level_gb_per_s"].get<double>());
    if (j.contains("sweep_fraction"))
      std::printf(", %.0f%% of the read sweep at the working set (%.1f GB/s)",
                  100 * j["sweep_fraction"].get<double>(),
                  j["sweep_gb_per_s_at_working_set"].get<double>());
    std::printf("\n");
  } else
    std::printf(" (%s)\n", j["roofline_note"].get<std::string>().c_str());
  return 0;
}
}  // namespace

void register_bench(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure latency and throughput of a model");
  cmd->add_option("model", args->model, "model.onnx or compiled .sdpu")->required();
  cmd->add_option("--batch", args->batch, "batch size")->check(CLI::PositiveNumber);
  cmd->add_option("--threads", args->threads, "intra-op threads")->check(CLI::PositiveNumber);
  cmd->add_option("--iterations", args->iterations, "timed runs")->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", args->warmup, "untimed runs first")->check(CLI::NonNegativeNumber);
  cmd->add_option("--input,-i", args->inputs, "NAME=FILE.npy (random data otherwise)");
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->add_flag("--per-op", args->per_op,
                "time every kernel (min and p50 per kernel, pool jobs per inference)");
  cmd->add_option("--roofline", args->roofline,
                  "roofline cache to compare against (default: softdpu roofline's)");
  add_precision_flags(cmd, &args->precision);
  cmd->callback([args, run] { *run = [args] { return run_bench(*args); }; });
}

}  // namespace softdpu::cli
