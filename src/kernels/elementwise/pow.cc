// Pow: base and exponent may have different types (Pow-12+); the output has the base's type.
//
// The exponent is brought to one type per base type before the loop (converted into scratch at
// run time when its dtype differs): the base's compute type for float bases; int64 for integer
// bases with integer exponents (exact integer power); double for integer bases with float
// exponents (pow in double, truncated as numpy's astype does).
#include <cmath>
#include <type_traits>

#include "kernels/elementwise/cast.h"
#include "kernels/elementwise/loops.h"

namespace softdpu::runtime {
namespace {

using namespace kernels::ew;

// x^e by squaring with wrap-around; negative e truncates 1 / x^|e| toward zero.
template <class C>
C int_pow(C x, int64_t e) {
  if (e < 0) {
    if (x == 1) return 1;
    if (x == -1) return (e & 1) ? C(-1) : C(1);
    return 0;
  }
  using U = wide_unsigned_t<C>;
  U r = 1, b = static_cast<U>(x);
  while (e != 0) {
    if (e & 1) r = static_cast<U>(r * b);
    b = static_cast<U>(b * b);
    e >>= 1;
  }
  return static_cast<C>(r);
}

struct PowOp {
  template <bool kFma, class C, class E>
  SOFTDPU_EW_INLINE C apply(C x, E e) const {
    if constexpr (std::is_floating_point_v<C>) {
      return std::pow(x, e);
    } else if constexpr (std::is_integral_v<E>) {
      return int_pow(x, static_cast<int64_t>(e));
    } else {
      return float_to_int<C>(std::pow(static_cast<double>(x), e));
    }
  }
};

// x^2 and x^3 as products (x^2 is exactly powf's correctly rounded result; x^3 within 2 ulp),
// vectorised: Pow(x, 2) and Pow(x, 3) are common in exported LayerNorm and Gelu graphs.
template <int kPower>
struct SmallPowOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C x) const {
    if constexpr (kPower == 1) {
      return x;
    } else if constexpr (kPower == 2) {
      return x * x;
    } else {
      return x * x * x;
    }
  }
};

template <int kPower>
std::unique_ptr<Kernel> small_pow_kernel(PrepareContext& ctx, const Shape& out) {
  // A one-element exponent only prepends 1s to the base's shape: same data order.
  const int64_t n = shape_numel(out);
  ctx.set_output(0, DType::kFloat32, out);
  return make_kernel([n](const KernelArgs& args) {
    run_unary(static_cast<const float*>(args.in[0]), static_cast<float*>(args.out[0]), n,
              SmallPowOp<kPower>{}, args.pool, kGrainCheap);
  });
}

template <class TB, class TE>
std::unique_ptr<Kernel> pow_kernel(PrepareContext& ctx, const Shape& out) {
  BroadcastPlan plan = make_broadcast_plan(ctx, {ctx.shape(0), ctx.shape(1)}, out);
  ctx.set_output(0, dtype_of<TB>, out);
  ConvertFn convert = nullptr;
  const int64_t ne = shape_numel(ctx.shape(1));
  if (ctx.dtype(1) != dtype_of<TE>) {
    convert = convert_fn(ctx.dtype(1), dtype_of<TE>);
    if (!convert) ctx.fail("internal: no conversion for the exponent");
    ctx.request_scratch(static_cast<size_t>(ne) * sizeof(TE));
  }
  return make_kernel([plan, convert, ne](const KernelArgs& args) {
    const TE* e = static_cast<const TE*>(args.in[1]);
    if (convert) {
      convert(args.in[1], args.scratch, ne);
      e = static_cast<const TE*>(args.scratch);
    }
    run_binary(plan, static_cast<const TB*>(args.in[0]), e, static_cast<TB*>(args.out[0]), PowOp{},
               args.pool, kGrainHeavy);
  });
}

// The exponent's value when it is a plan-time constant with one element.
bool constant_scalar_exponent(const PrepareContext& ctx, double& value) {
  if (!ctx.is_constant(1) || shape_numel(ctx.shape(1)) != 1) return false;
  double v = 0;
  ConvertFn to_double = convert_fn(ctx.dtype(1), DType::kFloat64);
  if (!to_double) return false;
  to_double(ctx.constant_data(1), &v, 1);
  value = v;
  return true;
}

}  // namespace

std::unique_ptr<Kernel> prepare_Pow(PrepareContext& ctx) {
  using BaseTypes = concat_t<FloatTypes, TypeList<int32_t, int64_t>>;
  ctx.expect_dtype(1, {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16,
                       DType::kInt8, DType::kInt16, DType::kInt32, DType::kInt64, DType::kUInt8,
                       DType::kUInt16, DType::kUInt32, DType::kUInt64});
  const Shape out = runtime::broadcast_shapes(ctx, ctx.shape(0), ctx.shape(1));
  double e = 0;
  if (ctx.dtype(0) == DType::kFloat32 && constant_scalar_exponent(ctx, e)) {
    if (e == 1) return small_pow_kernel<1>(ctx, out);
    if (e == 2) return small_pow_kernel<2>(ctx, out);
    if (e == 3) return small_pow_kernel<3>(ctx, out);
  }
  const bool int_exponent = dtype_is_integer(ctx.dtype(1));
  return dispatch(BaseTypes{}, ctx, 0, [&]<class TB>(Tag<TB>) {
    if constexpr (is_float_like_v<TB>) {
      return pow_kernel<TB, compute_t<TB>>(ctx, out);
    } else {
      return int_exponent ? pow_kernel<TB, int64_t>(ctx, out) : pow_kernel<TB, double>(ctx, out);
    }
  });
}

}  // namespace softdpu::runtime
