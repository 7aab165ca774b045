// The report both load generators print (softdpu_grpc_load, softdpu_http_load): latency
// percentiles and throughput of the successful calls inside the measured window, as text or as
// one JSON line.
#pragma once

#include <sys/prctl.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
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
  // Open-loop pacing (docs/serving.md, "Where the open-loop tail comes from"): a plain
  // sleep_until wakes up to the thread's timer slack (Linux default 50 us) plus the timer
  // wake-up (~35 us on the test VM) late, and that lateness counted in every latency (p50 80 us
  // of 123). Sleep until spin_us before the due time with timer_slack_ns of slack, then spin;
  // --timer-slack-ns 50000 --spin-us 0 is the old pacing.
  double spin_us = 30;
  int64_t timer_slack_ns = 1;
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
  app.add_option("--spin-us", s->spin_us,
                 "open loop: spin this long before each due time instead of sleeping to it")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--timer-slack-ns", s->timer_slack_ns,
                 "open loop: the sending threads' timer slack (Linux default 50000)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

// Waits until `due` as LoadShape's pacing options say. Call set_timer_slack() once per sending
// thread first (the slack is per thread). Returns false if `due` had already passed.
template <class Clock>
bool wait_until(const LoadShape& s, typename Clock::time_point due) {
  const auto now = Clock::now();
  if (now >= due) return false;
  const auto spin = std::chrono::duration_cast<typename Clock::duration>(
      std::chrono::duration<double, std::micro>(s.spin_us));
  if (now < due - spin) std::this_thread::sleep_until(due - spin);
  while (Clock::now() < due) {
  }
  return true;
}

inline void set_timer_slack(const LoadShape& s) {
  prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(s.timer_slack_ns), 0, 0, 0);
}

struct LoadReport {
  std::string model, contents;  // contents: what the body carried ("raw", "typed", "json", "bin")
  int concurrency = 1;
  double rate = 0;  // offered req/s; 0 = closed loop
  double duration_s = 0;
  std::vector<double> latencies_us;
  // Open loop: how late each measured request left the generator after waiting for its due time
  // (send time - due time): the part of its latency that is the generator's, not the server's.
  std::vector<double> send_late_us;
  std::vector<double> from_send_us;  // open loop: answer time - send time
  // Open loop, REST: requests due while their connection still waited for an earlier answer
  // (their wait is queueing behind that answer, not in send_late_us).
  uint64_t backlogged = 0;
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
  std::sort(r.send_late_us.begin(), r.send_late_us.end());
  const double s50 = percentile(r.send_late_us, 50), s99 = percentile(r.send_late_us, 99),
               s999 = percentile(r.send_late_us, 99.9);
  std::sort(r.from_send_us.begin(), r.from_send_us.end());
  const double f50 = percentile(r.from_send_us, 50), f99 = percentile(r.from_send_us, 99),
               f999 = percentile(r.from_send_us, 99.9);
  const double throughput = n / r.duration_s;
  const char* mode = r.rate > 0 ? "open" : "closed";
  const auto errors = static_cast<unsigned long long>(r.errors);
  const auto late = static_cast<unsigned long long>(r.late);
  if (json) {
    std::printf(
        "{\"model\":\"%s\",\"mode\":\"%s\",\"concurrency\":%d,\"offered_rps\":%.1f,"
        "\"contents\":\"%s\",\"ok\":%.0f,\"errors\":%llu,\"late\":%llu,\"throughput_rps\":%.1f,"
        "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
        "\"send_late_p50_us\":%.1f,\"send_late_p99_us\":%.1f,\"send_late_p999_us\":%.1f,"
        "\"from_send_p50_us\":%.1f,\"from_send_p99_us\":%.1f,\"from_send_p999_us\":%.1f,"
        "\"backlogged\":%llu}\n",
        r.model.c_str(), mode, r.concurrency, r.rate, r.contents.c_str(), n, errors, late,
        throughput, p50, p99, p999, max, s50, s99, s999, f50, f99, f999,
        static_cast<unsigned long long>(r.backlogged));
  } else {
    std::printf("model %s, %s loop, concurrency %d, offered %s, %s contents, %.0f s measured\n",
                r.model.c_str(), mode, r.concurrency,
                r.rate > 0 ? (std::to_string(static_cast<long>(r.rate)) + " req/s").c_str() : "-",
                r.contents.c_str(), r.duration_s);
    std::printf("  ok %.0f  errors %llu  late %llu  throughput %.1f req/s\n", n, errors, late,
                throughput);
    std::printf("  latency us: p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", p50, p99, p999, max);
    if (r.rate > 0)
      std::printf(
          "  send lateness us: p50 %.1f  p99 %.1f  p99.9 %.1f; from send: p50 %.1f  p99 %.1f  "
          "p99.9 %.1f\n",
          s50, s99, s999, f50, f99, f999);
  }
  if (!r.first_error.empty()) std::fprintf(stderr, "first error: %s\n", r.first_error.c_str());
  return r.errors == 0 && n > 0 ? 0 : 2;
}

}  // namespace softdpu::bench
