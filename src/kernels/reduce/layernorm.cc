// LayerNormalization (opset 17): each row X[o, :] of the input seen as [prod(shape[:axis]),
// prod(shape[axis:])] is normalised with its own mean and variance, then scaled and shifted
// element-wise by Scale and B (broadcast over the row). Optional outputs Mean and InvStdDev have
// shape [shape[:axis], 1, ...] and type float32 (stash_type 1).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/reduce/reduce_common.h"
#include "kernels/reduce/row_kernels.h"

namespace softdpu::runtime {
namespace {

template <typename T>
struct LayerNormKernel {
  int64_t outer, n;
  double epsilon;
  int64_t scale_period;  // numel of Scale; the row repeats it n / scale_period times
  int64_t bias_period;   // numel of B, 0 when absent
  int num_outputs;       // args.out has this many entries

  // Scale/B expanded to a full row when they broadcast from a shorter suffix shape.
  const T* full_row(const void* p, int64_t period, T* scratch) const {
    const T* v = static_cast<const T*>(p);
    if (period == n) return v;
    for (int64_t i = 0; i < n; ++i) scratch[i] = v[i % period];
    return scratch;
  }

  void operator()(const KernelArgs& args) const {
    const T* x = static_cast<const T*>(args.in[0]);
    T* y = static_cast<T*>(args.out[0]);
    float* mean_out = num_outputs > 1 ? static_cast<float*>(args.out[1]) : nullptr;
    float* inv_out = num_outputs > 2 ? static_cast<float*>(args.out[2]) : nullptr;
    T* scratch = static_cast<T*>(args.scratch);
    const T* gamma = full_row(args.in[1], scale_period, scratch);
    const T* beta = bias_period ? full_row(args.in[2], bias_period, scratch + n) : nullptr;
    args.pool->parallel_for(outer, kernels::grain_for(3 * n), [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o) {
        const T* xr = x + o * n;
        T* yr = y + o * n;
        float mean, inv;
        if constexpr (std::is_same_v<T, float>) {
          const kernels::RowKernels& k = kernels::active_row_kernels();
          float var;
          k.mean_var(xr, n, &mean, &var);
          inv = 1.0f / std::sqrt(var + static_cast<float>(epsilon));
          k.normalize(xr, yr, n, mean, inv, gamma, beta);
        } else {
          double sum = 0, var = 0;
          for (int64_t i = 0; i < n; ++i) sum += xr[i];
          const double m = sum / static_cast<double>(n);
          for (int64_t i = 0; i < n; ++i) var += (xr[i] - m) * (xr[i] - m);
          const double s = 1.0 / std::sqrt(var / static_cast<double>(n) + epsilon);
          for (int64_t i = 0; i < n; ++i) {
            yr[i] = static_cast<T>((xr[i] - m) * s * gamma[i] + (beta ? beta[i] : T(0)));
          }
          mean = static_cast<float>(m);
          inv = static_cast<float>(s);
        }
        if (mean_out) mean_out[o] = mean;
        if (inv_out) inv_out[o] = inv;
      }
    });
  }
};

// Numel of input i (Scale or B) after checking it broadcasts over the normalised shape: without
// its leading 1s it must equal a suffix of `norm`, so it repeats with period = its numel.
int64_t broadcast_period(PrepareContext& ctx, int i, const Shape& norm) {
  ctx.check(ctx.dtype(i) == ctx.dtype(0), kernels::input_label(ctx, i) + " has type " +
                                              dtype_name(ctx.dtype(i)) + ", expected " +
                                              dtype_name(ctx.dtype(0)) + " like input 0");
  Shape s = ctx.shape(i);
  while (!s.empty() && s.front() == 1) s.erase(s.begin());
  const bool suffix =
      s.size() <= norm.size() && std::equal(s.begin(), s.end(), norm.end() - s.size());
  if (!suffix) {
    ctx.unsupported(kernels::input_label(ctx, i) + " has shape " + shape_to_string(ctx.shape(i)) +
                    ", which does not broadcast as a suffix of the normalised shape " +
                    shape_to_string(norm));
  }
  return shape_numel(s);
}

}  // namespace

std::unique_ptr<Kernel> prepare_LayerNormalization(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32, DType::kFloat64});
  const Shape& xs = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(xs.size());
  ctx.check(rank >= 1, kernels::input_label(ctx, 0) + " must have rank >= 1, got a scalar");
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", -1), rank);
  const int64_t stash = ctx.attr_int("stash_type", 1);
  if (stash != 1) {
    ctx.unsupported("stash_type " + std::to_string(stash) + "; only 1 (float32) is supported");
  }
  const Shape norm(xs.begin() + axis, xs.end());
  const int64_t outer = kernels::extent(xs, 0, axis), n = shape_numel(norm);
  const int64_t scale_period = broadcast_period(ctx, 1, norm);
  const int64_t bias_period = ctx.has_input(2) ? broadcast_period(ctx, 2, norm) : 0;
  ctx.check(n > 0 || outer == 0, "the normalised shape " + shape_to_string(norm) + " of " +
                                     kernels::input_label(ctx, 0) + " is empty");

  Shape stats(xs.begin(), xs.begin() + axis);
  stats.resize(xs.size(), 1);
  ctx.set_output(0, ctx.dtype(0), xs);
  if (ctx.num_outputs() > 1) ctx.set_output(1, DType::kFloat32, stats);
  if (ctx.num_outputs() > 2) ctx.set_output(2, DType::kFloat32, stats);
  if (outer == 0) return make_kernel([](const KernelArgs&) {});

  const double eps = ctx.attr_float("epsilon", 1e-5f);
  // Room for Scale and B expanded to full rows when either repeats a shorter suffix.
  const bool expand = scale_period != n || (bias_period != 0 && bias_period != n);
  if (expand) ctx.request_scratch(2 * static_cast<size_t>(n) * dtype_size(ctx.dtype(0)));
  const int outputs = ctx.num_outputs();
  if (ctx.dtype(0) == DType::kFloat64) {
    return make_kernel(LayerNormKernel<double>{outer, n, eps, scale_period, bias_period, outputs});
  }
  return make_kernel(LayerNormKernel<float>{outer, n, eps, scale_period, bias_period, outputs});
}

}  // namespace softdpu::runtime
