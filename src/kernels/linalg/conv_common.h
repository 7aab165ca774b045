// Geometry shared by Conv, ConvTranspose, ConvInteger, QLinearConv and the pools: the ONNX
// kernel_shape / strides / dilations / pads / auto_pad attributes resolved once at plan time, and
// im2col into the packed GEMM layout.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/kernel.h"

namespace softdpu::kernels {

// A window over 1..3 spatial dimensions. Arrays hold 3 entries with the given dimensions
// right-aligned (a 2-D window has in = {1, H, W}), so one loop nest serves 1D, 2D and 3D.
struct Window {
  int nd = 0;
  int64_t in[3] = {1, 1, 1};
  int64_t out[3] = {1, 1, 1};
  int64_t k[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1};
  int64_t dil[3] = {1, 1, 1};
  int64_t pad[3] = {0, 0, 0};      // before
  int64_t pad_end[3] = {0, 0, 0};  // after

  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t k_size() const { return k[0] * k[1] * k[2]; }
  // The output spatial dimensions as a shape (nd entries).
  Shape out_shape() const;
};

// Reads strides, dilations, pads and auto_pad for a window of `kernel` over `in_spatial` and
// computes the output size (floor, or ceil when ceil_mode, in which case the last window must
// still start inside the input or its leading padding). Fails with a precise message on bad
// attribute lengths or values, or an empty output.
Window resolve_window(const runtime::PrepareContext& ctx, const Shape& in_spatial,
                      const std::vector<int64_t>& kernel, bool ceil_mode,
                      bool allow_dilations = true);

// The kernel_shape attribute, checked against the weight's spatial dims when both exist.
std::vector<int64_t> kernel_shape_attr(const runtime::PrepareContext& ctx, size_t nd,
                                       const std::vector<int64_t>* from_weight);

// im2col of output pixels [p0, p0 + np) for `channels` input channels starting at x (each
// channel w.in_size() floats). Row index k = (c * w.k_size() + kernel offset). Written in the
// packed GEMM layout (K = channels * k_size, N = np; see gemm.h) with zero padding lanes.
void im2col_panels(const float* x, const Window& w, int64_t channels, int64_t p0, int64_t np,
                   float* dst);
// The same patches as row-major rows: dst[p * K + k].
void im2col_rows(const float* x, const Window& w, int64_t channels, int64_t p0, int64_t np,
                 float* dst);
// Rows with the taps ordered kernel position first: dst[p * K + kpos * channels + c] (the
// compressed Conv's order: docs/compression.md).
void im2col_rows_tap_major(const float* x, const Window& w, int64_t channels, int64_t p0,
                           int64_t np, float* dst);

// Spatial rank check for X of shape [N, C, spatial...].
void expect_spatial_rank(const runtime::PrepareContext& ctx, int input, int max_nd = 3);

}  // namespace softdpu::kernels
