#include "core/cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace softdpu {
namespace {
// -1: no override.
std::atomic<int> g_override{-1};

int env_isa() {
  static const int value = [] {
    const char* e = std::getenv("SOFTDPU_ISA");
    if (!e) return -1;
    if (std::strcmp(e, "scalar") == 0) return 0;
    if (std::strcmp(e, "avx2") == 0) return 1;
    if (std::strcmp(e, "avx512") == 0) return 2;
    return -1;
  }();
  return value;
}
}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "?";
}

Isa detected_isa() {
#if defined(__x86_64__)
  static const Isa isa = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
      return Isa::kAvx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
    return Isa::kScalar;
  }();
  return isa;
#else
  return Isa::kScalar;
#endif
}

bool cpu_has_avx512_vnni() {
#if defined(__x86_64__)
  return detected_isa() == Isa::kAvx512 && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

bool cpu_has_avx512_vbmi() {
#if defined(__x86_64__)
  return detected_isa() == Isa::kAvx512 && __builtin_cpu_supports("avx512vbmi");
#else
  return false;
#endif
}

bool cpu_has_avx512_bf16() {
#if defined(__x86_64__)
  // GCC 12's __builtin_cpu_supports knows "avx512bf16".
  return detected_isa() == Isa::kAvx512 && __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

Isa active_isa() {
  int best = static_cast<int>(detected_isa());
  int o = g_override.load(std::memory_order_relaxed);
  if (o < 0) o = env_isa();
  if (o >= 0 && o < best) best = o;
  return static_cast<Isa>(best);
}

ScopedIsa::ScopedIsa(Isa isa) : previous_(g_override.exchange(static_cast<int>(isa))) {}
ScopedIsa::~ScopedIsa() {
  g_override.store(previous_);
}

}  // namespace softdpu
