// A block-circulant weight ready for the FFT product (CirCNN):
//   y_i = IFFT( sum_j FFT(c_ij) ∘ FFT(x_j) )   for each block row i
// The spectra FFT(c_ij)/b are computed once here (FFTW, plan time); each apply() runs q batched
// forward real FFTs of the input blocks, the frequency-domain multiply-accumulate
// (circulant_mac.h) and p inverse real FFTs, then the epilogue. Storage: p·q·b floats, b-fold
// less than the dense matrix.
#pragma once

#include <memory>
#include <vector>

#include "compress/circulant.h"
#include "compress/compressed_matrix.h"
#include "compress/fftw_plans.h"

namespace softdpu::compress {

class CirculantMatrix final : public CompressedMatrix {
 public:
  explicit CirculantMatrix(const CirculantVectors& v);

  int64_t rows() const override { return n_; }
  int64_t cols() const override { return k_; }
  size_t scratch_bytes(int64_t m) const override;
  void apply(int64_t m, const float* x, int64_t ldx, float* y, int64_t ldy,
             const kernels::GemmEpilogue& ep, ThreadPool* pool, void* scratch) const override;
  size_t bytes() const override { return spectra_.size() * sizeof(float); }
  std::string format() const override { return "circulant-b" + std::to_string(b_); }
  int block() const { return b_; }

 private:
  struct Layout;  // scratch offsets for m rows
  Layout layout(int64_t m) const;

  int64_t n_, k_, p_, q_;
  int b_;
  // [p][nc][q][2*cw] split spectra (circulant_mac.h), scaled by 1/b so the unnormalised
  // inverse FFT gives the product.
  std::vector<float, kernels::AlignedAllocator<float>> spectra_;
  std::unique_ptr<BatchedRealFft> fft_in_;   // q transforms: the input blocks
  std::unique_ptr<BatchedRealFft> fft_out_;  // p transforms: every output block at once
  std::unique_ptr<BatchedRealFft> fft_one_;  // 1 transform: one output block (threaded path)
};

}  // namespace softdpu::compress
