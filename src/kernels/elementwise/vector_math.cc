#include "kernels/elementwise/vector_math.h"

#include "kernels/elementwise/functors.h"
#include "kernels/elementwise/loops.h"

namespace softdpu::kernels {
namespace {

template <class Op>
void map(const float* x, float* y, int64_t n, const Op& op) {
  ew::UnaryLoops<float, float, Op>::pick()(x, y, n, op);
}

}  // namespace

void vec_exp(const float* x, float* y, int64_t n) {
  map(x, y, n, ew::ExpOp{});
}
void vec_sigmoid(const float* x, float* y, int64_t n) {
  map(x, y, n, ew::SigmoidOp{});
}
void vec_tanh(const float* x, float* y, int64_t n) {
  map(x, y, n, ew::TanhOp{});
}
void vec_erf(const float* x, float* y, int64_t n) {
  map(x, y, n, ew::ErfOp{});
}
void vec_gelu(const float* x, float* y, int64_t n, bool tanh_approximation) {
  if (tanh_approximation) {
    map(x, y, n, ew::GeluOp<true>{});
  } else {
    map(x, y, n, ew::GeluOp<false>{});
  }
}
void vec_relu(const float* x, float* y, int64_t n) {
  map(x, y, n, ew::ReluOp{});
}
void vec_leaky_relu(const float* x, float* y, int64_t n, float alpha) {
  map(x, y, n, ew::LeakyReluOp{alpha});
}
void vec_clip(const float* x, float* y, int64_t n, float lo, float hi) {
  map(x, y, n, ew::ClipOp<float>{lo, hi});
}

float exp_scalar(float x) {
  return ew::exp_approx<false>(x);
}
float sigmoid_scalar(float x) {
  return ew::sigmoid_approx<false>(x);
}
float tanh_scalar(float x) {
  return ew::tanh_approx<false>(x);
}
float erf_scalar(float x) {
  return ew::erf_approx<false>(x);
}

}  // namespace softdpu::kernels
