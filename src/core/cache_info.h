// Cache sizes of this machine, read from Linux sysfs (/sys/devices/system/cpu/cpu0/cache). The
// roofline sizes its working sets from them, and `softdpu bench` decides from them which level a
// model's weights stream from.
#pragma once

#include <cstddef>
#include <string>

namespace softdpu {

struct CacheSizes {
  size_t l1d = 0;  // bytes per instance (per core for L1/L2; per socket/slice group for L3)
  size_t l2 = 0;
  size_t l3 = 0;
  bool from_sysfs = false;  // false: sysfs was unreadable and the fields hold the fallbacks below
};

// Reads sysfs; falls back to 32 KiB / 1 MiB / 8 MiB (from_sysfs = false) for levels it lacks.
CacheSizes read_cache_sizes(const std::string& sysfs_dir = "/sys/devices/system/cpu/cpu0/cache");

// Parses sysfs size strings like "48K", "1280K", "48M", "512"; returns 0 when malformed.
size_t parse_cache_size(const std::string& text);

}  // namespace softdpu
