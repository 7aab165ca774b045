// Variadic ops with broadcasting over all inputs (Sum Mean Max Min) and Where.
//
// Sum/Max/Min fold pairwise into the output: out = in0 op in1, then out = out op in_k, each
// step a broadcast plan planned at prepare time. The accumulating steps read and write the
// output at the same index, which the row loops allow.
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/elementwise/loops.h"

namespace softdpu::runtime {
namespace {

using namespace kernels::ew;

struct SumOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C a, C b) const {
    return wrap_add(a, b);
  }
};

// NaN propagates from either side (numpy maximum / minimum).
struct MaxOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C a, C b) const {
    if constexpr (std::is_floating_point_v<C>) {
      return (a > b) | (a != a) ? a : b;
    } else {
      return a > b ? a : b;
    }
  }
};

struct MinOp {
  static constexpr bool kVectorize = true;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE C apply(C a, C b) const {
    if constexpr (std::is_floating_point_v<C>) {
      return (a < b) | (a != a) ? a : b;
    } else {
      return a < b ? a : b;
    }
  }
};

template <class C>
struct DivideByOp {
  static constexpr bool kVectorize = true;
  C n;
  template <bool kFma>
  SOFTDPU_EW_INLINE C apply(C x) const {
    return x / n;
  }
};

template <class T, class Op>
std::unique_ptr<Kernel> variadic_kernel(PrepareContext& ctx, const Op& op, bool mean) {
  const int n = ctx.num_inputs();
  ctx.check(n >= 1, "needs at least one input");
  std::vector<Shape> shapes;
  for (int i = 0; i < n; ++i) {
    expect_same_dtype(ctx, i, 0);
    shapes.push_back(ctx.shape(i));
  }
  const Shape out = broadcast_all(ctx, shapes);
  const int64_t numel = shape_numel(out);
  std::vector<BroadcastPlan> plans;  // plans[k - 1] combines the accumulator with input k
  for (int k = 1; k < n; ++k) {
    plans.push_back(make_broadcast_plan(ctx, {k == 1 ? shapes[0] : out, shapes[k]}, out));
  }
  ctx.set_output(0, dtype_of<T>, out);
  return make_kernel([plans, op, n, numel, mean](const KernelArgs& args) {
    T* o = static_cast<T*>(args.out[0]);
    const T* in0 = static_cast<const T*>(args.in[0]);
    if (n == 1) {
      std::memcpy(o, in0, static_cast<size_t>(numel) * sizeof(T));  // shape is in0's
    } else {
      run_binary(plans[0], in0, static_cast<const T*>(args.in[1]), o, op, args.pool, kGrainCheap);
      for (int k = 2; k < n; ++k) {
        run_binary(plans[k - 1], static_cast<const T*>(o), static_cast<const T*>(args.in[k]), o, op,
                   args.pool, kGrainCheap);
      }
    }
    if (mean && n > 1) {
      using C = compute_t<T>;
      run_unary(static_cast<const T*>(o), o, numel, DivideByOp<C>{static_cast<C>(n)}, args.pool,
                kGrainCheap);
    }
  });
}

template <class List, class Op>
std::unique_ptr<Kernel> variadic(PrepareContext& ctx, List list, const Op& op, bool mean) {
  return dispatch(list, ctx, 0, [&]<class T>(Tag<T>) { return variadic_kernel<T>(ctx, op, mean); });
}

// Where copies elements, so only their size matters.
template <class T>
void where_row(const uint8_t* c, bool vc, const T* x, bool vx, const T* y, bool vy, T* o,
               int64_t n) {
  if (vc && vx && vy) {
    for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? x[i] : y[i];
    return;
  }
  const int64_t sc = vc, sx = vx, sy = vy;
  for (int64_t i = 0; i < n; ++i) o[i] = c[i * sc] ? x[i * sx] : y[i * sy];
}

template <class T>
std::unique_ptr<Kernel> where_kernel(PrepareContext& ctx, const BroadcastPlan& plan) {
  return make_kernel([plan](const KernelArgs& args) {
    const auto* c = static_cast<const uint8_t*>(args.in[0]);
    const auto* x = static_cast<const T*>(args.in[1]);
    const auto* y = static_cast<const T*>(args.in[2]);
    T* o = static_cast<T*>(args.out[0]);
    const bool vc = plan.inner_vec(0), vx = plan.inner_vec(1), vy = plan.inner_vec(2);
    args.pool->parallel_for(plan.numel, kGrainCheap, [&](int64_t begin, int64_t end) {
      for_each_row(plan, begin, end, [&](const int64_t* off, int64_t pos, int64_t len) {
        where_row(c + off[0], vc, x + off[1], vx, y + off[2], vy, o + pos, len);
      });
    });
  });
}

}  // namespace

std::unique_ptr<Kernel> prepare_Sum(PrepareContext& ctx) {
  return variadic(ctx, FloatTypes{}, SumOp{}, false);
}
std::unique_ptr<Kernel> prepare_Mean(PrepareContext& ctx) {
  return variadic(ctx, FloatTypes{}, SumOp{}, true);
}
std::unique_ptr<Kernel> prepare_Max(PrepareContext& ctx) {
  return variadic(ctx, NumericTypes{}, MaxOp{}, false);
}
std::unique_ptr<Kernel> prepare_Min(PrepareContext& ctx) {
  return variadic(ctx, NumericTypes{}, MinOp{}, false);
}

std::unique_ptr<Kernel> prepare_Where(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kBool});
  expect_same_dtype(ctx, 2, 1);
  const DType t = ctx.dtype(1);
  if (!dtype_is_supported(t)) {
    ctx.unsupported(std::string("input 1 ('") + ctx.input(1).name + "') has type " + dtype_name(t) +
                    ", which softdpu tensors cannot hold");
  }
  std::vector<Shape> shapes{ctx.shape(0), ctx.shape(1), ctx.shape(2)};
  const Shape out = broadcast_all(ctx, shapes);
  BroadcastPlan plan = make_broadcast_plan(ctx, shapes, out);
  ctx.set_output(0, t, out);
  switch (dtype_size(t)) {
    case 1: return where_kernel<uint8_t>(ctx, plan);
    case 2: return where_kernel<uint16_t>(ctx, plan);
    case 4: return where_kernel<uint32_t>(ctx, plan);
    default: return where_kernel<uint64_t>(ctx, plan);
  }
}

}  // namespace softdpu::runtime
