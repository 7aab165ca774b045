#include "core/thread_pool.h"

#include <algorithm>

namespace softdpu {
namespace {
inline void cpu_relax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

ThreadPool::ThreadPool(int threads)
    : threads_(std::max(1, threads)), claimed_(new std::atomic<bool>[threads_]) {
  for (int i = 0; i < threads_; ++i) claimed_[i].store(false);
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

int64_t ThreadPool::run_chunks(const Job& job, int first) {
  int64_t ran = 0;
  for (int64_t k = 0; k < job.chunks; ++k) {
    const int64_t c = (first + k) % job.chunks;
    if (claimed_[c].load(std::memory_order_relaxed) || claimed_[c].exchange(true)) continue;
    job.fn(job.ctx, job.n * c / job.chunks, job.n * (c + 1) / job.chunks);
    done_chunks_.fetch_add(1, std::memory_order_release);
    ++ran;
  }
  return ran;
}

void ThreadPool::run(TaskFn fn, void* ctx, int64_t n, int64_t chunks) {
  Job job{fn, ctx, n, chunks};
  ++jobs_;
  {
    std::unique_lock<std::mutex> lock(mu_);
    while (busy_.load() != 0) {
      lock.unlock();
      cpu_relax();
      lock.lock();
    }
    job_ = job;
    // No thread is inside run_chunks (busy_ is 0 and the caller's own loop returned).
    for (int64_t c = 0; c < chunks; ++c) claimed_[c].store(false, std::memory_order_relaxed);
    done_chunks_.store(0);
    generation_.fetch_add(1, std::memory_order_release);
  }
  cv_.notify_all();
  late_chunks_ += std::max<int64_t>(0, run_chunks(job, 0) - 1);
  while (done_chunks_.load(std::memory_order_acquire) < chunks) cpu_relax();
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    // Spin for a short while: at batch 1 the next kernel usually follows within microseconds,
    // and a condition-variable wake-up costs about as much as the kernel.
    for (int spin = 0; spin < 20000 && generation_.load(std::memory_order_acquire) == seen; ++spin)
      cpu_relax();
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return generation_.load() != seen; });
      seen = generation_.load();
      if (stop_) return;
      busy_.fetch_add(1);
      job = job_;
    }
    run_chunks(job, index);
    busy_.fetch_sub(1);
  }
}

}  // namespace softdpu
