// The frequency-domain multiply-accumulate of the block-circulant product: for one block row i,
//   Y[f] = sum_j W[i][j][f] * X[j][f]   (complex, f = 0 .. b/2)
// over spectra in a split layout: bins are cut into chunks of cw = min(16, b/2); chunk c of block
// (i, j) is 2*cw floats [re(cw) | im(cw)] at ((i * nc + c) * q + j) * 2*cw for the weights and
// (c * q + j) * 2*cw for the input. The DC and Nyquist bins are both real, so they share slot 0:
// re[0] holds DC, im[0] holds Nyquist (b/2 complex slots hold b/2+1 bins with no padding).
// The chunk-major layout makes the inner loop over j read both streams front to back, and is the
// same for every ISA (no repack when ScopedIsa switches paths).
#pragma once

#include <fftw3.h>

#include <cstdint>

namespace softdpu::compress {

// w: the block row's weights (nc * q * 2*cw floats); x: input spectra; y: b/2+1 interleaved
// complex bins (FFTW's c2r input). Dispatches on active_isa().
void circulant_mac(const float* w, const float* x, int64_t q, int b, fftwf_complex* y);
// The scalar reference twin.
void circulant_mac_scalar(const float* w, const float* x, int64_t q, int b, fftwf_complex* y);

inline int circulant_chunk(int b) {
  return b / 2 < 16 ? b / 2 : 16;
}

}  // namespace softdpu::compress
