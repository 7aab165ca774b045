// How many CPUs this process may run on: the affinity mask (taskset, cpusets, a container's CPU
// set), not the machine's total, so "one thread per core" defaults fit where the process runs.
#pragma once

namespace softdpu {

// CPUs in this process's affinity mask; std::thread::hardware_concurrency() where the mask is
// unreadable; at least 1.
int usable_cpu_count();

}  // namespace softdpu
