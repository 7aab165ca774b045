// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum,
// ReduceLogSumExp and ReduceSumSquare.
//
// Axes come from the attribute (opset < 18, and ReduceSum < 13) or from the constant second input
// (ReduceSum >= 13, all >= 18); empty axes mean "all axes" unless noop_with_empty_axes = 1, which
// reduces over no axis (each element alone). Three loops cover every layout: contiguous rows
// (float32 rows use the SIMD row kernels), one reduced block with an inner extent (vectorised
// across the inner positions), and a general walk for several separate reduced blocks.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/reduce/reduce_common.h"
#include "kernels/reduce/row_kernels.h"

namespace softdpu::runtime {
namespace {

using kernels::ReduceLayout;

enum class ReduceKind { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

// Integers accumulate in 64 bits, floats in double: exact for the sizes models use and cheap off
// the float32 fast path.
template <typename T>
using WideOf = std::conditional_t<std::is_floating_point_v<T>, double,
                                  std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;

// One reduction: init, step over the elements, finish with the count. `shift` is only used by
// LogSumExp (the max of the set, for a stable exp).
template <ReduceKind K, typename T>
struct ReduceOp {
  static constexpr bool kMinMax = K == ReduceKind::kMax || K == ReduceKind::kMin;
  static constexpr bool kViaDouble =
      K == ReduceKind::kL2 || K == ReduceKind::kLogSum || K == ReduceKind::kLogSumExp;
  using Acc = std::conditional_t<kMinMax, T, std::conditional_t<kViaDouble, double, WideOf<T>>>;

  static Acc init() {
    if constexpr (K == ReduceKind::kMax) {
      return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                  : std::numeric_limits<T>::lowest();
    } else if constexpr (K == ReduceKind::kMin) {
      return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity()
                                                  : std::numeric_limits<T>::max();
    } else if constexpr (K == ReduceKind::kProd) {
      return Acc(1);
    } else {
      return Acc(0);
    }
  }

  static Acc step(Acc a, T x, double shift) {
    if constexpr (K == ReduceKind::kMax) return x > a ? x : a;
    if constexpr (K == ReduceKind::kMin) return x < a ? x : a;
    if constexpr (K == ReduceKind::kProd) return a * static_cast<Acc>(x);
    if constexpr (K == ReduceKind::kL1) {
      if constexpr (std::is_unsigned_v<T>) {
        return a + static_cast<Acc>(x);
      } else {
        return a + static_cast<Acc>(x < 0 ? -static_cast<Acc>(x) : static_cast<Acc>(x));
      }
    }
    if constexpr (K == ReduceKind::kL2 || K == ReduceKind::kSumSquare) {
      return a + static_cast<Acc>(x) * static_cast<Acc>(x);
    }
    if constexpr (K == ReduceKind::kLogSumExp) return a + std::exp(static_cast<double>(x) - shift);
    return a + static_cast<Acc>(x);  // Sum, Mean, LogSum
  }

  static T finish(Acc a, int64_t n, double shift) {
    if constexpr (kMinMax) return a;
    if constexpr (K == ReduceKind::kMean) {
      if constexpr (std::is_floating_point_v<T>) {
        return static_cast<T>(a / static_cast<Acc>(n));  // 0/0 = NaN for an empty set
      } else {
        return n > 0 ? static_cast<T>(a / static_cast<Acc>(n)) : T(0);
      }
    }
    if constexpr (K == ReduceKind::kL2) return kernels::from_double<T>(std::sqrt(a));
    if constexpr (K == ReduceKind::kLogSum) return kernels::from_double<T>(std::log(a));
    if constexpr (K == ReduceKind::kLogSumExp) return kernels::from_double<T>(std::log(a) + shift);
    return static_cast<T>(a);
  }
};

// The LogSumExp shift for a set whose max is m: 0 when m is infinite (or the set empty), so that
// exp(x - shift) never sees inf - inf.
inline double lse_shift(double m) {
  return std::isfinite(m) ? m : 0.0;
}

template <ReduceKind K, typename T>
struct ReduceKernel {
  ReduceLayout l;

  // One result per contiguous row of red_count elements.
  void rows(const T* x, T* y, int64_t begin, int64_t end) const {
    const int64_t n = l.red_count;
    for (int64_t o = begin; o < end; ++o) {
      const T* r = x + o * n;
      double shift = 0;
      if constexpr (K == ReduceKind::kLogSumExp) {
        using MaxOp = ReduceOp<ReduceKind::kMax, T>;
        T m = MaxOp::init();
        for (int64_t j = 0; j < n; ++j) m = MaxOp::step(m, r[j], 0);
        shift = lse_shift(static_cast<double>(m));
      }
      typename ReduceOp<K, T>::Acc a = ReduceOp<K, T>::init();
      for (int64_t j = 0; j < n; ++j) a = ReduceOp<K, T>::step(a, r[j], shift);
      y[o] = ReduceOp<K, T>::finish(a, n, shift);
    }
  }

  // float32 rows through the SIMD row kernels; false when this kind has no row kernel.
  bool rows_f32(const float* x, float* y, int64_t begin, int64_t end) const {
    const kernels::RowKernels& k = kernels::active_row_kernels();
    const int64_t n = l.red_count;
    for (int64_t o = begin; o < end; ++o) {
      const float* r = x + o * n;
      switch (K) {
        case ReduceKind::kSum: y[o] = k.sum(r, n); break;
        case ReduceKind::kMean: y[o] = k.sum(r, n) / static_cast<float>(n); break;
        case ReduceKind::kMax: y[o] = k.max(r, n); break;
        case ReduceKind::kMin: y[o] = k.min(r, n); break;
        case ReduceKind::kL1: y[o] = k.sum_abs(r, n); break;
        case ReduceKind::kL2: y[o] = std::sqrt(k.sum_sq(r, n)); break;
        case ReduceKind::kSumSquare: y[o] = k.sum_sq(r, n); break;
        case ReduceKind::kLogSum: y[o] = std::log(k.sum(r, n)); break;
        case ReduceKind::kLogSumExp: {
          const float m = static_cast<float>(lse_shift(k.max(r, n)));
          y[o] = std::log(k.sum_exp(r, n, m)) + m;
          break;
        }
        case ReduceKind::kProd: return false;
      }
    }
    return true;
  }

  // One reduced block with inner > 1: blocks of kChunk adjacent inner positions are reduced
  // together, so the innermost loop runs over contiguous memory and vectorises.
  static constexpr int64_t kChunk = 64;
  int64_t chunks_per_outer() const { return (l.inner + kChunk - 1) / kChunk; }

  void columns(const T* x, T* y, int64_t begin, int64_t end) const {
    using Op = ReduceOp<K, T>;
    const int64_t n = l.red_count, inner = l.inner, cpo = chunks_per_outer();
    for (int64_t t = begin; t < end; ++t) {
      const int64_t o = t / cpo, i0 = (t % cpo) * kChunk;
      const int64_t cnt = std::min(kChunk, inner - i0);
      const T* base = x + o * n * inner + i0;
      double shift[kChunk] = {};
      if constexpr (K == ReduceKind::kLogSumExp) {
        using MaxOp = ReduceOp<ReduceKind::kMax, T>;
        T m[kChunk];
        for (int64_t i = 0; i < cnt; ++i) m[i] = MaxOp::init();
        for (int64_t r = 0; r < n; ++r) {
          for (int64_t i = 0; i < cnt; ++i) m[i] = MaxOp::step(m[i], base[r * inner + i], 0);
        }
        for (int64_t i = 0; i < cnt; ++i) shift[i] = lse_shift(static_cast<double>(m[i]));
      }
      typename Op::Acc a[kChunk];
      for (int64_t i = 0; i < cnt; ++i) a[i] = Op::init();
      for (int64_t r = 0; r < n; ++r) {
        const T* row = base + r * inner;
        for (int64_t i = 0; i < cnt; ++i) a[i] = Op::step(a[i], row[i], shift[i]);
      }
      T* out = y + o * inner + i0;
      for (int64_t i = 0; i < cnt; ++i) out[i] = Op::finish(a[i], n, shift[i]);
    }
  }

  // Several reduced blocks: walk the reduced set of each result through its strides.
  void general(const T* x, T* y, int64_t begin, int64_t end) const {
    using Op = ReduceOp<K, T>;
    for (int64_t o = begin; o < end; ++o) {
      const int64_t base = kernels::kept_offset(l, o);
      double shift = 0;
      if constexpr (K == ReduceKind::kLogSumExp) {
        using MaxOp = ReduceOp<ReduceKind::kMax, T>;
        T m = MaxOp::init();
        auto f = [&](int64_t off) { m = MaxOp::step(m, x[off], 0); };
        kernels::for_each_reduced(l, base, f);
        shift = lse_shift(static_cast<double>(m));
      }
      typename Op::Acc a = Op::init();
      auto f = [&](int64_t off) { a = Op::step(a, x[off], shift); };
      kernels::for_each_reduced(l, base, f);
      y[o] = Op::finish(a, l.red_count, shift);
    }
  }

  void operator()(const KernelArgs& args) const {
    const T* x = static_cast<const T*>(args.in[0]);
    T* y = static_cast<T*>(args.out[0]);
    if (l.out_count == 0) return;
    if (!l.single_block) {
      args.pool->parallel_for(l.out_count, kernels::grain_for(l.red_count),
                              [&](int64_t b, int64_t e) { general(x, y, b, e); });
    } else if (l.inner == 1) {
      args.pool->parallel_for(l.out_count, kernels::grain_for(l.red_count),
                              [&](int64_t b, int64_t e) {
                                if constexpr (std::is_same_v<T, float>) {
                                  if (l.red_count > 0 && rows_f32(x, y, b, e)) return;
                                }
                                rows(x, y, b, e);
                              });
    } else {
      const int64_t tasks = l.outer * chunks_per_outer();
      args.pool->parallel_for(tasks, kernels::grain_for(l.red_count * kChunk),
                              [&](int64_t b, int64_t e) { columns(x, y, b, e); });
    }
  }
};

template <ReduceKind K>
std::unique_ptr<Kernel> make_reduce_kernel(PrepareContext& ctx, DType t, ReduceLayout l) {
  switch (t) {
    case DType::kFloat32: return make_kernel(ReduceKernel<K, float>{std::move(l)});
    case DType::kFloat64: return make_kernel(ReduceKernel<K, double>{std::move(l)});
    case DType::kInt32: return make_kernel(ReduceKernel<K, int32_t>{std::move(l)});
    case DType::kInt64: return make_kernel(ReduceKernel<K, int64_t>{std::move(l)});
    case DType::kUInt32: return make_kernel(ReduceKernel<K, uint32_t>{std::move(l)});
    case DType::kUInt64: return make_kernel(ReduceKernel<K, uint64_t>{std::move(l)});
    default: break;
  }
  if constexpr (K == ReduceKind::kMax || K == ReduceKind::kMin) {
    if (t == DType::kInt8) return make_kernel(ReduceKernel<K, int8_t>{std::move(l)});
    if (t == DType::kUInt8) return make_kernel(ReduceKernel<K, uint8_t>{std::move(l)});
  }
  ctx.unsupported(std::string("internal: no kernel for ") + dtype_name(t));
}

// The reduced axes, from input 1 or the attribute; an empty list means "not given".
std::vector<int64_t> read_axes(PrepareContext& ctx) {
  if (ctx.has_input(1)) {
    ctx.check(ctx.dtype(1) == DType::kInt64 || ctx.dtype(1) == DType::kInt32,
              kernels::input_label(ctx, 1) + " (axes) must be int64 or int32, got " +
                  dtype_name(ctx.dtype(1)));
    ctx.check(ctx.shape(1).size() <= 1, kernels::input_label(ctx, 1) +
                                            " (axes) must be 1-D, got shape " +
                                            shape_to_string(ctx.shape(1)));
    // An empty axes tensor needs no data, which also spares the planner a constant.
    if (shape_numel(ctx.shape(1)) == 0) return {};
    ctx.check(!ctx.has_attr("axes"), "axes given both as attribute and as input 1");
    return ctx.constant_ints(1);
  }
  return ctx.attr_ints("axes", {});
}

template <ReduceKind K>
std::unique_ptr<Kernel> prepare_reduce(PrepareContext& ctx) {
  const bool min_max = K == ReduceKind::kMax || K == ReduceKind::kMin;
  if (min_max) {
    ctx.expect_dtype(0, {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64,
                         DType::kUInt32, DType::kUInt64, DType::kInt8, DType::kUInt8});
  } else {
    ctx.expect_dtype(0, {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64,
                         DType::kUInt32, DType::kUInt64});
  }
  const Shape& in = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  const bool keepdims = ctx.attr_int("keepdims", 1) != 0;
  const bool noop = ctx.attr_int("noop_with_empty_axes", 0) != 0;
  const std::vector<int64_t> axes = read_axes(ctx);

  std::vector<bool> reduced(in.size(), axes.empty() && !noop);
  for (int64_t a : axes) {
    const int64_t d = normalize_axis(ctx, a, rank);
    ctx.check(d < rank,
              "axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    ctx.check(!reduced[d], "axes list axis " + std::to_string(a) + " more than once");
    reduced[d] = true;
  }
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!reduced[d]) {
      out.push_back(in[d]);
    } else if (keepdims) {
      out.push_back(1);
    }
  }
  // A reduced axis of length 0 is valid: results take opset 18's empty-set values (sum 0, prod 1,
  // max -inf or the lowest integer, mean NaN, log-sum -inf).
  ctx.set_output(0, ctx.dtype(0), out);
  return make_reduce_kernel<K>(ctx, ctx.dtype(0), kernels::make_reduce_layout(in, reduced));
}

}  // namespace

std::unique_ptr<Kernel> prepare_ReduceSum(PrepareContext& ctx) {
  return prepare_reduce<ReduceKind::kSum>(ctx);
}
std::unique_ptr<Kernel> prepare_ReduceMean(PrepareContext& ctx) {
  return prepare_reduce<ReduceKind::kMean>(ctx);
}
std::unique_ptr<Kernel> prepare_ReduceMax(PrepareContext& ctx) {
  return prepare_reduce<ReduceKind::kMax>(ctx);
}
std::unique_ptr<Kernel> prepare_ReduceMin(PrepareContext& ctx) {
  return prepare_reduce<ReduceKind::kMin>(ctx);
}
std::unique_ptr<Kernel> prepare_ReduceProd(PrepareContext& ctx) {
  return prepare_reduce<ReduceKind::kProd>(ctx);
}
std::unique_ptr<Kernel> prepare_ReduceL1(PrepareContext& ctx) {
  return prepare_reduce<ReduceKind::kL1>(ctx);
}
std::unique_ptr<Kernel> prepare_ReduceL2(PrepareContext& ctx) {
  return prepare_reduce<ReduceKind::kL2>(ctx);
}
std::unique_ptr<Kernel> prepare_ReduceLogSum(PrepareContext& ctx) {
  return prepare_reduce<ReduceKind::kLogSum>(ctx);
}
std::unique_ptr<Kernel> prepare_ReduceLogSumExp(PrepareContext& ctx) {
  return prepare_reduce<ReduceKind::kLogSumExp>(ctx);
}
std::unique_ptr<Kernel> prepare_ReduceSumSquare(PrepareContext& ctx) {
  return prepare_reduce<ReduceKind::kSumSquare>(ctx);
}

}  // namespace softdpu::runtime
