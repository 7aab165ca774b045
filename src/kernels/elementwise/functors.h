// Functors shared by several elementwise files (activations, unary math, the public float32
// vector API). Each follows the contract in loops.h; C is the compute type (float, double or an
// integer type). float uses the vectorisable approximations of approx.h; double uses libm.
#pragma once

#include <cmath>
#include <type_traits>

#include "kernels/elementwise/approx.h"
#include "kernels/elementwise/types.h"

namespace softdpu::kernels::ew {

struct ExpOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    if constexpr (std::is_same_v<C, float>) {
      return exp_approx<kFma>(x);
    } else {
      return std::exp(x);
    }
  }
};

struct SigmoidOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    if constexpr (std::is_same_v<C, float>) {
      return sigmoid_approx<kFma>(x);
    } else {
      return C(1) / (C(1) + std::exp(-x));
    }
  }
};

struct TanhOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    if constexpr (std::is_same_v<C, float>) {
      return tanh_approx<kFma>(x);
    } else {
      return std::tanh(x);
    }
  }
};

struct ErfOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    if constexpr (std::is_same_v<C, float>) {
      return erf_approx<kFma>(x);
    } else if constexpr (std::is_integral_v<C>) {
      return float_to_int<C>(std::erf(static_cast<double>(x)));
    } else {
      return std::erf(x);
    }
  }
};

// Relu keeps NaN (like numpy maximum and PyTorch), and works for signed integers.
struct ReluOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    return x < C(0) ? C(0) : x;
  }
};

struct LeakyReluOp {
  static constexpr bool kVectorize = true;
  float alpha = 0.01f;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    return choose(x < C(0), static_cast<C>(alpha) * x, x);
  }
};

// Clip with NaN passing through (numpy clip); bounds in the compute type.
template <class C>
struct ClipOp {
  static constexpr bool kVectorize = true;
  C lo, hi;
  template <bool kFma>
  SOFTDPU_EW_INLINE C apply(C x) const {
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
  }
};

// kTanh: the tanh approximation (Gelu approximate="tanh"); else the exact erf form.
template <bool kTanh>
struct GeluOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    if constexpr (kTanh) {
      // 0.5 x (1 + tanh(u)) == x * sigmoid(2u): no cancellation for negative x.
      C u = C(0.7978845608028654) * (x + C(0.044715) * x * x * x);
      if constexpr (std::is_same_v<C, float>) {
        return x * sigmoid_approx<kFma>(u + u);
      } else {
        return x / (C(1) + std::exp(-(u + u)));
      }
    } else if constexpr (std::is_same_v<C, float>) {
      return 0.5f * x * (1.f + erf_approx<kFma>(x * 0.70710678118654752f));
    } else {
      return C(0.5) * x * (C(1) + std::erf(x * C(0.70710678118654752)));
    }
  }
};

}  // namespace softdpu::kernels::ew
