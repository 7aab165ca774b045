// What splitting a kernel over the pool costs, against which the time it saves must weigh
// (kPoolJobNs and kMoveNsPerKiB in src/kernels/linalg/conv_split.h; docs/benchmarks.md):
//
//   BM_PoolJob/threads          an empty parallel_for over `threads` chunks: the hand-off alone
//                               (publish the job, a spinning worker claims its chunk, the caller
//                               waits for it). threads = 1 is the inline call, for reference.
//   BM_PoolRemoteRead/KiB/writer
//                               a feature map written by the worker (writer = 1) or by the
//                               calling thread (0), then read by the calling thread, as an
//                               unsplit MaxPool reads the map a split conv wrote.
//
// Run with the pool's worker free to spin (a quiet machine): a worker sharing its core with
// another process measures the scheduler, not the pool.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"

namespace {

using softdpu::ThreadPool;

void BM_PoolJob(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  ThreadPool pool(threads);
  for (auto _ : state) {
    pool.parallel_for(threads, 1, [&](int64_t b, int64_t e) { benchmark::DoNotOptimize(b + e); });
  }
}
BENCHMARK(BM_PoolJob)->Arg(1)->Arg(2);

// The cost of reading data the other core wrote: a 2-thread job in which chunk `writer` writes the
// whole map (the other chunk is empty), then the calling thread (chunk 0's) copies it out.
// writer = 1 (the worker) against writer = 0 (the caller itself) is the price of the move.
void BM_PoolRemoteRead(benchmark::State& state) {
  const int64_t n = state.range(0) * 1024 / sizeof(float);
  const int64_t writer = state.range(1);
  ThreadPool pool(2);
  std::vector<float> map(static_cast<size_t>(n)), copy(map.size());
  float value = 1.f;
  for (auto _ : state) {
    pool.parallel_for(2, 1, [&](int64_t b, int64_t e) {
      if (writer >= b && writer < e) std::fill(map.begin(), map.end(), value);
    });
    std::memcpy(copy.data(), map.data(), map.size() * sizeof(float));
    benchmark::DoNotOptimize(copy.data());
    value += 1.f;
  }
  state.SetBytesProcessed(state.iterations() * n * static_cast<int64_t>(sizeof(float)));
}
BENCHMARK(BM_PoolRemoteRead)->ArgsProduct({{25, 50, 100}, {0, 1}});

}  // namespace
