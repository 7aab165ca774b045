#include "kernels/activation.h"

#include "kernels/elementwise/vector_math.h"

namespace softdpu::kernels {

Activation fused_activation(const runtime::PrepareContext& ctx) {
  Activation a;
  std::string kind = ctx.attr_string("_activation", "");
  if (kind.empty()) return a;
  a.alpha = ctx.attr_float("_activation_alpha", 0.f);
  a.beta = ctx.attr_float("_activation_beta", 0.f);
  if (kind == "Relu") {
    a.kind = ActKind::kRelu;
  } else if (kind == "LeakyRelu") {
    a.kind = ActKind::kLeakyRelu;
  } else if (kind == "Sigmoid") {
    a.kind = ActKind::kSigmoid;
  } else if (kind == "Tanh") {
    a.kind = ActKind::kTanh;
  } else if (kind == "Clip") {
    a.kind = ActKind::kClip;
  } else {
    ctx.fail("unknown fused activation '" + kind + "'");
  }
  return a;
}

// The vectorised maps of the elementwise family, so a fused activation computes exactly what
// the standalone op would (same approximations, same AVX-512 / AVX2 / scalar dispatch).
void apply_activation_inplace(const Activation& a, float* x, int64_t n) {
  switch (a.kind) {
    case ActKind::kNone: return;
    case ActKind::kRelu: vec_relu(x, x, n); return;
    case ActKind::kLeakyRelu: vec_leaky_relu(x, x, n, a.alpha); return;
    case ActKind::kSigmoid: vec_sigmoid(x, x, n); return;
    case ActKind::kTanh: vec_tanh(x, x, n); return;
    case ActKind::kClip: vec_clip(x, x, n, a.alpha, a.beta); return;
  }
}

}  // namespace softdpu::kernels
