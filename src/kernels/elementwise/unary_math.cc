// Unary math: Abs Neg Sign Ceil Floor Round Sqrt Reciprocal Exp Log Erf, the trigonometric and
// hyperbolic functions, IsNaN and IsInf.
#include <cmath>
#include <type_traits>

#include "kernels/elementwise/functors.h"
#include "kernels/elementwise/loops.h"

namespace softdpu::runtime {
namespace {

using namespace kernels::ew;

// Output type = input type, for every type of List.
template <class Op, class List>
std::unique_ptr<Kernel> same_type_unary(PrepareContext& ctx, List list, const Op& op,
                                        int64_t grain) {
  return dispatch(list, ctx, 0,
                  [&]<class T>(Tag<T>) { return unary_kernel<T, T>(ctx, op, grain); });
}

struct AbsOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    if constexpr (std::is_floating_point_v<C>) {
      return std::fabs(x);  // clears the sign of -0 and NaN too
    } else if constexpr (std::is_signed_v<C>) {
      return x < 0 ? wrap_neg(x) : x;
    } else {
      return x;
    }
  }
};

struct NegOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    return wrap_neg(x);
  }
};

struct SignOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    if constexpr (std::is_unsigned_v<C>) {
      return x > 0 ? C(1) : C(0);
    } else {
      return x > C(0) ? C(1) : (x < C(0) ? C(-1) : x);  // zero and NaN map to themselves
    }
  }
};

struct CeilOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    return std::ceil(x);
  }
};

struct FloorOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    return std::floor(x);
  }
};

// Halves round to even (ONNX Round, numpy round): nearbyint in the default rounding mode.
struct RoundOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    return std::nearbyint(x);
  }
};

struct ReciprocalOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    return C(1) / x;
  }
};

// std::sqrt keeps errno handling, which blocks vectorisation; it is one instruction plus a
// never-taken branch per element, so it stays scalar.
#define SOFTDPU_LIBM_OP(Name, fn)          \
  struct Name##Op {                        \
    template <bool kFma, class C>          \
    SOFTDPU_EW_INLINE C apply(C x) const { \
      return std::fn(x);                   \
    }                                      \
  };
SOFTDPU_LIBM_OP(Sqrt, sqrt)
SOFTDPU_LIBM_OP(Log, log)
SOFTDPU_LIBM_OP(Sin, sin)
SOFTDPU_LIBM_OP(Cos, cos)
SOFTDPU_LIBM_OP(Tan, tan)
SOFTDPU_LIBM_OP(Asin, asin)
SOFTDPU_LIBM_OP(Acos, acos)
SOFTDPU_LIBM_OP(Atan, atan)
SOFTDPU_LIBM_OP(Sinh, sinh)
SOFTDPU_LIBM_OP(Cosh, cosh)
SOFTDPU_LIBM_OP(Asinh, asinh)
SOFTDPU_LIBM_OP(Acosh, acosh)
SOFTDPU_LIBM_OP(Atanh, atanh)
#undef SOFTDPU_LIBM_OP

struct IsNaNOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE bool apply(C x) const {
    return x != x;
  }
};

struct IsInfOp {
  static constexpr bool kVectorize = true;
  bool positive = true, negative = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE bool apply(C x) const {
    constexpr C kInf = std::numeric_limits<C>::infinity();
    return (positive & (x == kInf)) | (negative & (x == -kInf));
  }
};

}  // namespace

std::unique_ptr<Kernel> prepare_Abs(PrepareContext& ctx) {
  return same_type_unary(ctx, NumericTypes{}, AbsOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Neg(PrepareContext& ctx) {
  return same_type_unary(ctx, SignedNumericTypes{}, NegOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Sign(PrepareContext& ctx) {
  return same_type_unary(ctx, NumericTypes{}, SignOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Ceil(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, CeilOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Floor(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, FloorOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Round(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, RoundOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Reciprocal(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, ReciprocalOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Sqrt(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, SqrtOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Exp(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, ExpOp{}, kGrainHeavy);
}
std::unique_ptr<Kernel> prepare_Log(PrepareContext& ctx) {
  return same_type_unary(ctx, FloatTypes{}, LogOp{}, kGrainHeavy);
}
std::unique_ptr<Kernel> prepare_Erf(PrepareContext& ctx) {
  return same_type_unary(ctx, NumericTypes{}, ErfOp{}, kGrainHeavy);
}
#define SOFTDPU_FLOAT_UNARY(Name)                                       \
  std::unique_ptr<Kernel> prepare_##Name(PrepareContext& ctx) {         \
    return same_type_unary(ctx, FloatTypes{}, Name##Op{}, kGrainHeavy); \
  }
SOFTDPU_FLOAT_UNARY(Sin)
SOFTDPU_FLOAT_UNARY(Cos)
SOFTDPU_FLOAT_UNARY(Tan)
SOFTDPU_FLOAT_UNARY(Asin)
SOFTDPU_FLOAT_UNARY(Acos)
SOFTDPU_FLOAT_UNARY(Atan)
SOFTDPU_FLOAT_UNARY(Sinh)
SOFTDPU_FLOAT_UNARY(Cosh)
SOFTDPU_FLOAT_UNARY(Asinh)
SOFTDPU_FLOAT_UNARY(Acosh)
SOFTDPU_FLOAT_UNARY(Atanh)
#undef SOFTDPU_FLOAT_UNARY

std::unique_ptr<Kernel> prepare_IsNaN(PrepareContext& ctx) {
  return dispatch(FloatTypes{}, ctx, 0, [&]<class T>(Tag<T>) {
    return unary_kernel<T, bool>(ctx, IsNaNOp{}, kGrainCheap);
  });
}

std::unique_ptr<Kernel> prepare_IsInf(PrepareContext& ctx) {
  IsInfOp op{ctx.attr_int("detect_positive", 1) != 0, ctx.attr_int("detect_negative", 1) != 0};
  return dispatch(FloatTypes{}, ctx, 0,
                  [&]<class T>(Tag<T>) { return unary_kernel<T, bool>(ctx, op, kGrainCheap); });
}

}  // namespace softdpu::runtime
