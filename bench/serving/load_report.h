// The report both load generators print (softdpu_grpc_load, softdpu_http_load): latency
// percentiles and throughput of the successful calls inside the measured window, as text or as
// one JSON line.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace softdpu::bench {

// The load-shape options both generators take.
struct LoadShape {
  int concurrency = 1;
  double rate = 0;  // requests/s; 0 = closed loop
  double duration_s = 10;
  double warmup_s = 1;
  bool json = false;
};

inline void add_load_shape_options(CLI::App& app, LoadShape* s, const char* concurrency_help) {
  app.add_option("-c,--concurrency", s->concurrency, concurrency_help)
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("-r,--rate", s->rate, "offered requests/s (open loop); 0 = closed loop")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("-d,--duration", s->duration_s, "measured seconds")->capture_default_str();
  app.add_option("--warmup", s->warmup_s, "seconds sent before measuring")->capture_default_str();
  app.add_flag("--json", s->json, "print one JSON line instead of text");
}

struct LoadReport {
  std::string model, contents;  // contents: what the body carried ("raw", "typed", "json", "bin")
  int concurrency = 1;
  double rate = 0;  // offered req/s; 0 = closed loop
  double duration_s = 0;
  std::vector<double> latencies_us;
  uint64_t errors = 0, late = 0;
  std::string first_error;
};

inline LoadReport make_report(const LoadShape& s, std::string model, std::string contents) {
  LoadReport r;
  r.model = std::move(model);
  r.contents = std::move(contents);
  r.concurrency = s.concurrency;
  r.rate = s.rate;
  r.duration_s = s.duration_s;
  return r;
}

inline double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p / 100.0 * sorted.size()));
  return sorted[i];
}

// Prints the report; returns the exit status: 0 only if every call succeeded.
inline int print_report(LoadReport& r, bool json) {
  std::sort(r.latencies_us.begin(), r.latencies_us.end());
  const double n = static_cast<double>(r.latencies_us.size());
  const double p50 = percentile(r.latencies_us, 50), p99 = percentile(r.latencies_us, 99),
               p999 = percentile(r.latencies_us, 99.9);
  const double max = r.latencies_us.empty() ? 0 : r.latencies_us.back();
  const double throughput = n / r.duration_s;
  const char* mode = r.rate > 0 ? "open" : "closed";
  const auto errors = static_cast<unsigned long long>(r.errors);
  const auto late = static_cast<unsigned long long>(r.late);
  if (json) {
    std::printf(
        "{\"model\":\"%s\",\"mode\":\"%s\",\"concurrency\":%d,\"offered_rps\":%.1f,"
        "\"contents\":\"%s\",\"ok\":%.0f,\"errors\":%llu,\"late\":%llu,\"throughput_rps\":%.1f,"
        "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f}\n",
        r.model.c_str(), mode, r.concurrency, r.rate, r.contents.c_str(), n, errors, late,
        throughput, p50, p99, p999, max);
  } else {
    std::printf("model %s, %s loop, concurrency %d, offered %s, %s contents, %.0f s measured\n",
                r.model.c_str(), mode, r.concurrency,
                r.rate > 0 ? (std::to_string(static_cast<long>(r.rate)) + " req/s").c_str() : "-",
                r.contents.c_str(), r.duration_s);
    std::printf("  ok %.0f  errors %llu  late %llu  throughput %.1f req/s\n", n, errors, late,
                throughput);
    std::printf("  latency us: p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", p50, p99, p999, max);
  }
  if (!r.first_error.empty()) std::fprintf(stderr, "first error: %s\n", r.first_error.c_str());
  return r.errors == 0 && n > 0 ? 0 : 2;
}

}  // namespace softdpu::bench
