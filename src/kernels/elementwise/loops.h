// The loops every elementwise op runs, and the kernels built from them.
//
// An op is a functor with
//     template <bool kFma, class C...> R apply(C... x) const
// evaluated on compute types (types.h: float for the 16-bit floats); its result is stored into
// the output type. A functor that sets `static constexpr bool kVectorize = true` (straight-line
// code, no libm calls) gets, for float32 data, the loop compiled three times: the scalar
// reference twin (x86-64 baseline) and AVX2+FMA and AVX-512 copies chosen at run time from
// active_isa(). The same source is compiled per ISA by inlining it (always_inline) into functions
// with a target attribute, so GCC vectorises each copy for its ISA; the baseline build flags stay
// plain x86-64. A vectorised functor must not do float arithmetic in only one arm of a `?:`
// (GCC then cannot if-convert the loop for AVX2): compute both arms and use choose() (approx.h).
//
// Pointers may alias exactly (in place: y == x) but must not otherwise overlap; GCC's run-time
// alias check keeps exact aliasing on the vector path.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>

#include "core/cpu.h"
#include "kernels/elementwise/approx.h"
#include "kernels/elementwise/broadcast.h"
#include "kernels/elementwise/types.h"
#include "runtime/kernel.h"

#define SOFTDPU_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define SOFTDPU_TARGET_AVX512                                    \
  __attribute__((                                                \
      target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c," \
             "prefer-vector-width=512")))

namespace softdpu::kernels::ew {

template <class Op>
constexpr bool op_vectorizes() {
  if constexpr (requires { Op::kVectorize; }) {
    return Op::kVectorize;
  } else {
    return false;
  }
}

// --- unary

template <bool kFma, class TIn, class TOut, class Op>
SOFTDPU_EW_INLINE void unary_loop(const TIn* x, TOut* y, int64_t n, const Op& op) {
  for (int64_t i = 0; i < n; ++i) y[i] = store<TOut>(op.template apply<kFma>(load(x[i])));
}

template <class TIn, class TOut, class Op>
struct UnaryLoops {
  using Fn = void (*)(const TIn*, TOut*, int64_t, const Op&);
  static constexpr bool kIsaVariants = op_vectorizes<Op>() && std::is_same_v<TIn, float>;

  static void scalar(const TIn* x, TOut* y, int64_t n, const Op& op) {
    unary_loop<false>(x, y, n, op);
  }
  SOFTDPU_TARGET_AVX2 static void avx2(const TIn* x, TOut* y, int64_t n, const Op& op) {
    unary_loop<true>(x, y, n, op);
  }
  SOFTDPU_TARGET_AVX512 static void avx512(const TIn* x, TOut* y, int64_t n, const Op& op) {
    unary_loop<true>(x, y, n, op);
  }
  static Fn pick() {
    if constexpr (kIsaVariants) {
      switch (active_isa()) {
        case Isa::kAvx512: return &avx512;
        case Isa::kAvx2: return &avx2;
        case Isa::kScalar: break;
      }
    }
    return &scalar;
  }
};

template <class TIn, class TOut, class Op>
void run_unary(const TIn* x, TOut* y, int64_t n, const Op& op, ThreadPool* pool, int64_t grain) {
  auto fn = UnaryLoops<TIn, TOut, Op>::pick();
  pool->parallel_for(n, grain, [&](int64_t b, int64_t e) { fn(x + b, y + b, e - b, op); });
}

// Output 0 = op(input 0), same shape, element type TOut.
template <class TIn, class TOut, class Op>
std::unique_ptr<runtime::Kernel> unary_kernel(runtime::PrepareContext& ctx, const Op& op,
                                              int64_t grain) {
  const int64_t n = shape_numel(ctx.shape(0));
  ctx.set_output(0, dtype_of<TOut>, ctx.shape(0));
  return runtime::make_kernel([n, op, grain](const runtime::KernelArgs& args) {
    run_unary(static_cast<const TIn*>(args.in[0]), static_cast<TOut*>(args.out[0]), n, op,
              args.pool, grain);
  });
}

// --- binary with broadcasting

// One row: va / vb say whether a / b advance (else their first element repeats).
template <bool kFma, class TA, class TB, class TO, class Op>
SOFTDPU_EW_INLINE void binary_row(const TA* a, bool va, const TB* b, bool vb, TO* o, int64_t n,
                                  const Op& op) {
  if (va && vb) {
    for (int64_t i = 0; i < n; ++i)
      o[i] = store<TO>(op.template apply<kFma>(load(a[i]), load(b[i])));
  } else if (vb) {
    const auto s = load(a[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = store<TO>(op.template apply<kFma>(s, load(b[i])));
  } else if (va) {
    const auto s = load(b[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = store<TO>(op.template apply<kFma>(load(a[i]), s));
  } else {
    const TO v = store<TO>(op.template apply<kFma>(load(a[0]), load(b[0])));
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  }
}

template <class TA, class TB, class TO, class Op>
struct BinaryLoops {
  using Fn = void (*)(const TA*, bool, const TB*, bool, TO*, int64_t, const Op&);
  static constexpr bool kIsaVariants =
      op_vectorizes<Op>() && std::is_same_v<TA, float> && std::is_same_v<TB, float>;

  static void scalar(const TA* a, bool va, const TB* b, bool vb, TO* o, int64_t n, const Op& op) {
    binary_row<false>(a, va, b, vb, o, n, op);
  }
  SOFTDPU_TARGET_AVX2 static void avx2(const TA* a, bool va, const TB* b, bool vb, TO* o, int64_t n,
                                       const Op& op) {
    binary_row<true>(a, va, b, vb, o, n, op);
  }
  SOFTDPU_TARGET_AVX512 static void avx512(const TA* a, bool va, const TB* b, bool vb, TO* o,
                                           int64_t n, const Op& op) {
    binary_row<true>(a, va, b, vb, o, n, op);
  }
  static Fn pick() {
    if constexpr (kIsaVariants) {
      switch (active_isa()) {
        case Isa::kAvx512: return &avx512;
        case Isa::kAvx2: return &avx2;
        case Isa::kScalar: break;
      }
    }
    return &scalar;
  }
};

// o = op(a, b) over plan (inputs a, b in that order).
template <class TA, class TB, class TO, class Op>
void run_binary(const BroadcastPlan& plan, const TA* a, const TB* b, TO* o, const Op& op,
                ThreadPool* pool, int64_t grain) {
  auto fn = BinaryLoops<TA, TB, TO, Op>::pick();
  const bool va = plan.inner_vec(0), vb = plan.inner_vec(1);
  pool->parallel_for(plan.numel, grain, [&](int64_t begin, int64_t end) {
    for_each_row(plan, begin, end, [&](const int64_t* off, int64_t pos, int64_t len) {
      fn(a + off[0], va, b + off[1], vb, o + pos, len, op);
    });
  });
}

// Output 0 = op(input 0, input 1) broadcast, element type TO. `b_shape`, when given, is how
// input 1's elements are laid out for broadcasting (same element count as its real shape).
template <class TA, class TB, class TO, class Op>
std::unique_ptr<runtime::Kernel> binary_kernel(runtime::PrepareContext& ctx, const Op& op,
                                               int64_t grain, const Shape* b_shape = nullptr) {
  const Shape& b = b_shape ? *b_shape : ctx.shape(1);
  Shape out = runtime::broadcast_shapes(ctx, ctx.shape(0), b);
  BroadcastPlan plan = make_broadcast_plan(ctx, {ctx.shape(0), b}, out);
  ctx.set_output(0, dtype_of<TO>, out);
  return runtime::make_kernel([plan, op, grain](const runtime::KernelArgs& args) {
    run_binary(plan, static_cast<const TA*>(args.in[0]), static_cast<const TB*>(args.in[1]),
               static_cast<TO*>(args.out[0]), op, args.pool, grain);
  });
}

// --- integer arithmetic without signed-overflow UB (two's complement wrap, as ONNX Runtime).

template <class C>
using wide_unsigned_t =
    std::conditional_t<(sizeof(C) < sizeof(unsigned)), unsigned, std::make_unsigned_t<C>>;

template <class C>
SOFTDPU_EW_INLINE C wrap_add(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    return static_cast<C>(static_cast<wide_unsigned_t<C>>(a) + static_cast<wide_unsigned_t<C>>(b));
  } else {
    return a + b;
  }
}
template <class C>
SOFTDPU_EW_INLINE C wrap_sub(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    return static_cast<C>(static_cast<wide_unsigned_t<C>>(a) - static_cast<wide_unsigned_t<C>>(b));
  } else {
    return a - b;
  }
}
template <class C>
SOFTDPU_EW_INLINE C wrap_mul(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    return static_cast<C>(static_cast<wide_unsigned_t<C>>(a) * static_cast<wide_unsigned_t<C>>(b));
  } else {
    return a * b;
  }
}
template <class C>
SOFTDPU_EW_INLINE C wrap_neg(C a) {
  return wrap_sub(C{0}, a);
}

}  // namespace softdpu::kernels::ew
