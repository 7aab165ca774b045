// Binary arithmetic with numpy broadcasting: Add Sub Mul Div Mod BitShift PRelu.
#include <cmath>
#include <type_traits>

#include "kernels/elementwise/loops.h"

namespace softdpu::runtime {
namespace {

using namespace kernels::ew;

template <class Op, class List>
std::unique_ptr<Kernel> same_type_binary(PrepareContext& ctx, List list, const Op& op,
                                         int64_t grain, const Shape* b_shape = nullptr) {
  expect_same_dtype(ctx, 1, 0);
  return dispatch(list, ctx, 0,
                  [&]<class T>(Tag<T>) { return binary_kernel<T, T, T>(ctx, op, grain, b_shape); });
}

struct AddOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C a, C b) const {
    return wrap_add(a, b);
  }
};

struct SubOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C a, C b) const {
    return wrap_sub(a, b);
  }
};

struct MulOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C a, C b) const {
    return wrap_mul(a, b);
  }
};

// Integer division truncates (C, ONNX Runtime). Division by zero, undefined in ONNX, gives 0
// (numpy's answer) instead of a SIGFPE, and INT_MIN / -1 wraps.
struct DivOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C a, C b) const {
    if constexpr (std::is_integral_v<C>) {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<C>) {
        if (b == -1) return wrap_neg(a);
      }
      return static_cast<C>(a / b);
    } else {
      return a / b;
    }
  }
};

// kFmod: C fmod semantics (result has the dividend's sign); else numpy mod (divisor's sign,
// integers only). A zero divisor gives 0 for integers (numpy) rather than a SIGFPE.
template <bool kFmod>
struct ModOp {
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C a, C b) const {
    if constexpr (std::is_floating_point_v<C>) {
      return std::fmod(a, b);
    } else {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<C>) {
        if (b == -1) return 0;  // also avoids the INT_MIN % -1 trap
        C r = static_cast<C>(a % b);
        if (!kFmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<C>(r + b);
        return r;
      } else {
        return static_cast<C>(a % b);
      }
    }
  }
};

// Shifts by the type's width or more give 0 (the C shift would be UB).
template <bool kLeft>
struct BitShiftOp {
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C a, C b) const {
    if (b >= static_cast<C>(sizeof(C) * 8)) return 0;
    return kLeft ? static_cast<C>(a << b) : static_cast<C>(a >> b);
  }
};

struct PReluOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x, C slope) const {
    if constexpr (std::is_unsigned_v<C>) {
      return x;
    } else {
      return choose(x < C(0), wrap_mul(x, slope), x);
    }
  }
};

}  // namespace

std::unique_ptr<Kernel> prepare_Add(PrepareContext& ctx) {
  return same_type_binary(ctx, NumericTypes{}, AddOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Sub(PrepareContext& ctx) {
  return same_type_binary(ctx, NumericTypes{}, SubOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Mul(PrepareContext& ctx) {
  return same_type_binary(ctx, NumericTypes{}, MulOp{}, kGrainCheap);
}
std::unique_ptr<Kernel> prepare_Div(PrepareContext& ctx) {
  return same_type_binary(ctx, NumericTypes{}, DivOp{}, kGrainCheap);
}

std::unique_ptr<Kernel> prepare_Mod(PrepareContext& ctx) {
  int64_t fmod = ctx.attr_int("fmod", 0);
  ctx.check(fmod == 0 || fmod == 1,
            "attribute 'fmod' is " + std::to_string(fmod) + ", expected 0 or 1");
  if (fmod == 0 && dtype_is_float(ctx.dtype(0))) {
    ctx.fail(std::string("floating-point input (") + dtype_name(ctx.dtype(0)) +
             ") requires attribute fmod=1; fmod=0 is defined for integers only");
  }
  if (fmod == 1) return same_type_binary(ctx, NumericTypes{}, ModOp<true>{}, kGrainCheap);
  return same_type_binary(ctx, IntTypes{}, ModOp<false>{}, kGrainCheap);
}

std::unique_ptr<Kernel> prepare_BitShift(PrepareContext& ctx) {
  std::string direction = ctx.attr_string("direction", "");
  if (direction == "LEFT")
    return same_type_binary(ctx, UnsignedIntTypes{}, BitShiftOp<true>{}, kGrainCheap);
  ctx.check(direction == "RIGHT",
            "attribute 'direction' is '" + direction + "', expected 'LEFT' or 'RIGHT'");
  return same_type_binary(ctx, UnsignedIntTypes{}, BitShiftOp<false>{}, kGrainCheap);
}

std::unique_ptr<Kernel> prepare_PRelu(PrepareContext& ctx) {
  // slope broadcasts to X in one direction only: the output has X's shape.
  const Shape& x = ctx.shape(0);
  Shape slope = ctx.shape(1);
  // Older PyTorch exports give a per-channel slope as [C] against X [N, C, ...], which numpy
  // broadcasting would align with the last axis; like ONNX Runtime, read it as [C, 1, ..., 1].
  const bool per_channel = slope.size() == 1 && x.size() >= 3 && slope[0] == x[1] &&
                           slope[0] != x.back() && slope[0] != 1;
  if (per_channel) slope.resize(x.size() - 1, 1);
  bool ok = slope.size() <= x.size();
  for (size_t i = 0; ok && i < slope.size(); ++i) {
    int64_t s = slope[slope.size() - 1 - i];
    ok = s == 1 || s == x[x.size() - 1 - i];
  }
  if (!ok) {
    ctx.fail("slope shape " + shape_to_string(ctx.shape(1)) +
             " is not unidirectionally broadcastable to X shape " + shape_to_string(x));
  }
  using PReluTypes = concat_t<FloatTypes, TypeList<int32_t, int64_t, uint32_t, uint64_t>>;
  return same_type_binary(ctx, PReluTypes{}, PReluOp{}, kGrainCheap, &slope);
}

}  // namespace softdpu::runtime
