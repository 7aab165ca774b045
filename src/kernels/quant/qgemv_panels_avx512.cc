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

template <bool kFp4, int RP>
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
  const int8_t* xq = j.xq + i * j.kp;
  const float* xs = j.xs + i * w.blocks();
  const int32_t* xcorr = j.xcorr + i * w.blocks();
  __m512 acc[RP];
  for (int q = 0; q < RP; ++q) acc[q] = _mm512_setzero_ps();
  for (int64_t b = 0; b < w.blocks(); ++b) {
    const int8_t* xb = xq + b * PanelMatrix::kBlock;
    __m512i s0[RP], s1[RP];
    for (int q = 0; q < RP; ++q) {
      s0[q] = _mm512_set1_epi32(xcorr[b]);
      s1[q] = _mm512_setzero_si512();
    }
    if constexpr (kFp4) {
      for (int v = 0; v < 4; ++v) {
        const __m512i xlo = bcast4(xb + 8 * v), xhi = bcast4(xb + 8 * v + 4);
        for (int q = 0; q < RP; ++q) {
          const __m512i raw = _mm512_load_si512(w.codes(p + q, b) + 64 * v);
          s0[q] = _mm512_dpbusd_epi32(s0[q], _mm512_permutexvar_epi8(raw, lut), xlo);
          s1[q] = _mm512_dpbusd_epi32(s1[q],
                                      _mm512_permutexvar_epi8(_mm512_srli_epi16(raw, 4), lut), xhi);
        }
      }
    } else {
      for (int g = 0; g < 8; g += 2) {
        const __m512i x0 = bcast4(xb + 4 * g), x1 = bcast4(xb + 4 * g + 4);
        for (int q = 0; q < RP; ++q) {
          const uint8_t* c = w.codes(p + q, b) + 64 * g;
          s0[q] = _mm512_dpbusd_epi32(s0[q], _mm512_load_si512(c), x0);
          s1[q] = _mm512_dpbusd_epi32(s1[q], _mm512_load_si512(c + 64), x1);
        }
      }
    }
    const __m512 xsv = _mm512_set1_ps(xs[b]);
    for (int q = 0; q < RP; ++q) {
      const __m512i hdr = _mm512_cvtepu8_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.headers(p + q, b))));
      // xs * 2^(header - 127 + shift), exact as the scale table's product; header 0xFF is the
      // NaN scale.
      __m512 sc = _mm512_scalef_ps(xsv, _mm512_sub_ps(_mm512_cvtepi32_ps(hdr), exp_bias));
      sc = _mm512_mask_mov_ps(sc, _mm512_cmpeq_epi32_mask(hdr, nan_hdr), nan);
      acc[q] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0[q], s1[q])), sc, acc[q]);
    }
  }
  const bool plain = !j.ep->accumulate && !j.ep->bias && !j.ep->row_bias &&
                     j.ep->activation.kind == ActKind::kNone;
  for (int q = 0; q < RP; ++q) {
    const int64_t r0 = (p + q) * kRows;
    const int64_t live = w.rows() - r0 < kRows ? w.rows() - r0 : kRows;
    if (plain) {
      _mm512_mask_storeu_ps(j.y + i * j.ldy + r0, __mmask16((1u << live) - 1), acc[q]);
      continue;
    }
    alignas(64) float v[kRows];
    _mm512_store_ps(v, acc[q]);
    for (int64_t r = 0; r < live; ++r) panel_finish(j, i, r0 + r, v[r]);
  }
}

// Panels [p0, p1) for every activation row: two at a time, then the odd one.
template <bool kFp4>
SDPU_TARGET_AVX512_VNNI_VBMI void panels(const PanelJob& j, int64_t p0, int64_t p1) {
  int64_t p = p0;
  for (; p + 2 <= p1; p += 2)
    for (int64_t i = 0; i < j.m; ++i) panel_group<kFp4, 2>(j, p, i);
  for (; p < p1; ++p)
    for (int64_t i = 0; i < j.m; ++i) panel_group<kFp4, 1>(j, p, i);
}

}  // namespace

PanelsFn select_panels_avx512(formats::FormatId id) {
  if (!cpu_has_avx512_vnni()) return nullptr;
  if (id == formats::FormatId::kMxInt8) return &panels<false>;
  if (id == formats::FormatId::kMxFp4E2M1 && cpu_has_avx512_vbmi()) return &panels<true>;
  return nullptr;
}

}  // namespace softdpu::kernels::quant
