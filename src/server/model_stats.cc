#include "server/model_stats.h"

#include <chrono>

namespace softdpu::server {

void Histogram::observe(uint64_t ns) {
  uint64_t us = ns / 1000;
  for (size_t i = 0; i < kHistogramBoundsUs.size(); ++i) {
    if (us <= kHistogramBoundsUs[i]) {
      buckets[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }  // above the last bound: only the +Inf bucket (count) sees it
  count.fetch_add(1, std::memory_order_relaxed);
  sum_ns.fetch_add(ns, std::memory_order_relaxed);
}

void ModelStats::record_execution(int64_t rows, int requests, uint64_t input_ns, uint64_t infer_ns,
                                  uint64_t output_ns) {
  execution_count.fetch_add(1, std::memory_order_relaxed);
  inference_count.fetch_add(static_cast<uint64_t>(rows), std::memory_order_relaxed);
  compute_input.count.fetch_add(static_cast<uint64_t>(requests), std::memory_order_relaxed);
  compute_input.ns.fetch_add(input_ns, std::memory_order_relaxed);
  compute_infer.count.fetch_add(static_cast<uint64_t>(requests), std::memory_order_relaxed);
  compute_infer.ns.fetch_add(infer_ns, std::memory_order_relaxed);
  compute_output.count.fetch_add(static_cast<uint64_t>(requests), std::memory_order_relaxed);
  compute_output.ns.fetch_add(output_ns, std::memory_order_relaxed);
  compute_hist.observe(input_ns + infer_ns + output_ns);
  if (rows >= 1 && rows <= kMaxBatchTracked) batch_infer[static_cast<size_t>(rows)].add(infer_ns);
  last_inference_ms.store(now_epoch_ms(), std::memory_order_relaxed);
}

uint64_t now_epoch_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace softdpu::server
