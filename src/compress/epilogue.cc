#include "compress/epilogue.h"

namespace softdpu::compress {

void apply_epilogue(const kernels::GemmEpilogue& ep, int64_t r, int64_t c0, int64_t c1,
                    const float* src, float* dst) {
  const float rb = ep.row_bias ? ep.row_bias[r] : 0.f;
  for (int64_t c = c0; c < c1; ++c) {
    float v = src[c - c0] + rb;
    if (ep.bias) v += ep.bias[c];
    if (ep.accumulate) v += dst[c - c0];
    dst[c - c0] = v;
  }
  kernels::apply_activation_inplace(ep.activation, dst, c1 - c0);
}

}  // namespace softdpu::compress
