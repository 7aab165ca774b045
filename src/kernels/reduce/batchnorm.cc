// BatchNormalization and InstanceNormalization over X = [N, C, D1, ...]: both end in a
// per-channel y = x * a[c] + b[c] over each [D1 * ...] plane; they differ in where the statistics
// come from (running mean/var inputs, the batch itself in training mode, or each plane).
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/reduce/reduce_common.h"
#include "kernels/reduce/row_kernels.h"

namespace softdpu::runtime {
namespace {

// Parameter inputs may be float32 or float64 independently of X (opset 15 T1/T2 types).
inline double read_param(const void* p, DType t, int64_t i) {
  return t == DType::kFloat64 ? static_cast<const double*>(p)[i] : static_cast<const float*>(p)[i];
}

inline void write_param(void* p, DType t, int64_t i, double v) {
  if (t == DType::kFloat64) {
    static_cast<double*>(p)[i] = v;
  } else {
    static_cast<float*>(p)[i] = static_cast<float>(v);
  }
}

// y = x * a[c] + b[c] for every (n, c) plane of hw elements.
template <typename T>
void apply_affine(const T* x, T* y, const T* a, const T* b, int64_t n, int64_t c, int64_t hw,
                  ThreadPool* pool) {
  if (hw == 1) {  // [N, C]: vectorise across channels instead
    pool->parallel_for(n, kernels::grain_for(c), [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        for (int64_t j = 0; j < c; ++j) y[i * c + j] = x[i * c + j] * a[j] + b[j];
      }
    });
    return;
  }
  pool->parallel_for(n * c, kernels::grain_for(hw), [&](int64_t lo, int64_t hi) {
    if constexpr (std::is_same_v<T, float>) {
      const kernels::RowKernels& k = kernels::active_row_kernels();
      for (int64_t p = lo; p < hi; ++p)
        k.scale_shift(x + p * hw, y + p * hw, hw, a[p % c], b[p % c]);
    } else {
      for (int64_t p = lo; p < hi; ++p) {
        const T ap = a[p % c], bp = b[p % c];
        for (int64_t i = 0; i < hw; ++i) y[p * hw + i] = x[p * hw + i] * ap + bp;
      }
    }
  });
}

template <typename T>
struct BatchNormKernel {
  int64_t n, c, hw;
  double epsilon, momentum;
  bool training;
  int num_outputs;      // args.out has this many entries
  DType param_type[5];  // [1..4]: scale, B, input_mean, input_var
  std::vector<T> a, b;  // folded at plan time when every parameter is constant; else empty

  // a = scale / sqrt(var + eps), b = B - mean * a, from the parameter inputs.
  void fold(const void* const* in, T* fa, T* fb) const {
    for (int64_t j = 0; j < c; ++j) {
      const double s = read_param(in[1], param_type[1], j) /
                       std::sqrt(read_param(in[4], param_type[4], j) + epsilon);
      fa[j] = static_cast<T>(s);
      fb[j] = static_cast<T>(read_param(in[2], param_type[2], j) -
                             read_param(in[3], param_type[3], j) * s);
    }
  }

  // Training mode: normalise with the batch statistics and emit the updated running ones.
  void batch_stats(const KernelArgs& args, const T* x, T* fa, T* fb) const {
    const double count = static_cast<double>(n * hw);
    for (int64_t j = 0; j < c; ++j) {
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t k = 0; k < hw; ++k) sum += x[(i * c + j) * hw + k];
      }
      const double mean = count > 0 ? sum / count : 0;
      double var = 0;
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t k = 0; k < hw; ++k) {
          const double d = x[(i * c + j) * hw + k] - mean;
          var += d * d;
        }
      }
      var = count > 0 ? var / count : 0;
      const double s = read_param(args.in[1], param_type[1], j) / std::sqrt(var + epsilon);
      fa[j] = static_cast<T>(s);
      fb[j] = static_cast<T>(read_param(args.in[2], param_type[2], j) - mean * s);
      if (num_outputs > 1 && args.out[1]) {
        write_param(args.out[1], param_type[3], j,
                    read_param(args.in[3], param_type[3], j) * momentum + mean * (1 - momentum));
      }
      if (num_outputs > 2 && args.out[2]) {
        write_param(args.out[2], param_type[4], j,
                    read_param(args.in[4], param_type[4], j) * momentum + var * (1 - momentum));
      }
    }
  }

  void operator()(const KernelArgs& args) const {
    const T* x = static_cast<const T*>(args.in[0]);
    T* y = static_cast<T*>(args.out[0]);
    const T* pa = a.data();
    const T* pb = b.data();
    if (a.empty()) {
      T* fa = static_cast<T*>(args.scratch);
      T* fb = fa + c;
      if (training) {
        batch_stats(args, x, fa, fb);
      } else {
        fold(args.in, fa, fb);
      }
      pa = fa;
      pb = fb;
    }
    apply_affine(x, y, pa, pb, n, c, hw, args.pool);
  }
};

template <typename T>
std::unique_ptr<Kernel> make_batchnorm(PrepareContext& ctx, BatchNormKernel<T> k) {
  bool all_constant = !k.training;
  for (int i = 1; i <= 4; ++i) all_constant = all_constant && ctx.is_constant(i);
  if (all_constant) {
    std::vector<const void*> in(5, nullptr);
    for (int i = 1; i <= 4; ++i) in[i] = ctx.constant_data(i);
    k.a.resize(k.c);
    k.b.resize(k.c);
    k.fold(in.data(), k.a.data(), k.b.data());
  } else {
    ctx.request_scratch(2 * static_cast<size_t>(k.c) * sizeof(T));
  }
  return make_kernel(std::move(k));
}

// Checks X = [N, C, ...] and the per-channel inputs [first, last]; returns C.
int64_t check_channel_inputs(PrepareContext& ctx, int first, int last) {
  ctx.expect_dtype(0, {DType::kFloat32, DType::kFloat64});
  const Shape& xs = ctx.shape(0);
  ctx.check(xs.size() >= 2, kernels::input_label(ctx, 0) + " must be [N, C, ...], got shape " +
                                shape_to_string(xs));
  const int64_t c = xs[1];
  for (int i = first; i <= last; ++i) {
    ctx.expect_dtype(i, {DType::kFloat32, DType::kFloat64});
    ctx.check(ctx.shape(i) == Shape{c}, kernels::input_label(ctx, i) + " must have shape [" +
                                            std::to_string(c) + "] (one value per channel), got " +
                                            shape_to_string(ctx.shape(i)));
  }
  return c;
}

}  // namespace

std::unique_ptr<Kernel> prepare_BatchNormalization(PrepareContext& ctx) {
  const int64_t c = check_channel_inputs(ctx, 1, 4);
  if (ctx.attr_int("spatial", 1) != 1) {
    ctx.unsupported("attribute spatial = 0 (per-activation statistics, opset < 9)");
  }
  const bool training = ctx.opset() >= 14 && ctx.attr_int("training_mode", 0) != 0;
  if (!training) {
    for (int i = 1; i < ctx.num_outputs(); ++i) {
      if (ctx.has_output(i)) {
        ctx.unsupported("output " + std::to_string(i) +
                        " (training statistics) requested outside opset >= 14 training_mode = 1");
      }
    }
  }
  const Shape& xs = ctx.shape(0);
  ctx.set_output(0, ctx.dtype(0), xs);
  if (ctx.num_outputs() > 1) ctx.set_output(1, ctx.dtype(3), {c});
  if (ctx.num_outputs() > 2) ctx.set_output(2, ctx.dtype(4), {c});
  for (int i = 3; i < ctx.num_outputs(); ++i) {
    if (ctx.has_output(i)) ctx.unsupported("output " + std::to_string(i) + " (saved statistics)");
  }

  const int64_t n = xs[0], hw = kernels::extent(xs, 2, xs.size());
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  const double momentum = ctx.attr_float("momentum", 0.9f);
  const DType types[5] = {ctx.dtype(0), ctx.dtype(1), ctx.dtype(2), ctx.dtype(3), ctx.dtype(4)};
  if (ctx.dtype(0) == DType::kFloat64) {
    BatchNormKernel<double> k{n, c, hw, eps, momentum, training, ctx.num_outputs(), {}, {}, {}};
    std::copy_n(types, 5, k.param_type);
    return make_batchnorm(ctx, std::move(k));
  }
  BatchNormKernel<float> k{n, c, hw, eps, momentum, training, ctx.num_outputs(), {}, {}, {}};
  std::copy_n(types, 5, k.param_type);
  return make_batchnorm(ctx, std::move(k));
}

namespace {

template <typename T>
struct InstanceNormKernel {
  int64_t n, c, hw;
  double epsilon;

  void operator()(const KernelArgs& args) const {
    const T* x = static_cast<const T*>(args.in[0]);
    const T* scale = static_cast<const T*>(args.in[1]);
    const T* bias = static_cast<const T*>(args.in[2]);
    T* y = static_cast<T*>(args.out[0]);
    args.pool->parallel_for(n * c, kernels::grain_for(2 * hw), [&](int64_t lo, int64_t hi) {
      for (int64_t p = lo; p < hi; ++p) {
        const T* xp = x + p * hw;
        T* yp = y + p * hw;
        const int64_t ch = p % c;
        if constexpr (std::is_same_v<T, float>) {
          const kernels::RowKernels& k = kernels::active_row_kernels();
          float mean, var;
          k.mean_var(xp, hw, &mean, &var);
          const float a = scale[ch] / std::sqrt(var + static_cast<float>(epsilon));
          k.scale_shift(xp, yp, hw, a, bias[ch] - mean * a);
        } else {
          double sum = 0, var = 0;
          for (int64_t i = 0; i < hw; ++i) sum += xp[i];
          const double mean = sum / static_cast<double>(hw);
          for (int64_t i = 0; i < hw; ++i) var += (xp[i] - mean) * (xp[i] - mean);
          const double a = scale[ch] / std::sqrt(var / static_cast<double>(hw) + epsilon);
          const double b = bias[ch] - mean * a;
          for (int64_t i = 0; i < hw; ++i) yp[i] = static_cast<T>(xp[i] * a + b);
        }
      }
    });
  }
};

}  // namespace

std::unique_ptr<Kernel> prepare_InstanceNormalization(PrepareContext& ctx) {
  const int64_t c = check_channel_inputs(ctx, 1, 2);
  for (int i = 1; i <= 2; ++i) {
    ctx.check(ctx.dtype(i) == ctx.dtype(0), kernels::input_label(ctx, i) + " has type " +
                                                dtype_name(ctx.dtype(i)) + ", expected " +
                                                dtype_name(ctx.dtype(0)) + " like input 0");
  }
  const Shape& xs = ctx.shape(0);
  ctx.set_output(0, ctx.dtype(0), xs);
  const int64_t n = xs[0], hw = kernels::extent(xs, 2, xs.size());
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  if (n * c * hw == 0) return make_kernel([](const KernelArgs&) {});
  if (ctx.dtype(0) == DType::kFloat64)
    return make_kernel(InstanceNormKernel<double>{n, c, hw, eps});
  return make_kernel(InstanceNormKernel<float>{n, c, hw, eps});
}

}  // namespace softdpu::runtime
