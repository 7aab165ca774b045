// Softmax, LogSoftmax and Hardmax.
//
// Opset >= 13 normalises along one axis (default -1). Before 13 the input is coerced to 2-D at
// `axis` (default 1): [prod(shape[:axis]), prod(shape[axis:])], normalised along the second
// dimension, which makes the whole tail one row. Either way the work is outer x n x inner with the
// normalised axis of length n and stride inner. float32 goes through the SIMD row kernels.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/reduce/reduce_common.h"
#include "kernels/reduce/row_kernels.h"

namespace softdpu::runtime {
namespace {

enum class SoftKind { kSoftmax, kLogSoftmax, kHardmax };

struct Geometry {
  int64_t outer = 1, n = 1, inner = 1;
};

Geometry softmax_geometry(PrepareContext& ctx) {
  const Shape& in = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  ctx.check(rank >= 1, kernels::input_label(ctx, 0) + " must have rank >= 1, got a scalar");
  const bool per_axis = ctx.opset() >= 13;
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", per_axis ? -1 : 1), rank);
  Geometry g;
  g.outer = kernels::extent(in, 0, axis);
  if (per_axis) {
    g.n = in[axis];
    g.inner = kernels::extent(in, axis + 1, in.size());
  } else {
    g.n = kernels::extent(in, axis, in.size());
  }
  return g;
}

// Positions along `inner` handled per task on strided layouts: a few registers wide, and enough
// to amortise the walk down the axis.
constexpr int64_t kChunk = 64;

template <SoftKind K>
struct SoftmaxF32 {
  Geometry g;
  void operator()(const KernelArgs& args) const {
    const float* x = static_cast<const float*>(args.in[0]);
    float* y = static_cast<float*>(args.out[0]);
    const kernels::RowKernels& k = kernels::active_row_kernels();
    const int64_t n = g.n, inner = g.inner;
    if (inner == 1) {
      args.pool->parallel_for(g.outer, kernels::grain_for(n), [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) {
          if constexpr (K == SoftKind::kSoftmax) {
            k.softmax(x + o * n, y + o * n, n);
          } else {
            k.log_softmax(x + o * n, y + o * n, n);
          }
        }
      });
      return;
    }
    const int64_t cpo = (inner + kChunk - 1) / kChunk;
    args.pool->parallel_for(g.outer * cpo, kernels::grain_for(n * kChunk),
                            [&](int64_t b, int64_t e) {
                              for (int64_t t = b; t < e; ++t) {
                                const int64_t o = t / cpo, i0 = (t % cpo) * kChunk;
                                const int64_t off = o * n * inner + i0;
                                const int64_t cnt = std::min(kChunk, inner - i0);
                                if constexpr (K == SoftKind::kSoftmax) {
                                  k.softmax_strided(x + off, y + off, n, inner, cnt);
                                } else {
                                  k.log_softmax_strided(x + off, y + off, n, inner, cnt);
                                }
                              }
                            });
  }
};

// Any float type, one (outer, inner) position at a time: float64 and Hardmax.
template <typename T, SoftKind K>
struct SoftmaxGeneric {
  Geometry g;

  void position(const T* x, T* y) const {
    const int64_t n = g.n, s = g.inner;
    T m = x[0];
    int64_t arg = 0;
    for (int64_t j = 1; j < n; ++j) {
      if (x[j * s] > m) {
        m = x[j * s];
        arg = j;
      }
    }
    if constexpr (K == SoftKind::kHardmax) {
      for (int64_t j = 0; j < n; ++j) y[j * s] = j == arg ? T(1) : T(0);
    } else if constexpr (K == SoftKind::kSoftmax) {
      T sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        y[j * s] = std::exp(x[j * s] - m);
        sum += y[j * s];
      }
      const T inv = T(1) / sum;
      for (int64_t j = 0; j < n; ++j) y[j * s] *= inv;
    } else {
      T sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += std::exp(x[j * s] - m);
      const T l = std::log(sum);
      for (int64_t j = 0; j < n; ++j) y[j * s] = (x[j * s] - m) - l;
    }
  }

  void operator()(const KernelArgs& args) const {
    const T* x = static_cast<const T*>(args.in[0]);
    T* y = static_cast<T*>(args.out[0]);
    args.pool->parallel_for(g.outer * g.inner, kernels::grain_for(g.n), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        const int64_t off = (p / g.inner) * g.n * g.inner + p % g.inner;
        position(x + off, y + off);
      }
    });
  }
};

template <SoftKind K>
std::unique_ptr<Kernel> prepare_soft(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32, DType::kFloat64});
  const Geometry g = softmax_geometry(ctx);
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
  if (g.outer * g.n * g.inner == 0) return make_kernel([](const KernelArgs&) {});
  if (ctx.dtype(0) == DType::kFloat64) return make_kernel(SoftmaxGeneric<double, K>{g});
  if constexpr (K == SoftKind::kHardmax) {
    return make_kernel(SoftmaxGeneric<float, K>{g});
  } else {
    return make_kernel(SoftmaxF32<K>{g});
  }
}

}  // namespace

std::unique_ptr<Kernel> prepare_Softmax(PrepareContext& ctx) {
  return prepare_soft<SoftKind::kSoftmax>(ctx);
}
std::unique_ptr<Kernel> prepare_LogSoftmax(PrepareContext& ctx) {
  return prepare_soft<SoftKind::kLogSoftmax>(ctx);
}
std::unique_ptr<Kernel> prepare_Hardmax(PrepareContext& ctx) {
  return prepare_soft<SoftKind::kHardmax>(ctx);
}

}  // namespace softdpu::runtime
