// Dispatch, activation preparation, threading and the scalar reference twin of the quantised
// matrix products. The SIMD row kernels live in qgemm_avx512.cc (fp32 activations),
// qgemm_avx512_native.cc (VNNI / BF16) and qgemm_avx2.cc.
#include "kernels/quant/qgemm.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

#include "core/cpu.h"
#include "formats/element.h"
#include "formats/quantize.h"
#include "kernels/quant/qgemm_internal.h"

namespace softdpu::kernels {

using formats::FormatId;
using formats::PackedMatrix;
using formats::WeightFormat;

namespace quant {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

}  // namespace

const float* pow2_table(int shift) {
  static const auto tables = [] {
    std::array<std::array<float, 256>, 41> t{};
    for (int s = -20; s <= 20; ++s) {
      for (int e = 0; e < 255; ++e)
        t[size_t(s + 20)][size_t(e)] = float(std::ldexp(1.0, e - 127 + s));
      t[size_t(s + 20)][255] = kNaN;
    }
    return t;
  }();
  return tables[size_t(shift + 20)].data();
}

namespace {

// The SIMD decoders produce each element times a constant (e.g. the fp16 re-biasing trick for
// FP8/FP6 yields value * 2^-8 for E4M3); the scale table folds 2^shift back in.
int decoder_shift(const WeightFormat& f) {
  switch (f.id) {
    case FormatId::kMxInt8: return -6;
    case FormatId::kMxFp8E4M3: return 8;
    case FormatId::kMxFp6E3M2: return 12;
    case FormatId::kMxFp6E2M3: return 14;
    case FormatId::kBfp: return 1 - f.mantissa_bits;
    default: return 0;
  }
}

const float* lut16_for(FormatId id) {
  static const auto tables = [] {
    std::array<std::array<float, 16>, 2> t{};
    const formats::ElemSpec& s = formats::elem_spec(formats::ElemKind::kE2M1);
    for (int c = 0; c < 16; ++c) {
      t[0][size_t(c)] = formats::decode_elem(uint8_t(c), s);
      t[1][size_t(c)] = float(c < 8 ? c : c - 16);  // bfp: two's complement nibble
    }
    return t;
  }();
  return tables[id == FormatId::kMxFp4E2M1 ? 0 : 1].data();
}

Path path_for(const WeightFormat& f, const QGemmOptions& opt) {
  if (opt.activations != QuantActivations::kNative) return Path::kFp32;
  if (f.id == FormatId::kMxInt8) return Path::kMxInt8Native;
  if (f.id == FormatId::kMxFp4E2M1) return Path::kMxFp4Native;
  if (f.id == FormatId::kBf16) return Path::kBf16Native;
  return Path::kFp32;
}

size_t align64(size_t v) {
  return (v + 63) & ~size_t{63};
}

// Scratch layout per path (offsets from the 64-byte aligned base).
struct ScratchLayout {
  size_t x_bytes = 0, xs_offset = 0, xsum_offset = 0, total = 0;
};

ScratchLayout scratch_layout(int64_t m, const PackedMatrix& w, Path path) {
  ScratchLayout l;
  const size_t rows = size_t(std::max<int64_t>(m, 0)), kp = size_t(w.padded_cols());
  switch (path) {
    case Path::kFp32: l.x_bytes = align64(rows * kp * sizeof(float)); break;
    case Path::kMxInt8Native:
    case Path::kMxFp4Native: l.x_bytes = align64(rows * kp); break;
    case Path::kBf16Native: l.x_bytes = align64(rows * kp * sizeof(uint16_t)); break;
  }
  l.xs_offset = l.x_bytes;
  l.total = l.x_bytes;
  if (int8_activations(path)) {
    l.xsum_offset = l.total + align64(rows * size_t(w.blocks_per_row()) * 4);
    l.total = l.xsum_offset + align64(rows * size_t(w.blocks_per_row()) * 4);
  }
  return l;
}

// A per-thread buffer for callers that pass no scratch; grows, never shrinks.
uint8_t* thread_scratch(size_t bytes) {
  struct Buffer {
    uint8_t* p = nullptr;
    size_t size = 0;
    ~Buffer() { std::free(p); }
  };
  thread_local Buffer buf;
  if (buf.size < bytes) {
    std::free(buf.p);
    buf.p = static_cast<uint8_t*>(std::aligned_alloc(64, align64(bytes)));
    if (!buf.p) throw std::bad_alloc();
    buf.size = align64(bytes);
  }
  return buf.p;
}

QJob make_job(int64_t m, const PackedMatrix& w, float* y, int64_t ldy, const GemmEpilogue& ep) {
  QJob j;
  const WeightFormat& f = w.format();
  j.id = f.id;
  j.mantissa_bits = f.mantissa_bits;
  j.m = m;
  j.n = w.rows();
  j.k = w.cols();
  j.kp = w.padded_cols();
  j.blocks = w.blocks_per_row();
  j.block = formats::storage_block(f);
  j.block_bytes = formats::storage_block_bytes(f);
  j.row_bytes = w.row_bytes();
  j.w = &w;
  j.wdata = w.data();
  j.scale_shift = decoder_shift(f);
  j.scale_table = pow2_table(j.scale_shift);
  j.row_scales = w.row_scales();
  j.lut16 = lut16_for(f.id);
  j.y = y;
  j.ldy = ldy;
  j.ep = &ep;
  return j;
}

// Fills the job's activation pointers from x, using `scratch`.
void prepare_activations(QJob& j, const float* x, int64_t ldx, Path path, uint8_t* scratch,
                         bool reference) {
  const ScratchLayout l = scratch_layout(j.m, *j.w, path);
  const Isa isa = reference ? Isa::kScalar : active_isa();
  for (int64_t i = 0; i < j.m; ++i) {
    const float* xi = x + i * ldx;
    switch (path) {
      case Path::kFp32: {
        float* d = reinterpret_cast<float*>(scratch) + i * j.kp;
        std::memcpy(d, xi, size_t(j.k) * sizeof(float));
        std::fill(d + j.k, d + j.kp, 0.f);
        break;
      }
      case Path::kMxInt8Native:
      case Path::kMxFp4Native: {
        int8_t* q = reinterpret_cast<int8_t*>(scratch) + i * j.kp;
        float* s = reinterpret_cast<float*>(scratch + l.xs_offset) + i * j.blocks;
        if (isa == Isa::kAvx512) {
          quantize_x_mxint8_avx512(xi, j.k, j.kp, q, s);
        } else if (isa == Isa::kAvx2) {
          quantize_x_mxint8_avx2(xi, j.k, j.kp, q, s);
        } else {
          quantize_x_mxint8_scalar(xi, j.k, j.kp, q, s);
        }
        int32_t* sum = reinterpret_cast<int32_t*>(scratch + l.xsum_offset) + i * j.blocks;
        for (int64_t b = 0; b < j.blocks; ++b) {
          int32_t t = 0;
          for (int e = 0; e < 32; ++e) t += q[b * 32 + e];
          sum[b] = t;
        }
        break;
      }
      case Path::kBf16Native: {
        uint16_t* h = reinterpret_cast<uint16_t*>(scratch) + i * j.kp;
        if (isa == Isa::kAvx512 && cpu_has_avx512_bf16()) {
          convert_x_bf16_avx512(xi, j.k, j.kp, h);
        } else {
          convert_x_bf16_scalar(xi, j.k, j.kp, h);
        }
        break;
      }
    }
  }
  j.path = path;
  j.ldx = j.kp;
  if (path == Path::kFp32) j.x = reinterpret_cast<const float*>(scratch);
  // The fp4 codes decode to 2 * value: the table halves them back.
  if (path == Path::kMxFp4Native) {
    j.scale_shift = -1;
    j.scale_table = pow2_table(-1);
  }
  if (int8_activations(path)) {
    j.xq = reinterpret_cast<const int8_t*>(scratch);
    j.xs = reinterpret_cast<const float*>(scratch + l.xs_offset);
    j.xsum = reinterpret_cast<const int32_t*>(scratch + l.xsum_offset);
  }
  if (path == Path::kBf16Native) j.xh = reinterpret_cast<const uint16_t*>(scratch);
}

// K == 0 or a zero-sized weight: only the epilogue remains.
void epilogue_only(const QJob& j) {
  for (int64_t i = 0; i < j.m; ++i)
    for (int64_t r = 0; r < j.n; ++r) finish(j, i, r, 0.f);
}

}  // namespace

void quantize_x_mxint8_scalar(const float* x, int64_t k, int64_t kp, int8_t* q, float* s) {
  for (int64_t b = 0; b * 32 < kp; ++b) {
    const int64_t k0 = b * 32;
    const int64_t n = std::clamp<int64_t>(k - k0, 0, 32);
    float max_abs = 0;
    bool finite = true;
    for (int64_t i = 0; i < n; ++i) {
      finite = finite && std::isfinite(x[k0 + i]);
      max_abs = std::max(max_abs, std::fabs(x[k0 + i]));
    }
    const int e = max_abs >= std::ldexp(1.f, -126) ? formats::floor_log2(max_abs) : -127;
    s[b] = finite ? std::ldexp(1.f, e - 6) : kNaN;
    for (int64_t i = 0; i < 32; ++i) {
      double v = i < n && finite ? std::ldexp(double(x[k0 + i]), 6 - e) : 0.0;
      q[k0 + i] = int8_t(std::clamp(std::nearbyint(v), -127.0, 127.0));
    }
  }
}

void convert_x_bf16_scalar(const float* x, int64_t k, int64_t kp, uint16_t* h) {
  for (int64_t i = 0; i < kp; ++i)
    h[i] = i < k ? formats::float_to_bf16(x[i], formats::Rounding::kEven) : 0;
}

// The scalar twin. Decodes each block with the reference decoder (formats::decode_block) and
// accumulates in fp32; kMxInt8Native and kMxFp4Native sum int8 products exactly per block.
void rows_scalar(const QJob& j, int64_t r0, int64_t r1) {
  const WeightFormat& f = j.w->format();
  float tmp[formats::kBfpMaxBlock];
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = j.row(r);
    const float row_scale = j.row_scales ? j.row_scales[r] : 0.f;
    for (int64_t i = 0; i < j.m; ++i) {
      float acc = 0;
      for (int64_t b = 0; b < j.blocks; ++b) {
        const uint8_t* blk = row + b * j.block_bytes;
        const int64_t k0 = b * j.block;
        if (j.path == Path::kMxInt8Native) {
          const int8_t* xq = j.xq + i * j.ldx + k0;
          int32_t sum = 0;
          for (int e = 0; e < 32; ++e) sum += int32_t(int8_t(blk[1 + e])) * xq[e];
          acc += float(sum) * (j.scale_table[blk[0]] * j.xs[i * j.blocks + b]);
          continue;
        }
        if (j.path == Path::kMxFp4Native) {
          const int8_t* xq = j.xq + i * j.ldx + k0;
          int32_t sum = 0;
          for (int e = 0; e < 32; ++e) {
            const uint8_t byte = blk[1 + e % 16];
            sum += int32_t(kE2M1Times2[e < 16 ? byte & 0x0F : byte >> 4]) * xq[e];
          }
          acc += float(sum) * (j.scale_table[blk[0]] * j.xs[i * j.blocks + b]);
          continue;
        }
        formats::decode_block(f, blk, row_scale, tmp);
        if (j.path == Path::kBf16Native) {
          const uint16_t* xh = j.xh + i * j.ldx + k0;
          for (int e = 0; e < j.block; ++e) acc += tmp[e] * formats::bf16_to_float(xh[e]);
        } else {
          const float* xf = j.x + i * j.ldx + k0;
          for (int e = 0; e < j.block; ++e) acc += tmp[e] * xf[e];
        }
      }
      finish(j, i, r, acc);
    }
  }
}

}  // namespace quant

bool qgemm_has_native_path(const WeightFormat& format) {
  return format.id == FormatId::kMxInt8 || format.id == FormatId::kMxFp4E2M1 ||
         format.id == FormatId::kBf16;
}

size_t qgemm_scratch_bytes(int64_t m, const PackedMatrix& w, const QGemmOptions& opt) {
  return quant::scratch_layout(m, w, quant::path_for(w.format(), opt)).total;
}

void qgemm(int64_t m, const float* x, int64_t ldx, const PackedMatrix& w, float* y, int64_t ldy,
           const GemmEpilogue& ep, ThreadPool* pool, const QGemmOptions& opt, void* scratch) {
  using namespace quant;
  if (m <= 0 || w.rows() <= 0) return;
  QJob j = make_job(m, w, y, ldy, ep);
  if (w.cols() <= 0) {
    epilogue_only(j);
    return;
  }
  const Path path = path_for(w.format(), opt);
  uint8_t* buf =
      scratch ? static_cast<uint8_t*>(scratch) : thread_scratch(scratch_layout(m, w, path).total);
  prepare_activations(j, x, ldx, path, buf, false);

  RowsFn fn = nullptr;
  const Isa isa = active_isa();
  if (isa == Isa::kAvx512) {
    fn = path == Path::kFp32 ? select_rows_avx512(j, path) : select_rows_avx512_native(j, path);
  }
  if (!fn && isa >= Isa::kAvx2) fn = select_rows_avx2(j, path);
  if (!fn) fn = &rows_scalar;

  // Whole groups of 4 rows per chunk (the SIMD kernels' tile); a chunk below ~64K multiply-adds
  // is not worth a hand-off to another thread.
  const int64_t groups = (j.n + 3) / 4;
  const int threads = pool ? pool->threads() : 1;
  const int64_t group_macs = 4 * j.kp * m;
  if (threads <= 1 || groups < 2 || group_macs * groups < 128 * 1024) {
    fn(j, 0, j.n);
    return;
  }
  const int64_t grain = std::max<int64_t>(1, (64 * 1024) / std::max<int64_t>(1, group_macs));
  pool->parallel_for(groups, grain,
                     [&](int64_t g0, int64_t g1) { fn(j, g0 * 4, std::min(j.n, g1 * 4)); });
}

void qgemm_reference(int64_t m, const float* x, int64_t ldx, const PackedMatrix& w, float* y,
                     int64_t ldy, const GemmEpilogue& ep, const QGemmOptions& opt) {
  using namespace quant;
  if (m <= 0 || w.rows() <= 0) return;
  QJob j = make_job(m, w, y, ldy, ep);
  if (w.cols() <= 0) {
    epilogue_only(j);
    return;
  }
  const Path path = path_for(w.format(), opt);
  std::vector<uint8_t> buf(scratch_layout(m, w, path).total + 64);
  uint8_t* base =
      reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(buf.data()) + 63) & ~uintptr_t{63});
  prepare_activations(j, x, ldx, path, base, true);
  rows_scalar(j, 0, j.n);
}

}  // namespace softdpu::kernels
