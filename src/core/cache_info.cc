#include "core/cache_info.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <string>

namespace softdpu {
namespace {

bool read_line(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::getline(f, *out);
  while (!out->empty() && std::isspace(static_cast<unsigned char>(out->back()))) out->pop_back();
  return true;
}

void read_sysfs(const std::string& sysfs_dir, CacheSizes* c) {
  for (int index = 0; index < 16; ++index) {
    const std::string dir = sysfs_dir + "/index" + std::to_string(index);
    std::string level, type, size;
    if (!read_line(dir + "/level", &level) || !read_line(dir + "/type", &type) ||
        !read_line(dir + "/size", &size))
      continue;
    const size_t bytes = parse_cache_size(size);
    if (bytes == 0) continue;
    if (level == "1" && type == "Data") c->l1d = bytes;
    if (level == "2" && type != "Instruction") c->l2 = bytes;
    if (level == "3" && type != "Instruction") c->l3 = bytes;
  }
}

#if defined(__x86_64__) || defined(__i386__)
// Walks a deterministic cache leaf (4 or 0x8000001D) if the CPU has it.
void read_deterministic_leaf(uint32_t leaf, size_t* l1d, size_t* l2, size_t* l3) {
  const uint32_t base = leaf & 0x80000000u;
  if (__get_cpuid_max(base, nullptr) < leaf) return;
  for (uint32_t sub = 0; sub < 16; ++sub) {
    uint32_t a, b, c, d;
    __cpuid_count(leaf, sub, a, b, c, d);
    const CpuidCache cc = decode_deterministic_cache_leaf(a, b, c);
    if (cc.level == 0) break;
    if (cc.level == 1 && cc.type == 1) *l1d = cc.bytes;
    if (cc.level == 2 && cc.type != 2) *l2 = cc.bytes;
    if (cc.level == 3 && cc.type != 2) *l3 = cc.bytes;
  }
}

void read_cpuid(CacheSizes* c, bool* l12_found, bool* l3_found) {
  size_t l1d = 0, l2 = 0, l3 = 0;
  read_deterministic_leaf(4, &l1d, &l2, &l3);
  if (!l1d && !l2 && !l3) read_deterministic_leaf(0x8000001D, &l1d, &l2, &l3);
  if ((!l1d || !l2) && __get_cpuid_max(0x80000000u, nullptr) >= 0x80000006u) {
    uint32_t a, b, c5, c6, d;
    __cpuid(0x80000005u, a, b, c5, d);
    __cpuid(0x80000006u, a, b, c6, d);
    const auto [amd_l1d, amd_l2] = decode_amd_l1d_l2(c5, c6);
    if (!l1d) l1d = amd_l1d;
    if (!l2) l2 = amd_l2;
  }
  *l12_found = l1d && l2;
  *l3_found = l3 != 0;
  if (*l12_found && !c->l1d) c->l1d = l1d;
  if (*l12_found && !c->l2) c->l2 = l2;
  if (*l3_found && !c->l3) c->l3 = l3;
}
#else
void read_cpuid(CacheSizes*, bool* l12_found, bool* l3_found) {
  *l12_found = *l3_found = false;
}
#endif

}  // namespace

const char* cache_source_name(CacheSource s) {
  switch (s) {
    case CacheSource::kSysfs: return "sysfs";
    case CacheSource::kCpuid: return "cpuid";
    case CacheSource::kMeasured: return "measured";
    case CacheSource::kDefault: break;
  }
  return "default";
}

size_t parse_cache_size(const std::string& text) {
  size_t i = 0, n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
    n = n * 10 + (text[i++] - '0');
  if (i == 0) return 0;
  std::string unit = text.substr(i);
  if (unit.empty()) return n;
  if (unit == "K") return n << 10;
  if (unit == "M") return n << 20;
  if (unit == "G") return n << 30;
  return 0;
}

CpuidCache decode_deterministic_cache_leaf(uint32_t eax, uint32_t ebx, uint32_t ecx) {
  CpuidCache c;
  c.type = static_cast<int>(eax & 31);
  if (c.type == 0) return c;
  c.level = static_cast<int>((eax >> 5) & 7);
  const size_t ways = ((ebx >> 22) & 0x3FF) + 1, partitions = ((ebx >> 12) & 0x3FF) + 1,
               line = (ebx & 0xFFF) + 1, sets = size_t{ecx} + 1;
  c.bytes = ways * partitions * line * sets;
  return c;
}

std::pair<size_t, size_t> decode_amd_l1d_l2(uint32_t ecx_80000005, uint32_t ecx_80000006) {
  return {size_t{ecx_80000005 >> 24} << 10, size_t{ecx_80000006 >> 16} << 10};
}

CacheSizes read_cache_sizes(const std::string& sysfs_dir, bool use_cpuid) {
  CacheSizes c;
  read_sysfs(sysfs_dir, &c);
  if (c.l1d && c.l2) c.l1_l2_source = CacheSource::kSysfs;
  if (c.l3) c.l3_source = CacheSource::kSysfs;
  if (use_cpuid && !c.from_sysfs()) {
    bool l12 = false, l3 = false;
    read_cpuid(&c, &l12, &l3);
    if (c.l1_l2_source != CacheSource::kSysfs && l12) c.l1_l2_source = CacheSource::kCpuid;
    if (c.l3_source != CacheSource::kSysfs && l3) c.l3_source = CacheSource::kCpuid;
  }
  if (!c.l1d) c.l1d = 32 << 10;
  if (!c.l2) c.l2 = 1 << 20;
  if (!c.l3) c.l3 = 8 << 20;
  return c;
}

size_t l3_from_bandwidth_sweep(const std::vector<std::pair<size_t, double>>& sweep) {
  if (sweep.size() < 3) return 0;
  double best = 0;
  for (const auto& [bytes, gbs] : sweep) best = std::max(best, gbs);
  const double dram = sweep.back().second;
  if (!(dram > 0) || best < 1.5 * dram) return 0;
  const double threshold = std::sqrt(best * dram);
  // The plateau is contiguous from the first point: a lucky trial past the cliff (another
  // tenant's cache lines evicted at the right moment) must not extend it.
  size_t capacity = 0;
  for (const auto& [bytes, gbs] : sweep) {
    if (gbs < threshold) break;
    capacity = bytes;
  }
  return capacity;
}

}  // namespace softdpu
