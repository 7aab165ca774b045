// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (which is log-softmax over axis 1
// followed by the same loss). Input [N, C, D1, ...], target [N, D1, ...] of class indices,
// optional per-class weight [C]; element (n, d) contributes loss = -input[n, target, d] * w with
// w = weight[target] (1 without weights) and w = loss = 0 where target == ignore_index.
// reduction: "none" keeps the per-element losses, "sum" adds them, "mean" divides the sum by the
// sum of w (which is the element count without weights and ignore_index).
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/reduce/reduce_common.h"
#include "kernels/reduce/row_kernels.h"

namespace softdpu::runtime {
namespace {

using kernels::LossReduction;

struct LossPlan {
  int64_t n, c, d;  // input seen as [N, C, D], target as [N, D]
  bool has_weight;
  bool has_ignore;
  int64_t ignore_index;
  LossReduction reduction;
};

// The loss over log-probabilities lp [N, C, D]. A target outside [0, C) that is not ignored has
// no defined loss; it yields NaN rather than a read out of bounds.
template <typename T, typename I>
void nll(const LossPlan& p, const T* lp, const I* target, const T* weight, T* loss) {
  double sum = 0, weight_sum = 0;
  for (int64_t i = 0; i < p.n; ++i) {
    for (int64_t k = 0; k < p.d; ++k) {
      const int64_t t = static_cast<int64_t>(target[i * p.d + k]);
      double w = 0, l = 0;
      if (p.has_ignore && t == p.ignore_index) {
        // contributes nothing
      } else if (t < 0 || t >= p.c) {
        w = l = std::numeric_limits<double>::quiet_NaN();
      } else {
        w = p.has_weight ? static_cast<double>(weight[t]) : 1.0;
        l = -static_cast<double>(lp[(i * p.c + t) * p.d + k]) * w;
      }
      if (p.reduction == LossReduction::kNone) {
        loss[i * p.d + k] = static_cast<T>(l);
      } else {
        sum += l;
        weight_sum += w;
      }
    }
  }
  if (p.reduction == LossReduction::kSum) loss[0] = static_cast<T>(sum);
  if (p.reduction == LossReduction::kMean) loss[0] = static_cast<T>(sum / weight_sum);
}

template <typename T, typename I>
struct NllKernel {
  LossPlan p;
  void operator()(const KernelArgs& args) const {
    nll(p, static_cast<const T*>(args.in[0]), static_cast<const I*>(args.in[1]),
        p.has_weight ? static_cast<const T*>(args.in[2]) : nullptr, static_cast<T*>(args.out[0]));
  }
};

// log-softmax of x [N, C, D] over C into lp.
template <typename T>
void log_softmax_axis1(const LossPlan& p, const T* x, T* lp, ThreadPool* pool) {
  const int64_t c = p.c, d = p.d;
  pool->parallel_for(p.n, kernels::grain_for(c * d), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const T* xi = x + i * c * d;
      T* yi = lp + i * c * d;
      if constexpr (std::is_same_v<T, float>) {
        const kernels::RowKernels& k = kernels::active_row_kernels();
        if (d == 1) {
          k.log_softmax(xi, yi, c);
        } else {
          k.log_softmax_strided(xi, yi, c, d, d);
        }
      } else {
        for (int64_t k = 0; k < d; ++k) {
          T m = xi[k];
          for (int64_t j = 1; j < c; ++j) m = std::max(m, xi[j * d + k]);
          T s = 0;
          for (int64_t j = 0; j < c; ++j) s += std::exp(xi[j * d + k] - m);
          const T l = std::log(s);
          for (int64_t j = 0; j < c; ++j) yi[j * d + k] = (xi[j * d + k] - m) - l;
        }
      }
    }
  });
}

template <typename T, typename I>
struct SceKernel {
  LossPlan p;
  bool log_prob_out;  // output 1 requested; else the log-probabilities live in scratch
  void operator()(const KernelArgs& args) const {
    T* lp = log_prob_out ? static_cast<T*>(args.out[1]) : static_cast<T*>(args.scratch);
    if (p.c > 0) log_softmax_axis1(p, static_cast<const T*>(args.in[0]), lp, args.pool);
    nll(p, lp, static_cast<const I*>(args.in[1]),
        p.has_weight ? static_cast<const T*>(args.in[2]) : nullptr, static_cast<T*>(args.out[0]));
  }
};

// Validates inputs and attributes shared by both ops and sets the loss output.
LossPlan plan_loss(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32, DType::kFloat64});
  ctx.expect_dtype(1, {DType::kInt64, DType::kInt32});
  const Shape& xs = ctx.shape(0);
  ctx.check(xs.size() >= 2, kernels::input_label(ctx, 0) + " must be [N, C, ...], got shape " +
                                shape_to_string(xs));
  Shape expected_target{xs[0]};
  expected_target.insert(expected_target.end(), xs.begin() + 2, xs.end());
  ctx.check(ctx.shape(1) == expected_target,
            kernels::input_label(ctx, 1) + " (target) must have shape " +
                shape_to_string(expected_target) + " to match input 0 " + shape_to_string(xs) +
                ", got " + shape_to_string(ctx.shape(1)));
  LossPlan p;
  p.n = xs[0];
  p.c = xs[1];
  p.d = kernels::extent(xs, 2, xs.size());
  p.has_weight = ctx.has_input(2);
  if (p.has_weight) {
    ctx.check(ctx.dtype(2) == ctx.dtype(0), kernels::input_label(ctx, 2) + " (weight) has type " +
                                                dtype_name(ctx.dtype(2)) + ", expected " +
                                                dtype_name(ctx.dtype(0)) + " like input 0");
    ctx.check(ctx.shape(2) == Shape{p.c}, kernels::input_label(ctx, 2) +
                                              " (weight) must have shape [" + std::to_string(p.c) +
                                              "], got " + shape_to_string(ctx.shape(2)));
  }
  p.has_ignore = ctx.has_attr("ignore_index");
  p.ignore_index = ctx.attr_int("ignore_index", 0);
  p.reduction = kernels::loss_reduction(ctx);
  ctx.set_output(0, ctx.dtype(0), p.reduction == LossReduction::kNone ? ctx.shape(1) : Shape{});
  return p;
}

template <template <typename, typename> class K, typename... Extra>
std::unique_ptr<Kernel> make_loss_kernel(PrepareContext& ctx, const LossPlan& p, Extra... extra) {
  const bool f64 = ctx.dtype(0) == DType::kFloat64;
  if (ctx.dtype(1) == DType::kInt32) {
    if (f64) return make_kernel(K<double, int32_t>{p, extra...});
    return make_kernel(K<float, int32_t>{p, extra...});
  }
  if (f64) return make_kernel(K<double, int64_t>{p, extra...});
  return make_kernel(K<float, int64_t>{p, extra...});
}

}  // namespace

std::unique_ptr<Kernel> prepare_NegativeLogLikelihoodLoss(PrepareContext& ctx) {
  const LossPlan p = plan_loss(ctx);
  return make_loss_kernel<NllKernel>(ctx, p);
}

std::unique_ptr<Kernel> prepare_SoftmaxCrossEntropyLoss(PrepareContext& ctx) {
  const LossPlan p = plan_loss(ctx);
  const bool log_prob_out = ctx.has_output(1);
  if (ctx.num_outputs() > 1) ctx.set_output(1, ctx.dtype(0), ctx.shape(0));
  if (!log_prob_out) ctx.request_scratch(shape_numel(ctx.shape(0)) * dtype_size(ctx.dtype(0)));
  return make_loss_kernel<SceKernel>(ctx, p, log_prob_out);
}

}  // namespace softdpu::runtime
