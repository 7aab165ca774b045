// softdpu_cpu_hiccups: how long a CPU disappears from under a thread that never sleeps
// (docs/serving.md, "Where the open-loop tail comes from"). The thread reads the clock in a tight
// loop for --burst seconds, --bursts times with a pause between (so a SCHED_FIFO run stays inside
// the kernel's real-time budget, 950 ms per second), and histograms every gap between two reads.
// Run it as SCHED_FIFO (`chrt -f 50`), pinned with taskset: then no other task can take the CPU,
// and a gap is an interrupt or the hypervisor descheduling the vCPU. The count of involuntary
// context switches (getrusage) shows whether the kernel switched the thread out meanwhile.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  double burst_s = 0.5, pause_s = 0.2;
  int bursts = 6;
  CLI::App app{"CPU hiccup meter: gaps seen by a thread spinning on the clock"};
  app.add_option("--burst", burst_s, "seconds of spinning per burst")->capture_default_str();
  app.add_option("--bursts", bursts, "number of bursts")->capture_default_str();
  app.add_option("--pause", pause_s, "seconds asleep between bursts")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  using Clock = std::chrono::steady_clock;
  // Gap thresholds in us; count[i] = gaps >= edges[i] (and < edges[i+1]).
  const std::vector<double> edges = {5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};
  std::vector<uint64_t> count(edges.size(), 0);
  std::vector<double> lost(edges.size(), 0);
  double max_gap = 0, spun = 0;
  rusage before{}, after{};
  getrusage(RUSAGE_THREAD, &before);
  for (int b = 0; b < bursts; ++b) {
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration<double>(burst_s);
    auto prev = start;
    for (auto now = Clock::now(); now < end; now = Clock::now()) {
      const double gap = std::chrono::duration<double, std::micro>(now - prev).count();
      prev = now;
      if (gap < edges[0]) continue;
      size_t i = 0;
      while (i + 1 < edges.size() && gap >= edges[i + 1]) ++i;
      ++count[i];
      lost[i] += gap;
      if (gap > max_gap) max_gap = gap;
    }
    spun += std::chrono::duration<double>(prev - start).count();
    std::this_thread::sleep_for(std::chrono::duration<double>(pause_s));
  }
  getrusage(RUSAGE_THREAD, &after);
  std::printf("spun %.2f s; involuntary context switches during the bursts: %ld\n", spun,
              after.ru_nivcsw - before.ru_nivcsw);
  std::printf("gap >= us   count   per s   time lost ms\n");
  for (size_t i = 0; i < edges.size(); ++i)
    std::printf("%9.0f %7llu %7.1f %10.2f\n", edges[i], static_cast<unsigned long long>(count[i]),
                count[i] / spun, lost[i] / 1000);
  std::printf("max gap %.0f us\n", max_gap);
  return 0;
}
