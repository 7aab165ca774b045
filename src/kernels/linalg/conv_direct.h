// Direct 1-D/2-D convolution without im2col (the "indirect GEMM" form), for group == 1 with
// constant weights.
//
// Each run first copies X once into a zero-padded, stride-phase-split layout: for strides (sh, sw)
// the padded input becomes sh * sw planes per channel, plane (ph, pw) holding padded rows
// ph, ph + sh, ... and columns pw, pw + sw, .... In that layout every kernel tap (c, kh, kw) of any
// stride and dilation reads, for 16 consecutive output pixels of one output row, 16 consecutive
// floats at a fixed offset koff[tap] from the pixels' base. The product is then the packed GEMM's
// register tile with B read straight from the input (B row tap = input + koff[tap] + base) instead
// of from an im2col copy: the im2col pass (K x P writes and a gather per tap) disappears, and the
// copy that replaces it is C x H x W.
//
// Output pixels go in vectors of up to 16 along an output row, so rows narrower than 16 waste
// lanes (14 of 16 for 14-wide maps); the planner keeps im2col where that waste is large.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/activation.h"
#include "kernels/linalg/conv_common.h"

namespace softdpu::kernels {

// Output channels per register tile (the weights are packed in tiles of this many rows).
constexpr int64_t kDirectConvMr = 8;

struct DirectConv {
  Window win;
  int64_t c = 0, m = 0;
  int64_t sh = 1, sw = 1;        // strides (the phase count per axis)
  int64_t hq = 0, wq = 0;        // rows and columns of one phase plane
  int64_t k = 0;                 // C * kh * kw
  std::vector<int32_t> koff;     // per tap: offset of its first read in the phase-split input
  std::vector<bool> phase_read;  // per phase plane (ph * sw + pw): whether any tap reads it
  struct Vec {
    int32_t in, out, lanes;  // base in a phase plane, offset in the output plane, valid lanes
  };
  std::vector<Vec> vecs;
  // Ranges of pixel vectors, one per thread the plan was made for: range r covers vectors
  // [range_vec[r], range_vec[r + 1]) and has its own phase planes in scratch slot r, holding
  // plane rows [range_row[r], range_row[r] + rows) (its rows plus the halo its taps reach; a
  // vector's `in` counts from its range's first row). A thread copies the rows of its range,
  // then runs its tiles: one pool job per conv, no barrier between the copy and the product.
  std::vector<int32_t> range_vec, range_row;
  int64_t rows = 0;
  // Weights in tiles of kDirectConvMr output channels: w[(tile * K + tap) * Mr + r], zero rows
  // past M.
  std::vector<float> w;

  int64_t ranges() const { return static_cast<int64_t>(range_row.size()); }
  // Floats of one range's phase planes with the over-read slack, a multiple of 16 (64 bytes).
  int64_t slot_floats() const;
  // Scratch floats per image: every range's slot.
  int64_t scratch_floats() const { return ranges() * slot_floats(); }
};

// Whether the direct path serves this convolution (2-D or 1-D window, output rows wide enough
// that vectors along them are mostly full).
bool direct_conv_applies(const Window& w, int64_t group);

// Plan-time part: offsets, output vectors, ranges and the packed weights (w is [M, C, kh, kw]).
// threads: the ranges to plan, one per thread the conv is split over (conv_split_threads
// decides; 1 keeps it on the calling thread); any pool size runs it correctly.
std::shared_ptr<DirectConv> plan_direct_conv(const Window& w, int64_t c, int64_t m,
                                             const float* weights, int threads = 1);

// One image: x [C, H, W] -> y [M, OH, OW] = act(conv + bias[M] + residual), bias and residual
// optional (null). The residual [M, OH, OW] is a ResNet shortcut (passes/fuse_residual_add.cc):
// adding it in the tile writes the block output once. `scratch` holds scratch_floats() floats,
// 64-byte aligned. Runs the ranges over the pool, contiguous ranges per thread. Dispatches to the
// AVX-512, AVX2 or scalar tile by the active ISA.
void direct_conv(const DirectConv& p, const float* x, const float* bias, const float* residual,
                 const Activation& act, float* y, float* scratch, ThreadPool* pool);

namespace detail {

// Computes output channels [tile * Mr, ...) for vectors [v0, v1) of one image: bias, residual
// (laid out like y) and act applied, stored into y (the image's [M, OH*OW] output). xs is the
// phase planes of the vectors' range.
using DirectTileFn = void (*)(const DirectConv& p, const float* xs, int64_t tile, int64_t v0,
                              int64_t v1, const float* bias, const float* residual,
                              const Activation& act, float* y);
void direct_conv_tiles_scalar(const DirectConv& p, const float* xs, int64_t tile, int64_t v0,
                              int64_t v1, const float* bias, const float* residual,
                              const Activation& act, float* y);
void direct_conv_tiles_avx2(const DirectConv& p, const float* xs, int64_t tile, int64_t v0,
                            int64_t v1, const float* bias, const float* residual,
                            const Activation& act, float* y);
void direct_conv_tiles_avx512(const DirectConv& p, const float* xs, int64_t tile, int64_t v0,
                              int64_t v1, const float* bias, const float* residual,
                              const Activation& act, float* y);

// dst[j] = src[2 * j] for j < n: the row copy of a stride-2 phase plane. Reads src[0, 2n - 1)
// only (the masked SIMD loads never touch src[2n - 1]).
void copy_stride2_scalar(const float* src, int64_t n, float* dst);
void copy_stride2_avx512(const float* src, int64_t n, float* dst);

}  // namespace detail
}  // namespace softdpu::kernels
