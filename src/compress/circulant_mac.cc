#include "compress/circulant_mac.h"

#include <immintrin.h>

#include "core/cpu.h"

namespace softdpu::compress {
namespace {

// Slot 0 of chunk 0 holds (DC, Nyquist), two real bins: the complex loops compute garbage there,
// so they are summed apart and written last.
void write_dc_nyquist(const float* w, const float* x, int64_t q, int cw, int b, fftwf_complex* y) {
  float dc = 0, ny = 0;
  for (int64_t j = 0; j < q; ++j) {
    dc += w[j * 2 * cw] * x[j * 2 * cw];
    ny += w[j * 2 * cw + cw] * x[j * 2 * cw + cw];
  }
  y[0][0] = dc;
  y[0][1] = 0;
  y[b / 2][0] = ny;
  y[b / 2][1] = 0;
}

__attribute__((target("avx2,fma"))) void mac_avx2(const float* w, const float* x, int64_t q, int b,
                                                  fftwf_complex* y) {
  const int cw = circulant_chunk(b);  // 8 or 16 here
  const int nc = b / 2 / cw;
  for (int c = 0; c < nc; ++c) {
    const float* wc = w + static_cast<int64_t>(c) * q * 2 * cw;
    const float* xc = x + static_cast<int64_t>(c) * q * 2 * cw;
    for (int h = 0; h < cw; h += 8) {
      __m256 re0 = _mm256_setzero_ps(), im0 = _mm256_setzero_ps();
      __m256 re1 = _mm256_setzero_ps(), im1 = _mm256_setzero_ps();
      int64_t j = 0;
      for (; j + 2 <= q; j += 2) {
        const float* a = wc + j * 2 * cw + h;
        const float* v = xc + j * 2 * cw + h;
        __m256 wr = _mm256_loadu_ps(a), wi = _mm256_loadu_ps(a + cw);
        __m256 xr = _mm256_loadu_ps(v), xi = _mm256_loadu_ps(v + cw);
        re0 = _mm256_fmadd_ps(wr, xr, re0);
        re0 = _mm256_fnmadd_ps(wi, xi, re0);
        im0 = _mm256_fmadd_ps(wr, xi, im0);
        im0 = _mm256_fmadd_ps(wi, xr, im0);
        a += 2 * cw;
        v += 2 * cw;
        wr = _mm256_loadu_ps(a), wi = _mm256_loadu_ps(a + cw);
        xr = _mm256_loadu_ps(v), xi = _mm256_loadu_ps(v + cw);
        re1 = _mm256_fmadd_ps(wr, xr, re1);
        re1 = _mm256_fnmadd_ps(wi, xi, re1);
        im1 = _mm256_fmadd_ps(wr, xi, im1);
        im1 = _mm256_fmadd_ps(wi, xr, im1);
      }
      for (; j < q; ++j) {
        const float* a = wc + j * 2 * cw + h;
        const float* v = xc + j * 2 * cw + h;
        const __m256 wr = _mm256_loadu_ps(a), wi = _mm256_loadu_ps(a + cw);
        const __m256 xr = _mm256_loadu_ps(v), xi = _mm256_loadu_ps(v + cw);
        re0 = _mm256_fmadd_ps(wr, xr, re0);
        re0 = _mm256_fnmadd_ps(wi, xi, re0);
        im0 = _mm256_fmadd_ps(wr, xi, im0);
        im0 = _mm256_fmadd_ps(wi, xr, im0);
      }
      alignas(32) float re[8], im[8];
      _mm256_store_ps(re, _mm256_add_ps(re0, re1));
      _mm256_store_ps(im, _mm256_add_ps(im0, im1));
      for (int l = 0; l < 8; ++l) {
        y[c * cw + h + l][0] = re[l];
        y[c * cw + h + l][1] = im[l];
      }
    }
  }
  write_dc_nyquist(w, x, q, cw, b, y);
}

__attribute__((target("avx512f"))) void mac_avx512(const float* w, const float* x, int64_t q, int b,
                                                   fftwf_complex* y) {
  constexpr int cw = 16;
  const int nc = b / 2 / cw;
  for (int c = 0; c < nc; ++c) {
    const float* wc = w + static_cast<int64_t>(c) * q * 2 * cw;
    const float* xc = x + static_cast<int64_t>(c) * q * 2 * cw;
    __m512 re0 = _mm512_setzero_ps(), im0 = _mm512_setzero_ps();
    __m512 re1 = _mm512_setzero_ps(), im1 = _mm512_setzero_ps();
    int64_t j = 0;
    for (; j + 2 <= q; j += 2) {
      const float* a = wc + j * 2 * cw;
      const float* v = xc + j * 2 * cw;
      __m512 wr = _mm512_loadu_ps(a), wi = _mm512_loadu_ps(a + cw);
      __m512 xr = _mm512_loadu_ps(v), xi = _mm512_loadu_ps(v + cw);
      re0 = _mm512_fmadd_ps(wr, xr, re0);
      re0 = _mm512_fnmadd_ps(wi, xi, re0);
      im0 = _mm512_fmadd_ps(wr, xi, im0);
      im0 = _mm512_fmadd_ps(wi, xr, im0);
      wr = _mm512_loadu_ps(a + 2 * cw), wi = _mm512_loadu_ps(a + 3 * cw);
      xr = _mm512_loadu_ps(v + 2 * cw), xi = _mm512_loadu_ps(v + 3 * cw);
      re1 = _mm512_fmadd_ps(wr, xr, re1);
      re1 = _mm512_fnmadd_ps(wi, xi, re1);
      im1 = _mm512_fmadd_ps(wr, xi, im1);
      im1 = _mm512_fmadd_ps(wi, xr, im1);
    }
    if (j < q) {
      const float* a = wc + j * 2 * cw;
      const float* v = xc + j * 2 * cw;
      const __m512 wr = _mm512_loadu_ps(a), wi = _mm512_loadu_ps(a + cw);
      const __m512 xr = _mm512_loadu_ps(v), xi = _mm512_loadu_ps(v + cw);
      re0 = _mm512_fmadd_ps(wr, xr, re0);
      re0 = _mm512_fnmadd_ps(wi, xi, re0);
      im0 = _mm512_fmadd_ps(wr, xi, im0);
      im0 = _mm512_fmadd_ps(wi, xr, im0);
    }
    // Interleave (re, im) into FFTW's complex layout: element 2l of the output is re[l], 2l+1
    // is im[l] (indices >= 16 select from the second operand).
    const __m512 re = _mm512_add_ps(re0, re1), im = _mm512_add_ps(im0, im1);
    const __m512i idx0 = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i idx1 =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    float* out = &y[c * cw][0];
    _mm512_storeu_ps(out, _mm512_permutex2var_ps(re, idx0, im));
    _mm512_storeu_ps(out + 16, _mm512_permutex2var_ps(re, idx1, im));
  }
  write_dc_nyquist(w, x, q, cw, b, y);
}

}  // namespace

void circulant_mac_scalar(const float* w, const float* x, int64_t q, int b, fftwf_complex* y) {
  const int cw = circulant_chunk(b);
  const int nc = b / 2 / cw;
  for (int c = 0; c < nc; ++c) {
    for (int l = 0; l < cw; ++l) {
      float re = 0, im = 0;
      for (int64_t j = 0; j < q; ++j) {
        const float* a = w + (static_cast<int64_t>(c) * q + j) * 2 * cw;
        const float* v = x + (static_cast<int64_t>(c) * q + j) * 2 * cw;
        re += a[l] * v[l] - a[cw + l] * v[cw + l];
        im += a[l] * v[cw + l] + a[cw + l] * v[l];
      }
      y[c * cw + l][0] = re;
      y[c * cw + l][1] = im;
    }
  }
  write_dc_nyquist(w, x, q, cw, b, y);
}

void circulant_mac(const float* w, const float* x, int64_t q, int b, fftwf_complex* y) {
  const Isa isa = active_isa();
  const int cw = circulant_chunk(b);
  if (isa == Isa::kAvx512 && cw == 16) return mac_avx512(w, x, q, b, y);
  if (isa >= Isa::kAvx2 && cw % 8 == 0) return mac_avx2(w, x, q, b, y);
  circulant_mac_scalar(w, x, q, b, y);
}

}  // namespace softdpu::compress
