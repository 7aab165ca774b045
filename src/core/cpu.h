// Run-time CPU dispatch. Kernels pick their fast path with active_isa(); tests force each path the
// machine supports with ScopedIsa so every path is checked against the scalar reference twin.
#pragma once

namespace softdpu {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };  // kAvx2 means AVX2+FMA+F16C

const char* isa_name(Isa isa);
// The best path this CPU supports (AVX-512 needs F, BW, DQ and VL).
Isa detected_isa();
// The path kernels should use: detected_isa(), lowered by SOFTDPU_ISA=scalar|avx2|avx512 in the
// environment or by a ScopedIsa; never above what the CPU supports.
Isa active_isa();
bool cpu_has_avx512_vnni();
bool cpu_has_avx512_vbmi();
bool cpu_has_avx512_bf16();

// Forces active_isa() to min(isa, detected) for the lifetime of the object (tests, benchmarks).
class ScopedIsa {
 public:
  explicit ScopedIsa(Isa isa);
  ~ScopedIsa();
  ScopedIsa(const ScopedIsa&) = delete;
  ScopedIsa& operator=(const ScopedIsa&) = delete;

 private:
  int previous_;
};

}  // namespace softdpu
