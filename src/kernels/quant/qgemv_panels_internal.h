// Shared between the panel product's dispatcher (qgemv_panels.cc) and its AVX-512 kernel
// (qgemv_panels_avx512.cc). Not a public header.
#pragma once

#include <cstdint>

#include "kernels/activation.h"
#include "kernels/linalg/gemm.h"
#include "kernels/quant/qgemv_panels.h"

namespace softdpu::kernels::quant {

// One call's prepared state: the panels, the quantised activations (rows of kp codes, blocks
// scales and corrections -128 * sum of each block's codes, the vpdpbusd bias of the unsigned
// weight operand) and the output.
struct PanelJob {
  const PanelMatrix* w = nullptr;
  int64_t m = 0, kp = 0;
  const int8_t* xq = nullptr;
  const float* xs = nullptr;
  const int32_t* xcorr = nullptr;
  int scale_shift = 0;                 // block scale = xs * 2^(header - 127 + scale_shift)
  const float* scale_table = nullptr;  // pow2_table(scale_shift)
  float* y = nullptr;
  int64_t ldy = 0;
  const GemmEpilogue* ep = nullptr;
};

// Y[i, r] = epilogue(v) (as qgemm's finish()).
inline void panel_finish(const PanelJob& j, int64_t i, int64_t r, float v) {
  float* out = j.y + i * j.ldy + r;
  if (j.ep->accumulate) v += *out;
  if (j.ep->bias) v += j.ep->bias[r];
  if (j.ep->row_bias) v += j.ep->row_bias[i];
  *out = apply_activation(j.ep->activation, v);
}

// Computes panels [p0, p1) for all m activation rows.
using PanelsFn = void (*)(const PanelJob&, int64_t p0, int64_t p1);

// The AVX-512 VNNI (+ VBMI for MXFP4) kernel for `id`, or null when the CPU lacks them.
PanelsFn select_panels_avx512(formats::FormatId id);

}  // namespace softdpu::kernels::quant
