// The scalar reference twin of the gate epilogues: the same polynomials as the vector paths, one
// lane at a time and without fused multiply-adds (the portable baseline has no FMA), plus the
// ISA dispatch.
#include <bit>
#include <cmath>
#include <cstdint>

#include "kernels/rnn/gates.h"

#define SOFTDPU_RNN_ISA scalar

namespace softdpu::kernels::rnn::scalar {

using V = float;
constexpr int64_t kW = 1;

inline V set1(float a) {
  return a;
}
inline V ld(const float* p, int64_t) {
  return *p;
}
inline void st(float* p, V v, int64_t) {
  *p = v;
}
inline V add(V a, V b) {
  return a + b;
}
inline V sub(V a, V b) {
  return a - b;
}
inline V mul(V a, V b) {
  return a * b;
}
inline V div(V a, V b) {
  return a / b;
}
inline V fma(V a, V b, V c) {
  return a * b + c;
}
inline V fnma(V a, V b, V c) {
  return c - a * b;
}
inline V vmin(V a, V b) {
  return a < b ? a : b;
}
inline V vmax(V a, V b) {
  return a > b ? a : b;
}
inline V vabs(V a) {
  return std::fabs(a);
}
inline bool lt(V a, V b) {
  return a < b;
}
inline bool ge(V a, V b) {
  return a >= b;
}
inline V sel(bool m, V x, V y) {
  return m ? x : y;
}
inline V vfloor(V a) {
  return std::floor(a);
}
inline V pow2n(V n) {
  return std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
}
inline V frexp_v(V x, V* e) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  *e = static_cast<float>(static_cast<int32_t>(bits >> 23) - 126);
  return std::bit_cast<float>((bits & 0x007FFFFFu) | 0x3F000000u);
}

}  // namespace softdpu::kernels::rnn::scalar

#include "kernels/rnn/gates_impl.inc"

namespace softdpu::kernels::rnn {

const GateKernels kGatesScalar = {"scalar",        scalar::lstm, scalar::gru_zr,    scalar::gru_h,
                                  scalar::gru_lbr, scalar::rnn,  scalar::activation};

const GateKernels& gate_kernels(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::kAvx512) return kGatesAvx512;
  if (isa == Isa::kAvx2) return kGatesAvx2;
#endif
  return kGatesScalar;
}

}  // namespace softdpu::kernels::rnn
