// Panel layout construction, activation preparation, threading and the scalar kernel of the
// batch-1 panel products (qgemv_panels.h). The AVX-512 kernel is in qgemv_panels_avx512.cc.
#include "kernels/quant/qgemv_panels.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "core/cpu.h"
#include "kernels/quant/qgemm_internal.h"
#include "kernels/quant/qgemv_panels_internal.h"

namespace softdpu::kernels {

using formats::FormatId;

namespace {

size_t align64(size_t v) {
  return (v + 63) & ~size_t{63};
}

struct Scratch {
  size_t xs = 0, xcorr = 0, total = 0;
};

Scratch scratch_layout(int64_t m, const PanelMatrix& w) {
  Scratch s;
  const size_t rows = size_t(std::max<int64_t>(m, 0)), blocks = size_t(w.blocks());
  s.xs = align64(rows * blocks * PanelMatrix::kBlock);
  s.xcorr = s.xs + align64(rows * blocks * sizeof(float));
  s.total = s.xcorr + align64(rows * blocks * sizeof(int32_t));
  return s;
}

// Row r's weight at k of one panel block, as the signed value the kernels multiply (MXINT8: the
// code; MXFP4: 2 * e2m1), read from the panel layout.
int weight_at(const PanelMatrix& w, const uint8_t* codes, int r, int k) {
  if (w.format().id == FormatId::kMxInt8) return int(codes[(k / 4) * 64 + r * 4 + k % 4]) - 128;
  const int within = k % 8;
  const uint8_t byte = codes[(k / 8) * 64 + r * 4 + within % 4];
  return quant::kE2M1Times2[within < 4 ? byte & 0x0F : byte >> 4];
}

// The scalar twin: per row and block an exact int32 sum, scaled and accumulated in block order.
void panels_scalar(const quant::PanelJob& j, int64_t p0, int64_t p1) {
  const PanelMatrix& w = *j.w;
  for (int64_t p = p0; p < p1; ++p) {
    for (int64_t i = 0; i < j.m; ++i) {
      float acc[PanelMatrix::kRows] = {};
      for (int64_t b = 0; b < w.blocks(); ++b) {
        const uint8_t* codes = w.codes(p, b);
        const uint8_t* hdr = w.headers(p, b);
        const int8_t* xq = j.xq + i * j.kp + b * PanelMatrix::kBlock;
        const float xs = j.xs[i * w.blocks() + b];
        for (int r = 0; r < PanelMatrix::kRows; ++r) {
          int32_t sum = 0;
          for (int k = 0; k < PanelMatrix::kBlock; ++k) sum += weight_at(w, codes, r, k) * xq[k];
          acc[r] += float(sum) * (j.scale_table[hdr[r]] * xs);
        }
      }
      for (int r = 0; r < PanelMatrix::kRows && p * PanelMatrix::kRows + r < w.rows(); ++r)
        quant::panel_finish(j, i, p * PanelMatrix::kRows + r, acc[r]);
    }
  }
}

quant::PanelJob prepare(int64_t m, const float* x, int64_t ldx, const PanelMatrix& w, float* y,
                        int64_t ldy, const GemmEpilogue& ep, void* scratch, bool reference) {
  quant::PanelJob j;
  j.w = &w;
  j.m = m;
  j.kp = w.blocks() * PanelMatrix::kBlock;
  const Scratch l = scratch_layout(m, w);
  uint8_t* base = static_cast<uint8_t*>(scratch);
  int8_t* xq = reinterpret_cast<int8_t*>(base);
  float* xs = reinterpret_cast<float*>(base + l.xs);
  int32_t* xcorr = reinterpret_cast<int32_t*>(base + l.xcorr);
  const Isa isa = reference ? Isa::kScalar : active_isa();
  for (int64_t i = 0; i < m; ++i) {
    int8_t* q = xq + i * j.kp;
    float* s = xs + i * w.blocks();
    if (isa == Isa::kAvx512)
      quant::quantize_x_mxint8_avx512(x + i * ldx, w.cols(), j.kp, q, s);
    else if (isa == Isa::kAvx2)
      quant::quantize_x_mxint8_avx2(x + i * ldx, w.cols(), j.kp, q, s);
    else
      quant::quantize_x_mxint8_scalar(x + i * ldx, w.cols(), j.kp, q, s);
    // The weights enter vpdpbusd as value + 128: start each block's sum at -128 * sum(x).
    for (int64_t b = 0; b < w.blocks(); ++b) {
      int32_t t = 0;
      for (int e = 0; e < PanelMatrix::kBlock; ++e) t += q[b * PanelMatrix::kBlock + e];
      xcorr[i * w.blocks() + b] = -128 * t;
    }
  }
  j.xq = xq;
  j.xs = xs;
  j.xcorr = xcorr;
  // MXINT8 codes are value * 2^6; the fp4 operand is 2 * value.
  j.scale_shift = w.format().id == FormatId::kMxInt8 ? -6 : -1;
  j.scale_table = quant::pow2_table(j.scale_shift);
  j.y = y;
  j.ldy = ldy;
  j.ep = &ep;
  return j;
}

}  // namespace

bool PanelMatrix::supports(const formats::WeightFormat& format, const QGemmOptions& opt) {
  return opt.activations == QuantActivations::kNative &&
         (format.id == FormatId::kMxInt8 || format.id == FormatId::kMxFp4E2M1);
}

PanelMatrix PanelMatrix::from(const formats::PackedMatrix& w) {
  QGemmOptions native;
  native.activations = QuantActivations::kNative;
  if (!supports(w.format(), native))
    throw std::invalid_argument("PanelMatrix: only mxint8 and mxfp4_e2m1 weights have panels");
  PanelMatrix pm;
  pm.format_ = w.format();
  pm.n_ = w.rows();
  pm.k_ = w.cols();
  pm.blocks_ = w.blocks_per_row();
  const bool int8 = pm.format_.id == FormatId::kMxInt8;
  pm.code_bytes_ = int8 ? 512 : 256;
  const int64_t units = pm.panels() * pm.blocks_;
  pm.headers_offset_ = size_t(units * pm.code_bytes_);
  pm.bytes_ = pm.headers_offset_ + size_t(units * kRows);
  uint8_t* raw = static_cast<uint8_t*>(std::aligned_alloc(64, align64(pm.bytes_ + 64)));
  if (!raw) throw std::bad_alloc();
  pm.data_ = std::shared_ptr<uint8_t>(raw, std::free);
  // Padding rows: MXINT8 code 0 (stored + 128), fp4 code 0, header 0 (a finite scale).
  std::memset(raw, int8 ? 0x80 : 0, pm.headers_offset_);
  std::memset(raw + pm.headers_offset_, 0, align64(pm.bytes_ + 64) - pm.headers_offset_);
  const int block_bytes = formats::storage_block_bytes(pm.format_);
  for (int64_t r = 0; r < pm.n_; ++r) {
    const int64_t p = r / kRows;
    const int rr = int(r % kRows);
    for (int64_t b = 0; b < pm.blocks_; ++b) {
      const uint8_t* blk = w.row(r) + b * block_bytes;
      uint8_t* codes = raw + (p * pm.blocks_ + b) * pm.code_bytes_;
      raw[pm.headers_offset_ + size_t((p * pm.blocks_ + b) * kRows + rr)] = blk[0];
      for (int k = 0; k < kBlock; ++k) {
        if (int8) {
          codes[(k / 4) * 64 + rr * 4 + k % 4] = uint8_t(blk[1 + k] ^ 0x80);
        } else {
          // Row-major fp4 block: element e in the low nibble of byte e (e < 16), else the high
          // nibble of byte e - 16.
          const uint8_t byte = blk[1 + k % 16];
          const uint8_t code = k < 16 ? byte & 0x0F : byte >> 4;
          const int within = k % 8;
          codes[(k / 8) * 64 + rr * 4 + within % 4] |= uint8_t(within < 4 ? code : code << 4);
        }
      }
    }
  }
  return pm;
}

bool qgemv_panels_worthwhile(const formats::WeightFormat& format, const QGemmOptions& opt,
                             bool per_step) {
  enum Mode { kNone, kSteps, kAll };
  static const Mode mode = [] {
    const char* v = std::getenv("SOFTDPU_QGEMV_PANELS");
    if (v && std::strcmp(v, "0") == 0) return kNone;
    if (v && std::strcmp(v, "steps") == 0) return kSteps;
    return kAll;
  }();
  return (mode == kAll || (mode == kSteps && per_step)) && PanelMatrix::supports(format, opt) &&
         active_isa() == Isa::kAvx512 && quant::select_panels_avx512(format.id) != nullptr;
}

size_t qgemv_panels_scratch_bytes(int64_t m, const PanelMatrix& w) {
  return scratch_layout(m, w).total;
}

void qgemv_panels(int64_t m, const float* x, int64_t ldx, const PanelMatrix& w, float* y,
                  int64_t ldy, const GemmEpilogue& ep, ThreadPool* pool, void* scratch) {
  if (m <= 0 || w.rows() <= 0) return;
  const quant::PanelJob j = prepare(m, x, ldx, w, y, ldy, ep, scratch, false);
  quant::PanelsFn fn =
      active_isa() == Isa::kAvx512 ? quant::select_panels_avx512(w.format().id) : nullptr;
  if (!fn) fn = &panels_scalar;
  // A chunk below ~64K multiply-adds is not worth a hand-off to another thread.
  const int64_t panels = w.panels();
  const int64_t panel_macs = PanelMatrix::kRows * j.kp * m;
  const int threads = pool ? pool->threads() : 1;
  if (threads <= 1 || panels < 2 || panel_macs * panels < 128 * 1024) {
    fn(j, 0, panels);
    return;
  }
  const int64_t grain = std::max<int64_t>(1, (64 * 1024) / std::max<int64_t>(1, panel_macs));
  pool->parallel_for(panels, grain, [&](int64_t p0, int64_t p1) { fn(j, p0, p1); });
}

void qgemv_panels_scalar(int64_t m, const float* x, int64_t ldx, const PanelMatrix& w, float* y,
                         int64_t ldy, const GemmEpilogue& ep, void* scratch) {
  if (m <= 0 || w.rows() <= 0) return;
  panels_scalar(prepare(m, x, ldx, w, y, ldy, ep, scratch, true), 0, w.panels());
}

}  // namespace softdpu::kernels
