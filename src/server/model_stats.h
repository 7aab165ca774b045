// Per model-version counters and duration histograms: lock-free atomics updated on the request
// path, read by the statistics endpoint (Triton's model_stats JSON) and the Prometheus metrics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace softdpu::server {

// Cumulative histogram buckets (upper bounds, microseconds) shared by every duration histogram.
inline constexpr std::array<uint64_t, 14> kHistogramBoundsUs = {
    10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 1000000};

struct Duration {
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> ns{0};
  void add(uint64_t n) {
    count.fetch_add(1, std::memory_order_relaxed);
    ns.fetch_add(n, std::memory_order_relaxed);
  }
};

struct Histogram {
  std::array<std::atomic<uint64_t>, kHistogramBoundsUs.size()> buckets{};  // non-cumulative
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> sum_ns{0};
  void observe(uint64_t ns);
};

struct ModelStats {
  static constexpr int kMaxBatchTracked = 64;

  Duration success, fail, queue, compute_input, compute_infer, compute_output;
  std::atomic<uint64_t> inference_count{0};  // rows (batch elements) inferred
  std::atomic<uint64_t> execution_count{0};  // model executions (batches)
  std::atomic<uint64_t> last_inference_ms{0};
  Histogram request_hist, queue_hist, compute_hist;
  // Per executed batch size: executions and compute time (batch_stats).
  std::array<Duration, kMaxBatchTracked + 1> batch_infer{};

  void record_execution(int64_t batch_rows, int requests, uint64_t input_ns, uint64_t infer_ns,
                        uint64_t output_ns);
};

// Wall-clock milliseconds since the epoch (last_inference).
uint64_t now_epoch_ms();

}  // namespace softdpu::server
