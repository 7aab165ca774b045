// LpNormalization, LRN and MeanVarianceNormalization.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/reduce/reduce_common.h"
#include "kernels/reduce/row_kernels.h"

namespace softdpu::runtime {
namespace {

// --- LpNormalization: x / ||x||_p along one axis, p in {1, 2}; an all-zero vector stays zero.

template <typename T>
struct LpNormKernel {
  int64_t outer, n, inner;
  bool l1;

  void operator()(const KernelArgs& args) const {
    const T* x = static_cast<const T*>(args.in[0]);
    T* y = static_cast<T*>(args.out[0]);
    args.pool->parallel_for(outer * inner, kernels::grain_for(2 * n), [&](int64_t lo, int64_t hi) {
      for (int64_t p = lo; p < hi; ++p) {
        const int64_t off = (p / inner) * n * inner + p % inner;
        const T* xp = x + off;
        T* yp = y + off;
        if constexpr (std::is_same_v<T, float>) {
          if (inner == 1) {
            const kernels::RowKernels& k = kernels::active_row_kernels();
            const float norm = l1 ? k.sum_abs(xp, n) : std::sqrt(k.sum_sq(xp, n));
            k.scale_shift(xp, yp, n, norm == 0 ? 0.0f : 1.0f / norm, 0.0f);
            continue;
          }
        }
        double acc = 0;
        for (int64_t j = 0; j < n; ++j) {
          const double v = xp[j * inner];
          acc += l1 ? std::fabs(v) : v * v;
        }
        const double norm = l1 ? acc : std::sqrt(acc);
        const double inv = norm == 0 ? 0.0 : 1.0 / norm;
        for (int64_t j = 0; j < n; ++j) yp[j * inner] = static_cast<T>(xp[j * inner] * inv);
      }
    });
  }
};

}  // namespace

std::unique_ptr<Kernel> prepare_LpNormalization(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32, DType::kFloat64});
  const Shape& xs = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(xs.size());
  ctx.check(rank >= 1, kernels::input_label(ctx, 0) + " must have rank >= 1, got a scalar");
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", -1), rank);
  const int64_t p = ctx.attr_int("p", 2);
  ctx.check(p == 1 || p == 2, "attribute p is " + std::to_string(p) + ", expected 1 or 2");
  ctx.set_output(0, ctx.dtype(0), xs);
  const int64_t outer = kernels::extent(xs, 0, axis), n = xs[axis];
  const int64_t inner = kernels::extent(xs, axis + 1, xs.size());
  if (ctx.dtype(0) == DType::kFloat64) {
    return make_kernel(LpNormKernel<double>{outer, n, inner, p == 1});
  }
  return make_kernel(LpNormKernel<float>{outer, n, inner, p == 1});
}

namespace {

// --- LRN: y = x / (bias + alpha / size * sum of x^2 over a window of channels) ^ beta, the window
// being [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)] clipped to the channels.

template <typename T>
struct LrnKernel {
  int64_t n, c, hw;
  int64_t before, after;  // window extent below and above the channel
  double alpha_over_size, beta, bias;
  static constexpr int64_t kChunk = 256;  // spatial positions per task

  // v^-beta, with the common exponents spelled out because pow dominates the op otherwise.
  T inv_pow(T v) const {
    if (beta == 0.75) return T(1) / std::sqrt(v * std::sqrt(v));
    if (beta == 0.5) return T(1) / std::sqrt(v);
    if (beta == 1.0) return T(1) / v;
    return std::pow(v, static_cast<T>(-beta));
  }

  void operator()(const KernelArgs& args) const {
    const T* x = static_cast<const T*>(args.in[0]);
    T* y = static_cast<T*>(args.out[0]);
    const int64_t cps = (hw + kChunk - 1) / kChunk;
    args.pool->parallel_for(n * cps, kernels::grain_for(kChunk * c * (before + after + 1)),
                            [&](int64_t lo, int64_t hi) {
                              for (int64_t t = lo; t < hi; ++t) {
                                const int64_t b = t / cps, s0 = (t % cps) * kChunk;
                                const int64_t cnt = std::min(kChunk, hw - s0);
                                plane_chunk(x + b * c * hw + s0, y + b * c * hw + s0, cnt);
                              }
                            });
  }

  void plane_chunk(const T* x, T* y, int64_t cnt) const {
    T sq[kChunk];
    for (int64_t ch = 0; ch < c; ++ch) {
      const int64_t lo = std::max<int64_t>(0, ch - before), hi = std::min(c - 1, ch + after);
      std::fill_n(sq, cnt, T(0));
      for (int64_t w = lo; w <= hi; ++w) {
        const T* xw = x + w * hw;
        for (int64_t i = 0; i < cnt; ++i) sq[i] += xw[i] * xw[i];
      }
      const T* xc = x + ch * hw;
      T* yc = y + ch * hw;
      for (int64_t i = 0; i < cnt; ++i) {
        yc[i] = xc[i] * inv_pow(static_cast<T>(bias + alpha_over_size * sq[i]));
      }
    }
  }
};

}  // namespace

std::unique_ptr<Kernel> prepare_LRN(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32, DType::kFloat64});
  const Shape& xs = ctx.shape(0);
  ctx.check(xs.size() >= 2, kernels::input_label(ctx, 0) + " must be [N, C, ...], got shape " +
                                shape_to_string(xs));
  ctx.check(ctx.has_attr("size"), "attribute 'size' is required");
  const int64_t size = ctx.attr_int("size", 1);
  ctx.check(size >= 1, "attribute size is " + std::to_string(size) + ", expected >= 1");
  const double alpha = ctx.attr_float("alpha", 1e-4f);
  const double beta = ctx.attr_float("beta", 0.75f);
  const double bias = ctx.attr_float("bias", 1.0f);
  ctx.set_output(0, ctx.dtype(0), xs);
  const int64_t n = xs[0], c = xs[1], hw = kernels::extent(xs, 2, xs.size());
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  if (ctx.dtype(0) == DType::kFloat64) {
    return make_kernel(LrnKernel<double>{n, c, hw, before, after, alpha / size, beta, bias});
  }
  return make_kernel(LrnKernel<float>{n, c, hw, before, after, alpha / size, beta, bias});
}

namespace {

// --- MeanVarianceNormalization: (x - mean) / (std + 1e-9) with statistics over `axes` (default
// {0, 2, 3}: per channel). The standard deviation is the population one, computed in two passes.

template <typename T>
struct MvnKernel {
  kernels::ReduceLayout l;

  void operator()(const KernelArgs& args) const {
    const T* x = static_cast<const T*>(args.in[0]);
    T* y = static_cast<T*>(args.out[0]);
    const double count = static_cast<double>(l.red_count);
    args.pool->parallel_for(
        l.out_count, kernels::grain_for(3 * l.red_count), [&](int64_t lo, int64_t hi) {
          for (int64_t o = lo; o < hi; ++o) {
            const int64_t base = kernels::kept_offset(l, o);
            double sum = 0, var = 0;
            auto add = [&](int64_t off) { sum += x[off]; };
            kernels::for_each_reduced(l, base, add);
            const double mean = sum / count;
            auto dev = [&](int64_t off) { var += (x[off] - mean) * (x[off] - mean); };
            kernels::for_each_reduced(l, base, dev);
            const double inv = 1.0 / (std::sqrt(var / count) + 1e-9);
            auto out = [&](int64_t off) { y[off] = static_cast<T>((x[off] - mean) * inv); };
            kernels::for_each_reduced(l, base, out);
          }
        });
  }
};

}  // namespace

std::unique_ptr<Kernel> prepare_MeanVarianceNormalization(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32, DType::kFloat64});
  const Shape& xs = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(xs.size());
  std::vector<bool> reduced(xs.size(), false);
  for (int64_t a : ctx.attr_ints("axes", {0, 2, 3})) {
    const int64_t d = normalize_axis(ctx, a, rank);
    ctx.check(d < rank,
              "axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    ctx.check(!reduced[d], "axes list axis " + std::to_string(a) + " more than once");
    reduced[d] = true;
  }
  ctx.set_output(0, ctx.dtype(0), xs);
  kernels::ReduceLayout l = kernels::make_reduce_layout(xs, reduced);
  if (shape_numel(xs) == 0) return make_kernel([](const KernelArgs&) {});
  if (ctx.dtype(0) == DType::kFloat64) return make_kernel(MvnKernel<double>{std::move(l)});
  return make_kernel(MvnKernel<float>{std::move(l)});
}

}  // namespace softdpu::runtime
