// Activations: Relu LeakyRelu Elu Celu Selu Sigmoid HardSigmoid HardSwish Tanh Softplus Softsign
// ThresholdedRelu Shrink Gelu Clip.
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/elementwise/functors.h"
#include "kernels/elementwise/loops.h"

namespace softdpu::runtime {
namespace {

using namespace kernels::ew;

template <class Op, class List>
std::unique_ptr<Kernel> same_type_unary(PrepareContext& ctx, List list, const Op& op,
                                        int64_t grain) {
  return dispatch(list, ctx, 0,
                  [&]<class T>(Tag<T>) { return unary_kernel<T, T>(ctx, op, grain); });
}

// e^x - 1 without cancellation near 0.
template <bool kFma, class C>
SOFTDPU_EW_INLINE C expm1_of(C x) {
  if constexpr (std::is_same_v<C, float>) {
    return expm1_approx<kFma>(x);
  } else {
    return std::expm1(x);
  }
}

struct EluOp {
  static constexpr bool kVectorize = true;
  float alpha;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    return choose(x < C(0), static_cast<C>(alpha) * expm1_of<kFma>(x), x);
  }
};

struct CeluOp {
  static constexpr bool kVectorize = true;
  float alpha;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    // max(0, x) + min(0, alpha * (exp(x / alpha) - 1)), written with selects.
    C a = static_cast<C>(alpha);
    C neg = a * expm1_of<kFma>(x / a);
    return (x > C(0) ? x : C(0)) + (neg < C(0) ? neg : C(0));
  }
};

struct SeluOp {
  static constexpr bool kVectorize = true;
  float alpha, gamma;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    C g = static_cast<C>(gamma);
    return choose(x > C(0), g * x, expm1_of<kFma>(x) * static_cast<C>(alpha) * g);
  }
};

struct HardSigmoidOp {
  static constexpr bool kVectorize = true;
  float alpha, beta;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    C v = static_cast<C>(alpha) * x + static_cast<C>(beta);
    v = v > C(1) ? C(1) : v;
    return v < C(0) ? C(0) : v;
  }
};

struct HardSwishOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    C v = static_cast<C>(1.f / 6.f) * x + C(0.5);
    v = v > C(1) ? C(1) : v;
    v = v < C(0) ? C(0) : v;
    return x * v;
  }
};

// log(1 + e^x) in the overflow-free form max(x, 0) + log1p(e^-|x|); libm, so scalar.
struct SoftplusOp {
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    return (x > C(0) ? x : C(0)) + std::log1p(std::exp(-std::fabs(x)));
  }
};

struct SoftsignOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    return x / (C(1) + std::fabs(x));
  }
};

struct ThresholdedReluOp {
  static constexpr bool kVectorize = true;
  float alpha;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    return x > static_cast<C>(alpha) ? x : C(0);
  }
};

struct ShrinkOp {
  static constexpr bool kVectorize = true;
  float bias, lambd;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    if constexpr (std::is_integral_v<C>) {
      // Integer data with float attributes: evaluate in double, as numpy promotes.
      double v = static_cast<double>(x);
      double r = v < -lambd ? v + bias : (v > lambd ? v - bias : 0.0);
      return float_to_int<C>(r);
    } else {
      C l = static_cast<C>(lambd), b = static_cast<C>(bias);
      return choose(x < -l, x + b, choose(x > l, x - b, C(0)));
    }
  }
};

// Clip bounds come from inputs 1 and 2, which may be known only at run time.
template <class T>
std::unique_ptr<Kernel> clip_kernel(PrepareContext& ctx, compute_t<T> lo, compute_t<T> hi,
                                    bool min_input, bool max_input) {
  using C = compute_t<T>;
  const int64_t n = shape_numel(ctx.shape(0));
  ctx.set_output(0, dtype_of<T>, ctx.shape(0));
  return make_kernel([=](const KernelArgs& args) {
    ClipOp<C> op{lo, hi};
    if (min_input) op.lo = load(*static_cast<const T*>(args.in[1]));
    if (max_input) op.hi = load(*static_cast<const T*>(args.in[2]));
    run_unary(static_cast<const T*>(args.in[0]), static_cast<T*>(args.out[0]), n, op, args.pool,
              kGrainCheap);
  });
}

}  // namespace

std::unique_ptr<Kernel> prepare_Relu(PrepareContext& ctx) {
  return same_type_unary(ctx, SignedNumericTypes{}, ReluOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_LeakyRelu(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, LeakyReluOp{ctx.attr_float("alpha", 0.01f)},
                         kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Elu(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, EluOp{ctx.attr_float("alpha", 1.f)}, kGrainHeavy);
}
std::unique_ptr<Kernel> prepare_Celu(PrepareContext& ctx) {
  float alpha = ctx.attr_float("alpha", 1.f);
  ctx.check(alpha != 0.f, "attribute 'alpha' must be nonzero (Celu divides by it)");
  return same_type_unary(ctx, FloatTypes{}, CeluOp{alpha}, kGrainHeavy);
}
std::unique_ptr<Kernel> prepare_Selu(PrepareContext& ctx) {
  SeluOp op{ctx.attr_float("alpha", 1.67326319217681884765625f),
            ctx.attr_float("gamma", 1.05070102214813232421875f)};
  return same_type_unary(ctx, FloatTypes{}, op, kGrainHeavy);
}
std::unique_ptr<Kernel> prepare_Sigmoid(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, SigmoidOp{}, kGrainHeavy);
}
std::unique_ptr<Kernel> prepare_Tanh(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, TanhOp{}, kGrainHeavy);
}
std::unique_ptr<Kernel> prepare_HardSigmoid(PrepareContext& ctx) {
  HardSigmoidOp op{ctx.attr_float("alpha", 0.2f), ctx.attr_float("beta", 0.5f)};
  return same_type_unary(ctx, FloatTypes{}, op, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_HardSwish(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, HardSwishOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Softplus(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, SoftplusOp{}, kGrainHeavy);
}
std::unique_ptr<Kernel> prepare_Softsign(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, SoftsignOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_ThresholdedRelu(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, ThresholdedReluOp{ctx.attr_float("alpha", 1.f)},
                         kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Shrink(PrepareContext& ctx) {
  ShrinkOp op{ctx.attr_float("bias", 0.f), ctx.attr_float("lambd", 0.5f)};
  return same_type_unary(ctx, NumericTypes{}, op, kGrainCheap);
}

std::unique_ptr<Kernel> prepare_Gelu(PrepareContext& ctx) {
  std::string approximate = ctx.attr_string("approximate", "none");
  if (approximate == "tanh") {
    return same_type_unary(ctx, FloatTypes{}, GeluOp<true>{}, kGrainHeavy);
  }
  ctx.check(approximate == "none",
            "attribute 'approximate' is '" + approximate + "', expected 'none' or 'tanh'");
  return same_type_unary(ctx, FloatTypes{}, GeluOp<false>{}, kGrainHeavy);
}

std::unique_ptr<Kernel> prepare_Clip(PrepareContext& ctx) {
  if (ctx.opset() < 11) {
    // Clip-1/6: bounds are float attributes.
    float lo = ctx.attr_float("min", std::numeric_limits<float>::lowest());
    float hi = ctx.attr_float("max", std::numeric_limits<float>::max());
    return dispatch(FloatTypes{}, ctx, 0, [&]<class T>(Tag<T>) {
      using C = compute_t<T>;
      return clip_kernel<T>(ctx, static_cast<C>(lo), static_cast<C>(hi), false, false);
    });
  }
  const bool has_min = ctx.has_input(1), has_max = ctx.has_input(2);
  for (int i = 1; i <= 2; ++i) {
    if (!ctx.has_input(i)) continue;
    if (ctx.dtype(i) != ctx.dtype(0)) {
      ctx.fail(std::string("input ") + (i == 1 ? "'min'" : "'max'") + " has type " +
               dtype_name(ctx.dtype(i)) + ", expected the input's type " +
               dtype_name(ctx.dtype(0)));
    }
    if (shape_numel(ctx.shape(i)) != 1 || ctx.shape(i).size() > 1) {
      ctx.fail(std::string("input ") + (i == 1 ? "'min'" : "'max'") +
               " must be a scalar, got shape " + shape_to_string(ctx.shape(i)));
    }
  }
  return dispatch(NumericTypes{}, ctx, 0, [&]<class T>(Tag<T>) {
    using C = compute_t<T>;
    C lo = std::numeric_limits<C>::lowest(), hi = std::numeric_limits<C>::max();
    if constexpr (std::is_floating_point_v<C>) {
      lo = -std::numeric_limits<C>::infinity();
      hi = std::numeric_limits<C>::infinity();
    }
    return clip_kernel<T>(ctx, lo, hi, has_min, has_max);
  });
}

}  // namespace softdpu::runtime
