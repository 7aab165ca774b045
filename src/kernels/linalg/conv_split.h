// Whether a convolution is worth splitting over the pool's threads, decided at plan time
// (docs/benchmarks.md, "fashion_cnn at 2 threads: small convs stay on one thread").
//
// Splitting an op over t threads saves at most t1 * (1 - 1/t) of its one-thread time t1 and
// costs a pool job (the hand-off) plus moving the part of its output the other threads wrote to
// the core that reads it next (a MaxPool or Flatten after a conv runs on the calling thread). Both
// costs were measured on the 2-vCPU Zen 5 VM with bench/kernels/thread_pool_bench.cc:
//   kPoolJobNs      BM_PoolJob/2, an empty 2-chunk job: 210-300 ns.
//   kMoveNsPerKiB   BM_PoolRemoteRead: the calling thread reads a map the worker wrote at about
//                   30 GB/s (3.3 us per 100 KiB), i.e. 33 ns per KiB.
// t1 is taken at the AVX-512 FMA peak (kPeakMacsPerNs: 2 x 16 multiply-adds a cycle at 4 GHz), an
// under-estimate of every conv's real time, so the rule only keeps on one thread convs that
// could not gain even at the peak: fashion_cnn's 1->32 28x28 conv (226K multiply-adds: at most
// 0.9 us saved against 1.9 us of hand-off and moving 49 KiB), not its 32->64 one (Winograd, 1.6M:
// 6.3 us against 1.1 us) nor any of resnet_cnn's (2.1M and up, 8+ us against at most 8.6 us).
#pragma once

#include <cstdint>

namespace softdpu::kernels {

constexpr double kPoolJobNs = 300;
constexpr double kMoveNsPerKiB = 33;
constexpr double kPeakMacsPerNs = 128;

// Threads to plan a conv of `macs` multiply-adds writing `out_bytes` for: `threads` when the
// saving exceeds the cost above, else 1. SOFTDPU_CONV_SPLIT=macs restores the rule it replaced
// (split at 64K multiply-adds and up), for A/B runs.
int conv_split_threads(int threads, int64_t macs, int64_t out_bytes);

}  // namespace softdpu::kernels
