// The AVX-512 VNNI kernel of the panel products (layout and rationale in qgemv_panels.h). Per
// block of 32 k and panel of 16 rows: 8 vpdpbusd (64 multiply-adds each, the activation's 4 bytes
// broadcast, the weights' 4 bytes of each of 16 rows in the lanes) into two int32 chains, then one
// convert, a scale vector from the 16 rows' exponents (vpmovzxbd + vscalefps with the activation
// block's scale) and one FMA. No horizontal sums: lane r of the fp32 accumulator is output row r.
// RP panels run side by side so each activation broadcast feeds RP products.
// GCC 12 warns about _mm512_undefined_*() inside its own intrinsics headers (a known false
// positive of -W(maybe-)uninitialized); silenced for this file only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <limits>

#include "core/cpu.h"
#include "kernels/quant/qgemm_internal.h"
#include "kernels/quant/qgemv_panels_internal.h"

namespace softdpu::kernels::quant {
namespace {

constexpr int kRows = PanelMatrix::kRows;

// The activation codes k .. k + 3 of a block as one int32 (broadcast operand of vpdpbusd).
SDPU_TARGET_AVX512_VNNI_VBMI inline __attribute__((always_inline)) __m512i bcast4(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// RP panels x RX activation rows (from row i): each weight vector loaded (and, for MXFP4,
// decoded) once feeds RX rows, each activation broadcast RP panels.
template <bool kFp4, int RP, int RX>
SDPU_TARGET_AVX512_VNNI_VBMI void panel_group(const PanelJob& j, int64_t p, int64_t i) {
  const PanelMatrix& w = *j.w;
  // 2 * e2m1 + 128 for the 16 codes, repeated 4 times: vpermb reads index bits 0..5, and bits
  // 4..5 hold the neighbouring nibble's bits, which then do not matter.
  __m512i lut = _mm512_setzero_si512();
  if constexpr (kFp4)
    lut = _mm512_broadcast_i32x4(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(kE2M1Times2Plus128)));
  const __m512 exp_bias = _mm512_set1_ps(float(127 - j.scale_shift));
  const __m512i nan_hdr = _mm512_set1_epi32(0xFF);
  const __m512 nan = _mm512_set1_ps(std::numeric_limits<float>::quiet_NaN());
  const int64_t blocks = w.blocks();
  __m512 acc[RP][RX];
  for (int q = 0; q < RP; ++q)
    for (int x = 0; x < RX; ++x) acc[q][x] = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const int8_t* xb[RX];
    for (int x = 0; x < RX; ++x) xb[x] = j.xq + (i + x) * j.kp + b * PanelMatrix::kBlock;
    // Two int32 chains per output vector halve the vpdpbusd latency chain of a block.
    __m512i s0[RP][RX], s1[RP][RX];
    for (int q = 0; q < RP; ++q) {
      for (int x = 0; x < RX; ++x) {
        s0[q][x] = _mm512_set1_epi32(j.xcorr[(i + x) * blocks + b]);
        s1[q][x] = _mm512_setzero_si512();
      }
    }
    for (int v = 0; v < 4; ++v) {  // 64 bytes of MXFP4 codes or 128 of MXINT8 per step
      __m512i x0[RX], x1[RX];
      for (int x = 0; x < RX; ++x) {
        x0[x] = bcast4(xb[x] + 8 * v);
        x1[x] = bcast4(xb[x] + 8 * v + 4);
      }
      for (int q = 0; q < RP; ++q) {
        __m512i w0, w1;
        if constexpr (kFp4) {
          const __m512i raw = _mm512_load_si512(w.codes(p + q, b) + 64 * v);
          w0 = _mm512_permutexvar_epi8(raw, lut);
          w1 = _mm512_permutexvar_epi8(_mm512_srli_epi16(raw, 4), lut);
        } else {
          w0 = _mm512_load_si512(w.codes(p + q, b) + 128 * v);
          w1 = _mm512_load_si512(w.codes(p + q, b) + 128 * v + 64);
        }
        for (int x = 0; x < RX; ++x) {
          s0[q][x] = _mm512_dpbusd_epi32(s0[q][x], w0, x0[x]);
          s1[q][x] = _mm512_dpbusd_epi32(s1[q][x], w1, x1[x]);
        }
      }
    }
    for (int q = 0; q < RP; ++q) {
      const __m512i hdr = _mm512_cvtepu8_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.headers(p + q, b))));
      // 2^(header - 127 + shift), times each row's xs below: exact as the scale table's product
      // (powers of two); header 0xFF is the NaN scale.
      const __m512 e = _mm512_sub_ps(_mm512_cvtepi32_ps(hdr), exp_bias);
      const __mmask16 is_nan = _mm512_cmpeq_epi32_mask(hdr, nan_hdr);
      for (int x = 0; x < RX; ++x) {
        __m512 sc = _mm512_scalef_ps(_mm512_set1_ps(j.xs[(i + x) * blocks + b]), e);
        sc = _mm512_mask_mov_ps(sc, is_nan, nan);
        acc[q][x] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0[q][x], s1[q][x])), sc,
                                    acc[q][x]);
      }
    }
  }
  const bool plain = !j.ep->accumulate && !j.ep->bias && !j.ep->row_bias &&
                     j.ep->activation.kind == ActKind::kNone;
  for (int q = 0; q < RP; ++q) {
    const int64_t r0 = (p + q) * kRows;
    const int64_t live = w.rows() - r0 < kRows ? w.rows() - r0 : kRows;
    for (int x = 0; x < RX; ++x) {
      if (plain) {
        _mm512_mask_storeu_ps(j.y + (i + x) * j.ldy + r0, __mmask16((1u << live) - 1), acc[q][x]);
        continue;
      }
      alignas(64) float v[kRows];
      _mm512_store_ps(v, acc[q][x]);
      for (int64_t r = 0; r < live; ++r) panel_finish(j, i + x, r0 + r, v[r]);
    }
  }
}

// Panels [p0, p1) for every activation row. One row (the per-step products): two panels at a
// time. Several rows (the input projection over all steps): one panel, four rows at a time.
template <bool kFp4>
SDPU_TARGET_AVX512_VNNI_VBMI void panels(const PanelJob& j, int64_t p0, int64_t p1) {
  int64_t p = p0;
  if (j.m == 1) {
    for (; p + 2 <= p1; p += 2) panel_group<kFp4, 2, 1>(j, p, 0);
  }
  for (; p < p1; ++p) {
    int64_t i = 0;
    for (; i + 4 <= j.m; i += 4) panel_group<kFp4, 1, 4>(j, p, i);
    for (; i < j.m; ++i) panel_group<kFp4, 1, 1>(j, p, i);
  }
}

}  // namespace

PanelsFn select_panels_avx512(formats::FormatId id) {
  if (!cpu_has_avx512_vnni()) return nullptr;
  if (id == formats::FormatId::kMxInt8) return &panels<false>;
  if (id == formats::FormatId::kMxFp4E2M1 && cpu_has_avx512_vbmi()) return &panels<true>;
  return nullptr;
}

}  // namespace softdpu::kernels::quant
