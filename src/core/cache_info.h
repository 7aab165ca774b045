// Cache sizes of this machine. Linux sysfs (/sys/devices/system/cpu/cpu0/cache) first; where it is
// missing (some VMs expose no cache topology) the CPUID cache leaves; and for the L3, which VMs
// often misreport in CPUID (a 2-vCPU EPYC guest claims 508 MiB in leaf 0x80000006), a capacity
// measured from a bandwidth sweep (`softdpu roofline`, core/roofline.h). The roofline sizes its
// working sets from them, and `softdpu bench` decides from them which level a model's weights
// stream from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace softdpu {

enum class CacheSource : uint8_t { kSysfs, kCpuid, kMeasured, kDefault };
const char* cache_source_name(CacheSource s);  // "sysfs", "cpuid", "measured", "default"

struct CacheSizes {
  size_t l1d = 0;  // bytes per instance (per core for L1/L2; per socket/slice group for L3)
  size_t l2 = 0;
  size_t l3 = 0;
  CacheSource l1_l2_source = CacheSource::kDefault;
  CacheSource l3_source = CacheSource::kDefault;
  // Every level came from sysfs.
  bool from_sysfs() const {
    return l1_l2_source == CacheSource::kSysfs && l3_source == CacheSource::kSysfs;
  }
};

// Reads sysfs; for levels it lacks, the CPUID cache leaves when `use_cpuid` (L1d and L2 from
// AMD's 0x80000005/0x80000006 or Intel's deterministic leaf 4; the L3 only from a deterministic
// leaf, 4 or AMD's 0x8000001D, never from 0x80000006); else 32 KiB / 1 MiB / 8 MiB (kDefault).
CacheSizes read_cache_sizes(const std::string& sysfs_dir = "/sys/devices/system/cpu/cpu0/cache",
                            bool use_cpuid = true);

// Parses sysfs size strings like "48K", "1280K", "48M", "512"; returns 0 when malformed.
size_t parse_cache_size(const std::string& text);

// One cache described by a deterministic CPUID leaf (Intel leaf 4, AMD 0x8000001D: same layout).
struct CpuidCache {
  int level = 0;  // 0: no cache (end of the list)
  int type = 0;   // 1 data, 2 instruction, 3 unified
  size_t bytes = 0;
};
CpuidCache decode_deterministic_cache_leaf(uint32_t eax, uint32_t ebx, uint32_t ecx);

// L1d and L2 bytes from AMD's legacy leaves: ECX of 0x80000005 (L1d KiB in bits 31..24) and ECX of
// 0x80000006 (L2 KiB in bits 31..16).
std::pair<size_t, size_t> decode_amd_l1d_l2(uint32_t ecx_80000005, uint32_t ecx_80000006);

// The L3 capacity a single-thread read-bandwidth sweep shows: `sweep` is (working set bytes,
// GB/s), working sets growing from about 2x L2 to well past any L3. Bandwidth sits on an L3
// plateau, then falls to the DRAM level; the capacity is the last working set of the run of points
// from the first one that stay at or above the geometric mean of the plateau (the sweep's best)
// and the DRAM figure (its last point). Returns
// 0 when there is no plateau (best < 1.5x DRAM: no L3, or too noisy to tell).
size_t l3_from_bandwidth_sweep(const std::vector<std::pair<size_t, double>>& sweep);

}  // namespace softdpu
