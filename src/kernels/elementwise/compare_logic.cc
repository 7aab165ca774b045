// Comparisons (Equal Greater GreaterOrEqual Less LessOrEqual) and logic (And Or Xor Not). All
// produce bool; binary ones broadcast.
#include <type_traits>

#include "kernels/elementwise/loops.h"

namespace softdpu::runtime {
namespace {

using namespace kernels::ew;

#define SOFTDPU_COMPARE_OP(Name, expr)             \
  struct Name##Op {                                \
    static constexpr bool kVectorize = true;       \
    template <bool kFma, class C>                  \
    SOFTDPU_EW_INLINE bool apply(C a, C b) const { \
      return expr;                                 \
    }                                              \
  };
SOFTDPU_COMPARE_OP(Equal, a == b)
SOFTDPU_COMPARE_OP(Greater, a > b)
SOFTDPU_COMPARE_OP(GreaterOrEqual, a >= b)
SOFTDPU_COMPARE_OP(Less, a < b)
SOFTDPU_COMPARE_OP(LessOrEqual, a <= b)
// Logic ops read bool tensors as bytes so that any nonzero byte counts as true.
SOFTDPU_COMPARE_OP(BoolEqual, (a != 0) == (b != 0))
SOFTDPU_COMPARE_OP(And, (a != 0) & (b != 0))
SOFTDPU_COMPARE_OP(Or, (a != 0) | (b != 0))
SOFTDPU_COMPARE_OP(Xor, (a != 0) != (b != 0))
#undef SOFTDPU_COMPARE_OP

struct NotOp {
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE bool apply(C a) const {
    return a == 0;
  }
};

template <class Op>
std::unique_ptr<Kernel> compare(PrepareContext& ctx, const Op& op) {
  expect_same_dtype(ctx, 1, 0);
  return dispatch(NumericTypes{}, ctx, 0,
                  [&]<class T>(Tag<T>) { return binary_kernel<T, T, bool>(ctx, op, kGrainCheap); });
}

template <class Op>
std::unique_ptr<Kernel> logic(PrepareContext& ctx, const Op& op) {
  ctx.expect_dtype(0, {DType::kBool});
  ctx.expect_dtype(1, {DType::kBool});
  return binary_kernel<uint8_t, uint8_t, bool>(ctx, op, kGrainCheap);
}

}  // namespace

std::unique_ptr<Kernel> prepare_Equal(PrepareContext& ctx) {
  if (ctx.dtype(0) == DType::kBool) return logic(ctx, BoolEqualOp{});
  return compare(ctx, EqualOp{});
}
std::unique_ptr<Kernel> prepare_Greater(PrepareContext& ctx) {
  return compare(ctx, GreaterOp{});
}
std::unique_ptr<Kernel> prepare_GreaterOrEqual(PrepareContext& ctx) {
  return compare(ctx, GreaterOrEqualOp{});
}
std::unique_ptr<Kernel> prepare_Less(PrepareContext& ctx) {
  return compare(ctx, LessOp{});
}
std::unique_ptr<Kernel> prepare_LessOrEqual(PrepareContext& ctx) {
  return compare(ctx, LessOrEqualOp{});
}
std::unique_ptr<Kernel> prepare_And(PrepareContext& ctx) {
  return logic(ctx, AndOp{});
}
std::unique_ptr<Kernel> prepare_Or(PrepareContext& ctx) {
  return logic(ctx, OrOp{});
}
std::unique_ptr<Kernel> prepare_Xor(PrepareContext& ctx) {
  return logic(ctx, XorOp{});
}

std::unique_ptr<Kernel> prepare_Not(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kBool});
  return unary_kernel<uint8_t, bool>(ctx, NotOp{}, kGrainCheap);
}

}  // namespace softdpu::runtime
