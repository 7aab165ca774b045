// Row-interleaved panels for the products of MXINT8 / MXFP4 weights with kNative (MXINT8)
// activations in the RNN ops (kernels/rnn/rnn_common.h): the batch-1 per-step recurrent products
// H_{t-1} · Rᵀ, and the input projection X · Wᵀ over all steps (m = seq rows, four at a time).
//
// Why: the row-major PackedMatrix kernel (qgemm_avx512_native.cc) walks one weight row at a time;
// for every 32-element block it needs a vpdpbusd plus its share of a horizontal-add tree, header
// extraction and a scale, about 60 instructions per 256 multiply-adds. An L3-resident recurrent
// matrix then runs at 4-5 MACs a cycle, bound by instructions rather than bytes. Panels store 16
// output rows interleaved so that one 64-byte load holds 4 consecutive k of each of the 16 rows,
// and vpdpbusd with the activation's 4 bytes broadcast accumulates all 16 rows at once (64 MACs,
// no horizontal sums). Per block and panel: 8 vpdpbusd, then one convert, one scale vector built
// from the 16 rows' block exponents (stored contiguously) and one FMA into 16 fp32 sums.
//
// Layout (n rows padded up to whole panels of 16 with zero rows; K padded to blocks of 32):
//   codes   [panel][block][group g = 0..7][row 0..15][4 bytes]   MXINT8: code + 128 (uint8, the
//           unsigned operand of vpdpbusd); MXFP4: 256 bytes a block, see below
//   headers [panel][block][row 0..15]                             the E8M0 block exponents
// MXFP4 block (16 rows x 32 k x 4 bits = 4 x 64 bytes): byte r*4+t of vector v holds, in its low
// nibble, row r's code at k = 8v + t and, in its high nibble, k = 8v + 4 + t; one vpermb of a
// 64-entry table (2 * e2m1 + 128, repeated 4x so index bits 4-5 do not matter) on the vector and
// one on the vector shifted right by 4 give the two groups' unsigned operands.
//
// The panels hold the same bytes as the PackedMatrix they are built from, rearranged (plus at most
// 15 zero rows), so a plan keeps one or the other, never both. Results equal qgemm() with
// kNative (same quantised activations, exact int32 block sums, fp32 accumulation of the scaled
// block sums in block order); the scalar twin reads the same layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/thread_pool.h"
#include "formats/packed.h"
#include "kernels/linalg/gemm.h"
#include "kernels/quant/qgemm.h"

namespace softdpu::kernels {

class PanelMatrix {
 public:
  static constexpr int kRows = 16;  // output rows a panel
  static constexpr int kBlock = 32;

  // True when panels exist for `format` with `opt` (MXINT8 / MXFP4, kNative activations).
  static bool supports(const formats::WeightFormat& format, const QGemmOptions& opt);
  // Rearranges w (supports(w.format(), kNative) must hold). Plan-time only.
  static PanelMatrix from(const formats::PackedMatrix& w);

  const formats::WeightFormat& format() const { return format_; }
  int64_t rows() const { return n_; }
  int64_t cols() const { return k_; }
  int64_t blocks() const { return blocks_; }
  int64_t panels() const { return (n_ + kRows - 1) / kRows; }
  int block_code_bytes() const { return code_bytes_; }  // 512 (MXINT8) or 256 (MXFP4)
  // Codes of panel p, block b (64-byte aligned) and the panel's 16 headers of block b.
  const uint8_t* codes(int64_t p, int64_t b) const {
    return data_.get() + (p * blocks_ + b) * code_bytes_;
  }
  const uint8_t* headers(int64_t p, int64_t b) const {
    return data_.get() + headers_offset_ + (p * blocks_ + b) * kRows;
  }
  size_t bytes() const { return bytes_; }

 private:
  formats::WeightFormat format_;
  int64_t n_ = 0, k_ = 0, blocks_ = 0;
  int code_bytes_ = 0;
  size_t headers_offset_ = 0, bytes_ = 0;
  std::shared_ptr<uint8_t> data_;
};

// Whether a plan should build panels for a product in `format` with `opt`: supports(), this CPU
// has the AVX-512 VNNI kernel (elsewhere the row-major kernels are faster than the panels' scalar
// twin), and the A/B switch SOFTDPU_QGEMV_PANELS (read once) allows it: unset or anything else =
// every product that qualifies, "steps" = only the RNN per-step products (`per_step`), "0" = none
// (the row-major kernels, as before panels; docs/precision.md).
bool qgemv_panels_worthwhile(const formats::WeightFormat& format, const QGemmOptions& opt,
                             bool per_step);

// Scratch for m activation rows (quantised codes, block scales and corrections).
size_t qgemv_panels_scratch_bytes(int64_t m, const PanelMatrix& w);

// Y (m x N, ldy) = X (m x K, ldx) * Wᵀ with the epilogue, activations quantised to MXINT8 blocks
// as qgemm's kNative. `scratch`: qgemv_panels_scratch_bytes(m, w) bytes, 64-byte aligned, never
// null (the inference path does not allocate). Splits panels across the pool.
void qgemv_panels(int64_t m, const float* x, int64_t ldx, const PanelMatrix& w, float* y,
                  int64_t ldy, const GemmEpilogue& epilogue, ThreadPool* pool, void* scratch);

// The same with the scalar kernel on one thread (the layout's reference twin, for tests).
void qgemv_panels_scalar(int64_t m, const float* x, int64_t ldx, const PanelMatrix& w, float* y,
                         int64_t ldy, const GemmEpilogue& epilogue, void* scratch);

}  // namespace softdpu::kernels
