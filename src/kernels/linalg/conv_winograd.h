// Winograd F(2x2, 3x3) convolution (Lavin & Gray 2015) for 3x3 stride-1 convolutions with
// constant weights and enough channels (resnet_cnn's 3x3 layers).
//
// The 3x3 direct conv already runs near the FP32 peak (docs/benchmarks.md), so only fewer
// multiplies can make it faster: F(2x2, 3x3) computes each 2x2 output tile from a 4x4 input
// tile with 16 multiplies per (input, output) channel pair instead of 36, i.e. 2.25x fewer.
//   plan time: U[xi] = (G g G^T)[xi], 16 matrices M x C (row-major, the GEMM's left operand).
//   per block of tiles: V[xi] = (B^T d B)[xi], 16 matrices C x T written straight into the packed
//   GEMM layout (gemm.h, a panel = 16 tiles); 16 products Mo[xi] = U[xi] * V[xi] by the packed
//   GEMM; Y = A^T Mo A per tile, with bias, the fused residual and the activation.
// Tiles go 16 per vector (one panel): the transforms are element-wise over tiles. The input is
// first copied into zero-padded even/odd column planes so that the 4 columns a tile reads are
// planes (even, odd, even + 1, odd + 1) at the tile's column: a run of tiles in one tile row then
// reads consecutive floats. A panel is cut into such runs ("segments"), handled with masked
// loads and stores, so any map size works (tiles cut at the right and bottom edges).
// Blocks of tiles (V and Mo of a block stay in L2) are grouped in ranges of tile rows, one per
// scratch slot; a slot copies the plane rows its range reads and runs its blocks, so a run is a
// single pool job (the direct conv needs two: the copy, then the tiles).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/activation.h"
#include "kernels/linalg/conv_common.h"

namespace softdpu::kernels {

struct WinogradConv {
  int64_t c = 0, m = 0;
  int64_t ih = 0, iw = 0, oh = 0, ow = 0;
  int64_t pad_t = 0, pad_l = 0;
  int64_t th = 0, tw = 0, tiles = 0;  // tile grid (2x2 output pixels each)
  int64_t hp = 0, we = 0;             // rows and columns of one even/odd column plane
  int64_t block = 0;                  // tiles per block, a multiple of 16
  int64_t blocks = 0, slots = 0;      // blocks, and ranges of blocks (scratch slots)
  int64_t threads = 1;                // most threads a run splits over (conv_split_threads)
  // Range r covers blocks [range_block[r], range_block[r + 1]) and reads plane rows
  // [range_row[r], range_row[r] + rows): each slot copies the rows of its own range, so a run is
  // one pool job (no shared planes, no barrier between the copy and the tiles).
  std::vector<int64_t> range_block, range_row;
  int64_t rows = 0;  // plane rows of the largest range
  // A run of lanes [lane0, lane1) of a panel lying in one tile row: `in` is the first lane's
  // offset in a plane, (row, col) its output pixel.
  struct Seg {
    int32_t panel, lane0, lane1, in, row, col;
  };
  std::vector<Seg> segs;
  std::vector<int32_t> panel_seg;  // per panel: its first segment (panels + 1 entries)
  std::vector<float> u;            // 16 x M x C

  // Floats of one slot's plane (a range's rows), and of its 2 * C planes, a multiple of 16 so
  // that what follows stays 64-byte aligned.
  int64_t plane_floats() const { return rows * we; }
  int64_t input_floats() const { return (2 * c * plane_floats() + 15) / 16 * 16; }
  // Floats between consecutive transform points' matrices in V and Mo: 64 bytes more than the
  // matrix, so the 16 streams of one transform do not alias in L1 (a multiple of 4 KiB apart,
  // they cost the input transform as much as a third of the GEMM time).
  int64_t v_stride() const { return c * block + 16; }
  int64_t mo_stride() const { return m * block + 16; }
  int64_t v_floats() const { return 16 * v_stride(); }
  int64_t mo_floats() const { return 16 * mo_stride(); }
  int64_t slot_floats() const { return input_floats() + v_floats() + mo_floats(); }
  // All scratch floats of one run: every slot's planes, V and Mo.
  int64_t scratch_floats() const { return slots * slot_floats(); }
};

// Whether the geometry allows it (2-D, 3x3, stride 1, dilation 1, group 1).
bool winograd_conv_applies(const Window& w, int64_t group);
// Whether it is expected to beat the direct conv (channel counts, by benchmark).
bool winograd_conv_pays(int64_t c, int64_t m);

// Plan time: tile grid, segments and transformed weights (w is [M, C, 3, 3]). The plan runs on
// the calling thread until its `threads` is set.
std::shared_ptr<WinogradConv> plan_winograd_conv(const Window& w, int64_t c, int64_t m,
                                                 const float* weights);
// Multiplies of one run (16 per tile and channel pair), the work conv_split_threads weighs.
int64_t winograd_macs(const WinogradConv& p);

// One image: x [C, H, W] -> y [M, OH, OW] = act(conv + bias + residual) (bias, residual
// optional). scratch holds scratch_floats() floats, 64-byte aligned.
void winograd_conv(const WinogradConv& p, const float* x, const float* bias, const float* residual,
                   const Activation& act, float* y, float* scratch, ThreadPool* pool);

namespace detail {

// Input transform of panels [p0, p1) for every channel into v, the block's 16 packed C x block
// matrices (panel p0 first). planes: the padded even/odd column planes from row row0 on.
using WinogradInFn = void (*)(const WinogradConv& p, const float* planes, int64_t row0, int64_t p0,
                              int64_t p1, float* v);
// Output transform of panels [p0, p1) from mo (16 matrices M x block, panel p0 first) into y,
// with bias, residual (laid out like y) and act.
using WinogradOutFn = void (*)(const WinogradConv& p, const float* mo, int64_t p0, int64_t p1,
                               const float* bias, const float* residual, const Activation& act,
                               float* y);
void winograd_in_scalar(const WinogradConv& p, const float* planes, int64_t row0, int64_t p0,
                        int64_t p1, float* v);
void winograd_in_avx512(const WinogradConv& p, const float* planes, int64_t row0, int64_t p0,
                        int64_t p1, float* v);
void winograd_out_scalar(const WinogradConv& p, const float* mo, int64_t p0, int64_t p1,
                         const float* bias, const float* residual, const Activation& act, float* y);
void winograd_out_avx512(const WinogradConv& p, const float* mo, int64_t p0, int64_t p1,
                         const float* bias, const float* residual, const Activation& act, float* y);

}  // namespace detail
}  // namespace softdpu::kernels
