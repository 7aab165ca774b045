// A fixed-size pool for splitting one kernel's work across threads. The caller thread takes part,
// so threads=1 means no pool thread at all. parallel_for never allocates: the task is passed by
// reference and lives on the caller's stack until every chunk is done.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace softdpu {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }
  // Jobs handed to the workers so far (parallel_for calls that did not run inline).
  int64_t jobs() const { return jobs_; }
  // Chunks the calling thread ran for a worker that had not claimed them when it finished its
  // own: a split that ran (partly) serial. A worker descheduled by another process, or asleep
  // after its spin, shows here.
  int64_t late_chunks() const { return late_chunks_; }

  // Calls fn(begin, end) over [0, n) split into about threads() contiguous chunks, each at least
  // `grain` long. Runs inline when one chunk suffices.
  template <typename Fn>
  void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
    if (n <= 0) return;
    int64_t chunks = threads_;
    if (grain > 0 && n / grain < chunks) chunks = n / grain;
    if (chunks <= 1) {
      fn(int64_t{0}, n);
      return;
    }
    struct Thunk {
      static void call(void* f, int64_t b, int64_t e) { (*static_cast<Fn*>(f))(b, e); }
    };
    run(&Thunk::call, &fn, n, chunks);
  }

 private:
  using TaskFn = void (*)(void*, int64_t, int64_t);
  void run(TaskFn fn, void* ctx, int64_t n, int64_t chunks);
  void worker_loop(int index);
  struct Job {
    TaskFn fn;
    void* ctx;
    int64_t n;
    int64_t chunks;
  };
  // Claims and runs chunks, starting with chunk `first`: thread i (the caller is 0) runs chunk
  // i of every job whenever it is there in time, so consecutive kernels split alike (each
  // thread's part of one kernel's output is the part of the next kernel's input it reads)
  // find their rows in their own core's cache; a late thread's chunk is taken by another.
  // Returns how many chunks this thread ran.
  int64_t run_chunks(const Job& job, int first);

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  // The current job; workers spin briefly on generation_ before sleeping, since batch-1 kernels
  // are a few microseconds long and a condition-variable wake-up costs about as much.
  std::atomic<uint64_t> generation_{0};
  // Per chunk (chunks <= threads): whether a thread has claimed it in the current job.
  std::unique_ptr<std::atomic<bool>[]> claimed_;
  std::atomic<int64_t> done_chunks_{0};
  Job job_{};
  // Workers inside run_chunks; a new job is set up only when it is 0, so a straggler of the last
  // job never claims a chunk of the next one.
  std::atomic<int> busy_{0};
  bool stop_ = false;
  int64_t jobs_ = 0;         // written by the calling thread only
  int64_t late_chunks_ = 0;  // likewise
};

}  // namespace softdpu
