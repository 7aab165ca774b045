// Vectorised float32 maps for other kernel families (fused activations, softmax, RNN gates).
//
// Each applies one function to n contiguous floats. y may equal x (in place) but must not
// otherwise overlap it. The AVX-512 / AVX2 / scalar path is chosen per call from active_isa();
// all three compute the same approximations (see approx.h for their accuracy), the scalar one
// without FMA. Calls never allocate and are safe from any thread.
#pragma once

#include <cstdint>

namespace softdpu::kernels {

void vec_exp(const float* x, float* y, int64_t n);
void vec_sigmoid(const float* x, float* y, int64_t n);
void vec_tanh(const float* x, float* y, int64_t n);
void vec_erf(const float* x, float* y, int64_t n);
// Gelu: 0.5 x (1 + erf(x / sqrt 2)), or with tanh_approximation its tanh form.
void vec_gelu(const float* x, float* y, int64_t n, bool tanh_approximation);
void vec_relu(const float* x, float* y, int64_t n);
void vec_leaky_relu(const float* x, float* y, int64_t n, float alpha);
// min(max(x, lo), hi); NaN stays NaN.
void vec_clip(const float* x, float* y, int64_t n, float lo, float hi);

// The scalar twins, one element at a time (what the scalar path computes).
float exp_scalar(float x);
float sigmoid_scalar(float x);
float tanh_scalar(float x);
float erf_scalar(float x);

}  // namespace softdpu::kernels
