#include "compress/fftw_plans.h"

#include <cstdlib>
#include <new>

namespace softdpu::compress {

std::mutex& fftw_planner_mutex() {
  static std::mutex mu;
  return mu;
}

BatchedRealFft::BatchedRealFft(int n, int howmany, bool measure, bool unaligned) {
  const int bins = n / 2 + 1;
  // 64-byte aligned like the kernels' scratch, so FFTW's alignment assumptions carry over.
  const size_t real_bytes = (sizeof(float) * n * howmany + 63) / 64 * 64;
  const size_t cplx_bytes = (sizeof(fftwf_complex) * bins * howmany + 63) / 64 * 64;
  float* r = static_cast<float*>(std::aligned_alloc(64, real_bytes));
  auto* c = static_cast<fftwf_complex*>(std::aligned_alloc(64, cplx_bytes));
  if (!r || !c) {
    std::free(r);
    std::free(c);
    throw std::bad_alloc();
  }
  const unsigned flags =
      (measure ? FFTW_MEASURE : FFTW_ESTIMATE) | (unaligned ? FFTW_UNALIGNED : 0);
  {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    fwd_ = fftwf_plan_many_dft_r2c(1, &n, howmany, r, nullptr, 1, n, c, nullptr, 1, bins, flags);
    inv_ = fftwf_plan_many_dft_c2r(1, &n, howmany, c, nullptr, 1, bins, r, nullptr, 1, n,
                                   flags | FFTW_DESTROY_INPUT);
  }
  std::free(r);
  std::free(c);
  if (!fwd_ || !inv_) {  // FFTW returns null only when it cannot plan (out of memory)
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    if (fwd_) fftwf_destroy_plan(fwd_);
    if (inv_) fftwf_destroy_plan(inv_);
    throw std::bad_alloc();
  }
}

BatchedRealFft::~BatchedRealFft() {
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  if (fwd_) fftwf_destroy_plan(fwd_);
  if (inv_) fftwf_destroy_plan(inv_);
  fwd_ = inv_ = nullptr;
}

}  // namespace softdpu::compress
