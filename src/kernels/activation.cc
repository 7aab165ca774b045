#include "kernels/activation.h"

namespace softdpu::kernels {

Activation fused_activation(const runtime::PrepareContext& ctx) {
  Activation a;
  std::string kind = ctx.attr_string("_activation", "");
  if (kind.empty()) return a;
  a.alpha = ctx.attr_float("_activation_alpha", 0.f);
  a.beta = ctx.attr_float("_activation_beta", 0.f);
  if (kind == "Relu") a.kind = ActKind::kRelu;
  else if (kind == "LeakyRelu") a.kind = ActKind::kLeakyRelu;
  else if (kind == "Sigmoid") a.kind = ActKind::kSigmoid;
  else if (kind == "Tanh") a.kind = ActKind::kTanh;
  else if (kind == "Clip") a.kind = ActKind::kClip;
  else ctx.fail("unknown fused activation '" + kind + "'");
  return a;
}

void apply_activation_inplace(const Activation& a, float* x, int64_t n) {
  // Plain loop: GCC vectorises Relu/LeakyRelu/Clip; Sigmoid/Tanh call libm per element.
  switch (a.kind) {
    case ActKind::kNone: return;
    case ActKind::kRelu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0 ? x[i] : 0;
      return;
    default:
      for (int64_t i = 0; i < n; ++i) x[i] = apply_activation(a, x[i]);
  }
}

}  // namespace softdpu::kernels
