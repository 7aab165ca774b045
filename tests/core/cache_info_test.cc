// Cache sizes from sysfs (core/cache_info.h) on a fake sysfs tree, and the roofline's read loop on
// every ISA this machine has against a plain XOR of the same words.
#include "core/cache_info.h"

#include <gtest/gtest.h>
#include <unistd.h>

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
  EXPECT_TRUE(c.from_sysfs);
  EXPECT_EQ(c.l1d, 48u << 10);
  EXPECT_EQ(c.l2, 1280u << 10);
  EXPECT_EQ(c.l3, 48u << 20);
}

TEST(CacheInfo, MissingSysfsFallsBack) {
  CacheSizes c = read_cache_sizes("/nonexistent/softdpu/cache");
  EXPECT_FALSE(c.from_sysfs);
  EXPECT_EQ(c.l1d, 32u << 10);
  EXPECT_EQ(c.l2, 1u << 20);
  EXPECT_EQ(c.l3, 8u << 20);
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
