// Activations that the fusion pass folds into Gemm, MatMul and Conv. The pass records them on the
// product node as internal attributes:
//   "_activation"        string: "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip" (absent: none)
//   "_activation_alpha"  float : LeakyRelu alpha, Clip min
//   "_activation_beta"   float : Clip max
// and the product kernel applies it in its epilogue, so the activation costs no extra pass.
#pragma once

#include <cmath>
#include <cstdint>

#include "runtime/kernel.h"

namespace softdpu::kernels {

enum class ActKind { kNone, kRelu, kLeakyRelu, kSigmoid, kTanh, kClip };

struct Activation {
  ActKind kind = ActKind::kNone;
  float alpha = 0;
  float beta = 0;
};

// Reads the fused activation attributes of a product node.
Activation fused_activation(const runtime::PrepareContext& ctx);

inline float apply_activation(const Activation& a, float x) {
  switch (a.kind) {
    case ActKind::kNone: return x;
    case ActKind::kRelu: return x > 0 ? x : 0;
    case ActKind::kLeakyRelu: return x >= 0 ? x : a.alpha * x;
    case ActKind::kSigmoid: return 1.0f / (1.0f + std::exp(-x));
    case ActKind::kTanh: return std::tanh(x);
    case ActKind::kClip: return x < a.alpha ? a.alpha : (x > a.beta ? a.beta : x);
  }
  return x;
}

// Applies the activation to n contiguous floats in place (vectorised where the ISA allows).
void apply_activation_inplace(const Activation& a, float* x, int64_t n);

}  // namespace softdpu::kernels
