// Cache sizes from sysfs (core/cache_info.h) on a fake sysfs tree, and the roofline's read loop on
// every ISA this machine has against a plain XOR of the same words.
#include "core/cache_info.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/cpu.h"
#include "core/roofline.h"

namespace softdpu {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text << "\n";
}

TEST(CacheInfo, ParsesSysfsSizes) {
  EXPECT_EQ(parse_cache_size("48K"), 48u << 10);
  EXPECT_EQ(parse_cache_size("1280K"), 1280u << 10);
  EXPECT_EQ(parse_cache_size("32M"), 32u << 20);
  EXPECT_EQ(parse_cache_size("512"), 512u);
  EXPECT_EQ(parse_cache_size("K"), 0u);
  EXPECT_EQ(parse_cache_size("12Q"), 0u);
}

TEST(CacheInfo, ReadsLevelsAndSkipsInstructionCache) {
  const fs::path dir =
      fs::temp_directory_path() / ("softdpu-cache-test-" + std::to_string(::getpid()));
  write(dir / "index0/level", "1"), write(dir / "index0/type", "Data"),
      write(dir / "index0/size", "48K");
  write(dir / "index1/level", "1"), write(dir / "index1/type", "Instruction"),
      write(dir / "index1/size", "32K");
  write(dir / "index2/level", "2"), write(dir / "index2/type", "Unified"),
      write(dir / "index2/size", "1280K");
  write(dir / "index3/level", "3"), write(dir / "index3/type", "Unified"),
      write(dir / "index3/size", "49152K");
  CacheSizes c = read_cache_sizes(dir.string());
  fs::remove_all(dir);
  EXPECT_TRUE(c.from_sysfs());
  EXPECT_EQ(c.l1d, 48u << 10);
  EXPECT_EQ(c.l2, 1280u << 10);
  EXPECT_EQ(c.l3, 48u << 20);
}

TEST(CacheInfo, MissingSysfsWithoutCpuidFallsBackToDefaults) {
  CacheSizes c = read_cache_sizes("/nonexistent/softdpu/cache", /*use_cpuid=*/false);
  EXPECT_FALSE(c.from_sysfs());
  EXPECT_EQ(c.l1d, 32u << 10);
  EXPECT_EQ(c.l2, 1u << 20);
  EXPECT_EQ(c.l3, 8u << 20);
  EXPECT_EQ(c.l1_l2_source, CacheSource::kDefault);
  EXPECT_EQ(c.l3_source, CacheSource::kDefault);
}

TEST(CacheInfo, MissingSysfsUsesCpuidForWhatItHas) {
  CacheSizes c = read_cache_sizes("/nonexistent/softdpu/cache");
  EXPECT_FALSE(c.from_sysfs());
  EXPECT_NE(c.l1_l2_source, CacheSource::kSysfs);
  // Whatever CPUID says must at least be ordered like a cache hierarchy.
  EXPECT_GE(c.l1d, 8u << 10);
  EXPECT_GT(c.l2, c.l1d);
  if (c.l3_source == CacheSource::kCpuid) {
    EXPECT_GT(c.l3, c.l2);
  }
}

// Intel SDM vol. 2A, CPUID leaf 4: EAX type/level, EBX ways-1 << 22 | partitions-1 << 12 |
// line-1, ECX sets-1. A 48 KiB 12-way L1d (64 sets of 64 B) and a 1.25 MiB 20-way L2 (1024 sets).
TEST(CacheInfo, DecodesDeterministicLeaf) {
  const CpuidCache l1 = decode_deterministic_cache_leaf(1u | 1u << 5, 11u << 22 | 63u, 63u);
  EXPECT_EQ(l1.level, 1);
  EXPECT_EQ(l1.type, 1);
  EXPECT_EQ(l1.bytes, 48u << 10);
  const CpuidCache l2 = decode_deterministic_cache_leaf(3u | 2u << 5, 19u << 22 | 63u, 1023u);
  EXPECT_EQ(l2.level, 2);
  EXPECT_EQ(l2.type, 3);
  EXPECT_EQ(l2.bytes, 1280u << 10);
  EXPECT_EQ(decode_deterministic_cache_leaf(0, 0, 0).level, 0);  // end of the list
}

// AMD APM vol. 3, 0x80000005 ECX[31:24] = L1d KiB, 0x80000006 ECX[31:16] = L2 KiB (Zen 5: 48 KiB
// 12-way, 1 MiB 16-way; the low bits carry associativity and line size).
TEST(CacheInfo, DecodesAmdLegacyLeaves) {
  const auto [l1d, l2] =
      decode_amd_l1d_l2(48u << 24 | 12u << 16 | 1u << 8 | 64u, 1024u << 16 | 8u << 12 | 64u);
  EXPECT_EQ(l1d, 48u << 10);
  EXPECT_EQ(l2, 1u << 20);
}

// Synthetic sweeps: a 32 MiB plateau at 90 GB/s falling to 18 GB/s; no plateau at all; and a
// noisy plateau. Sizes step by sqrt(2) from 2 MiB as the roofline's sweep does.
TEST(CacheInfo, L3FromBandwidthSweep) {
  const double mib = 1 << 20;
  std::vector<std::pair<size_t, double>> s;
  for (double ws = 2 * mib; ws <= 256 * mib * 1.01; ws *= std::sqrt(2.0)) {
    const double gbs = ws <= 32 * mib * 1.01 ? 90 : ws <= 48 * mib ? 40 : 18;
    s.emplace_back(size_t(ws), gbs);
  }
  EXPECT_EQ(l3_from_bandwidth_sweep(s), size_t(32 * mib));
  for (auto& p : s) p.second = 18 + (p.first % 3);  // flat: DRAM all the way
  EXPECT_EQ(l3_from_bandwidth_sweep(s), 0u);
  for (size_t i = 0; i < s.size(); ++i)
    s[i].second = (s[i].first <= size_t(16 * mib) ? 70 + 10 * (i % 2) : 15 + (i % 2));
  EXPECT_EQ(l3_from_bandwidth_sweep(s), size_t(16 * mib));
  s[s.size() - 3].second = 75;  // a lucky trial past the cliff does not extend the plateau
  EXPECT_EQ(l3_from_bandwidth_sweep(s), size_t(16 * mib));
  EXPECT_EQ(l3_from_bandwidth_sweep({}), 0u);
}

TEST(Roofline, ReadLoopOnEveryIsaMatchesPlainXor) {
  std::vector<uint64_t> words(4096 + 64);  // 32 KiB + slack for alignment
  uint64_t* p = words.data();
  while (reinterpret_cast<uintptr_t>(p) % 64) ++p;
  uint64_t want = 0;
  for (size_t i = 0; i < 4096; ++i) {
    p[i] = 0x9e3779b97f4a7c15ull * (i + 1) ^ (i << 17);
    want ^= p[i];
  }
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa > detected_isa()) continue;
    ScopedIsa scoped(isa);
    EXPECT_EQ(read_stream(p, 4096 * 8), want) << isa_name(isa);
  }
}

TEST(Roofline, WorkingSetsGrowWithTheLevel) {
  CacheSizes c;
  c.l1d = 48 << 10, c.l2 = 1280 << 10, c.l3 = 48 << 20;
  size_t l1 = roofline_working_set(c, "L1", 1), l2 = roofline_working_set(c, "L2", 1);
  size_t l3 = roofline_working_set(c, "L3", 1), dram = roofline_working_set(c, "DRAM", 1);
  EXPECT_LE(l1, c.l1d);
  EXPECT_GT(l2, c.l1d);
  EXPECT_LE(l2, c.l2);
  EXPECT_GT(l3, c.l2);
  EXPECT_LE(l3, c.l3);
  EXPECT_GE(dram, 4 * c.l3);
  EXPECT_EQ(roofline_working_set(c, "L2", 2), 2 * l2);  // private per core
}

}  // namespace
}  // namespace softdpu
