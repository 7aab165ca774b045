// Shared between the quantised-product dispatcher (qgemm.cc) and its per-ISA row kernels
// (qgemm_avx512*.cc, qgemm_avx2.cc). Not a public header.
#pragma once

#include <cstdint>

#include "formats/packed.h"
#include "kernels/activation.h"
#include "kernels/linalg/gemm.h"

// Per-function targets (the build baseline is plain x86-64; callers check the CPU first).
#define SDPU_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define SDPU_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")))
#define SDPU_TARGET_AVX512_VNNI \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma,f16c")))
#define SDPU_TARGET_AVX512_VNNI_VBMI                                              \
  __attribute__((                                                                 \
      target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx512vbmi,avx2,fma," \
             "f16c")))
#define SDPU_TARGET_AVX512_BF16 \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,avx2,fma,f16c")))

namespace softdpu::kernels::quant {

// kMxFp4Native: MXFP4 weights times MXINT8 activations with the same integer dot products as
// kMxInt8Native; each E2M1 code is decoded to the exact int8 2 * value (0, +-1, +-2, +-3, +-4,
// +-6, +-8, +-12) and the 1/2 goes into the scale table.
enum class Path : uint8_t { kFp32, kMxInt8Native, kMxFp4Native, kBf16Native };

// True for the paths whose activations are MXINT8 blocks (xq / xs).
inline bool int8_activations(Path p) {
  return p == Path::kMxInt8Native || p == Path::kMxFp4Native;
}

// E2M1 code -> 2 * value as int8 (the kMxFp4Native weight decoder's table), and the same plus
// 128 as uint8 (the VNNI kernel's unsigned operand, see qgemm_avx512_native.cc).
inline constexpr int8_t kE2M1Times2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
inline constexpr uint8_t kE2M1Times2Plus128[16] = {128, 129, 130, 131, 132, 134, 136, 140,
                                                   128, 127, 126, 125, 124, 122, 120, 116};

// Everything a row kernel needs, prepared once per call on the calling thread.
struct QJob {
  Path path = Path::kFp32;
  formats::FormatId id = formats::FormatId::kFp32;
  int mantissa_bits = 0;  // bfp
  int64_t m = 0, n = 0, k = 0;
  int64_t kp = 0;      // K padded to whole storage blocks
  int64_t blocks = 0;  // storage blocks per row
  int block = 0;       // elements per storage block
  int block_bytes = 0;
  int64_t row_bytes = 0;
  const formats::PackedMatrix* w = nullptr;
  const uint8_t* wdata = nullptr;
  // Block header byte -> fp32 multiplier of the SIMD-decoded elements (the block scale times the
  // decoder's own constant, see qgemm.cc); NaN at 0xFF.
  const float* scale_table = nullptr;
  int scale_shift = 0;                // scale_table == pow2_table(scale_shift)
  const float* row_scales = nullptr;  // int8: one per row
  const float* lut16 = nullptr;       // 4-bit code -> value (MXFP4 E2M1 or bfp nibble integers)

  // Prepared activations, m rows each.
  const float* x = nullptr;  // kFp32: rows of kp floats, zero padded
  int64_t ldx = 0;
  const int8_t* xq = nullptr;     // int8_activations(path): MXINT8 codes, rows of kp
  const float* xs = nullptr;      // int8_activations(path): block scales 2^(e - 6), rows of blocks
  const int32_t* xsum = nullptr;  // int8_activations(path): sum of each block's codes, as xs
  const uint16_t* xh = nullptr;   // kBf16Native: bf16 bits, rows of kp

  float* y = nullptr;
  int64_t ldy = 0;
  const GemmEpilogue* ep = nullptr;

  const uint8_t* row(int64_t r) const { return wdata + r * row_bytes; }
};

// Header byte -> 2^(byte - 127 + shift) (NaN at 0xFF), shift in [-20, 20]: the block scale
// tables, built once.
const float* pow2_table(int shift);

// Y[i, r] = epilogue(v).
inline void finish(const QJob& j, int64_t i, int64_t r, float v) {
  float* out = j.y + i * j.ldy + r;
  if (j.ep->accumulate) v += *out;
  if (j.ep->bias) v += j.ep->bias[r];
  if (j.ep->row_bias) v += j.ep->row_bias[i];
  *out = apply_activation(j.ep->activation, v);
}

// Software prefetch of a tile's weight rows, `ahead` bytes into each row (the current offset +
// kPrefetchBytes). A tile reads RW rows side by side, each about a 4 KiB page at K = 4096, and
// the hardware prefetchers stop at page boundaries, so without this every row starts with a
// DRAM round trip. Past a row's end it fetches the start of the same row of the next tile.
constexpr int64_t kPrefetchBytes = 1024;
template <int RW>
inline void prefetch_rows(const uint8_t* const* rows, int64_t ahead, int64_t row_bytes) {
  const int64_t skip = ahead < row_bytes ? ahead : (RW - 1) * row_bytes + ahead;
  for (int r = 0; r < RW; ++r) __builtin_prefetch(rows[r] + skip, 0, 3);
}

// Computes output columns [r0, r1) (weight rows) for all m activation rows.
using RowsFn = void (*)(const QJob&, int64_t r0, int64_t r1);

// The fast row kernels for job.id on `path`, or null when that ISA has none for it.
RowsFn select_rows_avx512(const QJob& job, Path path);
RowsFn select_rows_avx512_native(const QJob& job, Path path);  // VNNI / BF16 paths
RowsFn select_rows_avx2(const QJob& job, Path path);
void rows_scalar(const QJob& job, int64_t r0, int64_t r1);

// Activation quantisers for kMxInt8Native and kMxFp4Native: row x (k floats) -> kp int8 codes and
// kp / 32 scales (2^(e-127-6), NaN for a block with NaN/Inf). e = max(floor(log2(max|x|)), -127) is
// the MXINT8 shared exponent; codes are round-half-even(x * 2^(6-e)) clamped to [-127, 127]. All
// three implementations produce identical codes.
void quantize_x_mxint8_scalar(const float* x, int64_t k, int64_t kp, int8_t* q, float* s);
void quantize_x_mxint8_avx2(const float* x, int64_t k, int64_t kp, int8_t* q, float* s);
void quantize_x_mxint8_avx512(const float* x, int64_t k, int64_t kp, int8_t* q, float* s);

// fp32 -> bf16 (round half to even) of k values, zero padded to kp.
void convert_x_bf16_scalar(const float* x, int64_t k, int64_t kp, uint16_t* h);
void convert_x_bf16_avx512(const float* x, int64_t k, int64_t kp, uint16_t* h);

}  // namespace softdpu::kernels::quant
