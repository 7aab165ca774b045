#include "compress/circulant_matrix.h"

#include <algorithm>
#include <cstring>

#include "compress/circulant_mac.h"
#include "compress/epilogue.h"

namespace softdpu::compress {
namespace {

size_t round16(size_t floats) {
  return (floats + 15) / 16 * 16;
}

// FFTW's r2c output (b/2+1 interleaved bins) to the split chunk layout of circulant_mac.h, at
// chunk stride `q` blocks: slot 0 packs the real DC and Nyquist bins.
void to_split(const fftwf_complex* s, int b, int64_t q, float* dst) {
  const int cw = circulant_chunk(b);
  for (int f = 0; f < b / 2; ++f) {
    float* d = dst + ((f / cw) * q) * 2 * cw;
    d[f % cw] = s[f][0];
    d[cw + f % cw] = f == 0 ? s[b / 2][0] : s[f][1];
  }
}

}  // namespace

struct CirculantMatrix::Layout {
  size_t xpad, xfreq, xsplit, yfreq, yreal, total;  // byte offsets
};

CirculantMatrix::Layout CirculantMatrix::layout(int64_t m) const {
  const size_t bins = static_cast<size_t>(b_ / 2 + 1) * 2;  // floats per block spectrum
  Layout l;
  size_t at = 0;
  auto take = [&](size_t floats) {
    const size_t off = at;
    at += round16(floats) * sizeof(float);
    return off;
  };
  l.xpad = take(q_ * b_);
  l.xfreq = take(q_ * bins);
  l.xsplit = take(m * q_ * b_);
  l.yfreq = take(m * p_ * bins);
  l.yreal = take(m * p_ * b_);
  l.total = at;
  return l;
}

CirculantMatrix::CirculantMatrix(const CirculantVectors& v)
    : n_(v.n), k_(v.k), p_(v.p), q_(v.q), b_(v.block) {
  const int cw = circulant_chunk(b_);
  const int bins = b_ / 2 + 1;
  const int64_t blocks = p_ * q_;
  // Spectra of every first-column vector in one batched transform (estimate: it runs once).
  BatchedRealFft weights_fft(b_, static_cast<int>(blocks), /*measure=*/false);
  std::vector<float, kernels::AlignedAllocator<float>> in(v.c.begin(), v.c.end());
  std::vector<float, kernels::AlignedAllocator<float>> out(static_cast<size_t>(blocks * bins * 2));
  weights_fft.forward(in.data(), reinterpret_cast<fftwf_complex*>(out.data()));
  const float scale = 1.f / static_cast<float>(b_);
  for (float& f : out) f *= scale;
  spectra_.assign(static_cast<size_t>(blocks * b_), 0.f);
  const int nc = b_ / 2 / cw;
  for (int64_t i = 0; i < p_; ++i) {
    for (int64_t j = 0; j < q_; ++j) {
      const auto* s = reinterpret_cast<const fftwf_complex*>(out.data()) + (i * q_ + j) * bins;
      to_split(s, b_, q_, spectra_.data() + (i * nc * q_ + j) * 2 * cw);
    }
  }
  fft_in_ = std::make_unique<BatchedRealFft>(b_, static_cast<int>(q_), /*measure=*/true);
  // Unaligned: with batch rows (m > 1) row r's spectra start r * p * (b/2 + 1) complex values
  // in, which is not 16-byte aligned for odd p; FFTW_MEASURE may pick SIMD codelets that assume
  // the planner's alignment, and executing those on such a row crashed intermittently.
  fft_out_ = std::make_unique<BatchedRealFft>(b_, static_cast<int>(p_), /*measure=*/true,
                                              /*unaligned=*/true);
  fft_one_ = std::make_unique<BatchedRealFft>(b_, 1, /*measure=*/true, /*unaligned=*/true);
}

size_t CirculantMatrix::scratch_bytes(int64_t m) const {
  return layout(m).total;
}

void CirculantMatrix::apply(int64_t m, const float* x, int64_t ldx, float* y, int64_t ldy,
                            const kernels::GemmEpilogue& ep, ThreadPool* pool,
                            void* scratch) const {
  if (m <= 0) return;
  const Layout l = layout(m);
  uint8_t* base = static_cast<uint8_t*>(scratch);
  float* xpad = reinterpret_cast<float*>(base + l.xpad);
  auto* xfreq = reinterpret_cast<fftwf_complex*>(base + l.xfreq);
  float* xsplit = reinterpret_cast<float*>(base + l.xsplit);
  auto* yfreq = reinterpret_cast<fftwf_complex*>(base + l.yfreq);
  float* yreal = reinterpret_cast<float*>(base + l.yreal);
  const int bins = b_ / 2 + 1;
  const int cw = circulant_chunk(b_);
  const int nc = b_ / 2 / cw;

  // q forward transforms per row; K is padded with zeros up to q·b.
  for (int64_t r = 0; r < m; ++r) {
    std::memcpy(xpad, x + r * ldx, static_cast<size_t>(k_) * sizeof(float));
    std::fill(xpad + k_, xpad + q_ * b_, 0.f);
    fft_in_->forward(xpad, xfreq);
    for (int64_t j = 0; j < q_; ++j)
      to_split(xfreq + j * bins, b_, q_, xsplit + r * q_ * b_ + j * 2 * cw);
  }

  auto block_rows = [&](int64_t i0, int64_t i1) {
    for (int64_t r = 0; r < m; ++r) {
      fftwf_complex* yf = yfreq + r * p_ * bins;
      float* yr = yreal + r * p_ * b_;
      for (int64_t i = i0; i < i1; ++i)
        circulant_mac(spectra_.data() + i * nc * q_ * 2 * cw, xsplit + r * q_ * b_, q_, b_,
                      yf + i * bins);
      if (i0 == 0 && i1 == p_) {
        fft_out_->inverse(yf, yr);
      } else {
        for (int64_t i = i0; i < i1; ++i) fft_one_->inverse(yf + i * bins, yr + i * b_);
      }
      const int64_t c0 = i0 * b_, c1 = std::min(n_, i1 * b_);
      apply_epilogue(ep, r, c0, c1, yr + c0, y + r * ldy + c0);
    }
  };
  // A block row costs about q·b multiply-adds plus one FFT; split when each thread gets a few
  // hundred thousand of them (below that the wake-up costs more than it saves).
  const int64_t grain = std::max<int64_t>(1, (1 << 18) / std::max<int64_t>(1, q_ * b_ * m));
  if (pool && p_ >= 2 * grain)
    pool->parallel_for(p_, grain, [&](int64_t i0, int64_t i1) { block_rows(i0, i1); });
  else
    block_rows(0, p_);
}

}  // namespace softdpu::compress
