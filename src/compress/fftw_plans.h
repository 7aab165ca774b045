// Batched real FFT plans (FFTW3, single precision) made once at plan time. FFTW's planner is not
// thread-safe, so plan creation and destruction take one process-wide mutex; executing a plan on
// other arrays (fftwf_execute_dft_r2c / _c2r, the "new-array execute") is thread-safe and
// allocation-free, which is how kernels run them on their caller-provided scratch.
#pragma once

#include <fftw3.h>

#include <mutex>

namespace softdpu::compress {

// The mutex every fftwf_plan_* / fftwf_destroy_plan call in softdpu holds.
std::mutex& fftw_planner_mutex();

// `howmany` transforms of length n, real vectors at stride n, complex vectors (n/2+1 bins) at
// stride n/2+1. Arrays handed to forward()/inverse() must be 64-byte aligned unless the plan is
// unaligned (the planner's arrays are, so the new-array execute rules hold). inverse() is
// unnormalised (scales by n) and overwrites its input.
class BatchedRealFft {
 public:
  // measure: let FFTW time candidate algorithms (slower planning, faster runs); else estimate.
  // unaligned: the arrays may sit at any float offset (FFTW_UNALIGNED; e.g. one block inside a
  // batch whose blocks are not 64-byte multiples apart).
  BatchedRealFft(int n, int howmany, bool measure, bool unaligned = false);
  ~BatchedRealFft();
  BatchedRealFft(const BatchedRealFft&) = delete;
  BatchedRealFft& operator=(const BatchedRealFft&) = delete;

  void forward(float* in, fftwf_complex* out) const { fftwf_execute_dft_r2c(fwd_, in, out); }
  void inverse(fftwf_complex* in, float* out) const { fftwf_execute_dft_c2r(inv_, in, out); }

 private:
  fftwf_plan fwd_ = nullptr;
  fftwf_plan inv_ = nullptr;
};

}  // namespace softdpu::compress
