// Pooling: MaxPool (with the optional Indices output), AveragePool, LpPool over 1..3 spatial
// dims, and the global pools. Direct loops per (n, c) plane: pooling touches each input a few
// times and does no arithmetic worth blocking; planes are split across threads.
//
// Semantics follow the ONNX backend tests (and onnxruntime where the spec is silent):
//  - padded positions never win a max and never count in an average unless count_include_pad;
//  - with count_include_pad the divisor counts taps inside the padded input, so a ceil_mode
//    window hanging past the end padding is not divided by the full kernel size;
//  - Indices flatten the whole input (batch and channel included), row-major, or column-major
//    over the spatial dims when storage_order = 1.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/cpu.h"
#include "kernels/linalg/conv_common.h"
#include "kernels/linalg/pool_max2x2.h"
#include "runtime/kernel.h"

namespace softdpu::runtime {

using kernels::Window;

namespace {

enum class PoolKind { kMax, kAvg, kLp };

// Below this many window taps in total a kernel stays on one thread.
constexpr int64_t kParallelTaps = 32 * 1024;

struct PoolPlan {
  Window w;
  int64_t planes = 0;  // N * C
  bool count_include_pad = false;
  int64_t p = 2;  // LpPool order
  bool col_major = false;
};

// Taps of window start `s` along one axis that fall in [lo, hi).
inline int64_t taps_in(int64_t s, int64_t k, int64_t d, int64_t lo, int64_t hi) {
  int64_t n = 0;
  for (int64_t i = 0; i < k; ++i) n += s + i * d >= lo && s + i * d < hi;
  return n;
}

template <typename T>
void max_plane(const PoolPlan& pl, const T* x, T* y, int64_t* idx, int64_t plane) {
  const Window& w = pl.w;
  int64_t o = 0;
  for (int64_t o0 = 0; o0 < w.out[0]; ++o0)
    for (int64_t o1 = 0; o1 < w.out[1]; ++o1)
      for (int64_t o2 = 0; o2 < w.out[2]; ++o2, ++o) {
        T best = std::numeric_limits<T>::lowest();
        int64_t best_at = -1;
        const int64_t s0 = o0 * w.stride[0] - w.pad[0], s1 = o1 * w.stride[1] - w.pad[1];
        const int64_t s2 = o2 * w.stride[2] - w.pad[2];
        for (int64_t k0 = 0; k0 < w.k[0]; ++k0) {
          const int64_t i0 = s0 + k0 * w.dil[0];
          if (i0 < 0 || i0 >= w.in[0]) continue;
          for (int64_t k1 = 0; k1 < w.k[1]; ++k1) {
            const int64_t i1 = s1 + k1 * w.dil[1];
            if (i1 < 0 || i1 >= w.in[1]) continue;
            const T* row = x + (i0 * w.in[1] + i1) * w.in[2];
            for (int64_t k2 = 0; k2 < w.k[2]; ++k2) {
              const int64_t i2 = s2 + k2 * w.dil[2];
              if (i2 < 0 || i2 >= w.in[2]) continue;
              if (best_at < 0 || row[i2] > best) {
                best = row[i2];
                best_at = pl.col_major ? i0 + w.in[0] * (i1 + w.in[1] * i2)
                                       : (i0 * w.in[1] + i1) * w.in[2] + i2;
              }
            }
          }
        }
        y[o] = best;
        if (idx) idx[o] = plane * w.in_size() + std::max<int64_t>(best_at, 0);
      }
}

// True when every window lies wholly inside the input with unit dilation: then no tap needs a
// bounds check and max_plane_inside applies.
bool windows_inside(const Window& w) {
  for (int d = 0; d < 3; ++d) {
    if (w.dil[d] != 1 || w.pad[d] != 0) return false;
    if ((w.out[d] - 1) * w.stride[d] + w.k[d] > w.in[d]) return false;
  }
  return true;
}

// MaxPool without indices over windows inside the input (the common 2x2 / stride 2 case):
// row-wise maxima with no per-tap index or bounds arithmetic, so the inner loop over output
// columns vectorises. Same result as max_plane, NaN included: each output starts from its first
// tap and a later tap replaces it only when greater.
template <typename T>
void max_plane_inside(const Window& w, const T* x, T* y) {
  for (int64_t o0 = 0; o0 < w.out[0]; ++o0)
    for (int64_t o1 = 0; o1 < w.out[1]; ++o1) {
      T* yrow = y + (o0 * w.out[1] + o1) * w.out[2];
      bool first = true;
      for (int64_t k0 = 0; k0 < w.k[0]; ++k0)
        for (int64_t k1 = 0; k1 < w.k[1]; ++k1) {
          const T* xrow = x + ((o0 * w.stride[0] + k0) * w.in[1] + o1 * w.stride[1] + k1) * w.in[2];
          for (int64_t k2 = 0; k2 < w.k[2]; ++k2) {
            const T* xs = xrow + k2;
            const int64_t s2 = w.stride[2];
            if (first) {
              for (int64_t o2 = 0; o2 < w.out[2]; ++o2) yrow[o2] = xs[o2 * s2];
              first = false;
            } else {
              for (int64_t o2 = 0; o2 < w.out[2]; ++o2) {
                const T v = xs[o2 * s2];
                yrow[o2] = v > yrow[o2] ? v : yrow[o2];
              }
            }
          }
        }
    }
}

void avg_lp_plane(const PoolPlan& pl, PoolKind kind, const float* x, float* y) {
  const Window& w = pl.w;
  int64_t o = 0;
  for (int64_t o0 = 0; o0 < w.out[0]; ++o0)
    for (int64_t o1 = 0; o1 < w.out[1]; ++o1)
      for (int64_t o2 = 0; o2 < w.out[2]; ++o2, ++o) {
        const int64_t s[3] = {o0 * w.stride[0] - w.pad[0], o1 * w.stride[1] - w.pad[1],
                              o2 * w.stride[2] - w.pad[2]};
        double acc = 0;
        for (int64_t k0 = 0; k0 < w.k[0]; ++k0) {
          const int64_t i0 = s[0] + k0 * w.dil[0];
          if (i0 < 0 || i0 >= w.in[0]) continue;
          for (int64_t k1 = 0; k1 < w.k[1]; ++k1) {
            const int64_t i1 = s[1] + k1 * w.dil[1];
            if (i1 < 0 || i1 >= w.in[1]) continue;
            const float* row = x + (i0 * w.in[1] + i1) * w.in[2];
            for (int64_t k2 = 0; k2 < w.k[2]; ++k2) {
              const int64_t i2 = s[2] + k2 * w.dil[2];
              if (i2 < 0 || i2 >= w.in[2]) continue;
              if (kind == PoolKind::kAvg)
                acc += row[i2];
              else if (pl.p == 1)
                acc += std::fabs(row[i2]);
              else if (pl.p == 2)
                acc += double(row[i2]) * row[i2];
              else
                acc += std::pow(std::fabs(double(row[i2])), double(pl.p));
            }
          }
        }
        if (kind == PoolKind::kLp) {
          y[o] = float(pl.p == 1 ? acc : pl.p == 2 ? std::sqrt(acc) : std::pow(acc, 1.0 / pl.p));
          continue;
        }
        int64_t count = 1;
        for (int d = 0; d < 3; ++d) {
          const int64_t lo = pl.count_include_pad ? -w.pad[d] : 0;
          const int64_t hi = pl.count_include_pad ? w.in[d] + w.pad_end[d] : w.in[d];
          count *= taps_in(s[d], w.k[d], w.dil[d], lo, hi);
        }
        y[o] = count > 0 ? float(acc / count) : 0.f;
      }
}

PoolPlan plan_pool(PrepareContext& ctx, bool ceil_allowed, bool dilations_allowed) {
  kernels::expect_spatial_rank(ctx, 0);
  const Shape& sx = ctx.shape(0);
  const size_t nd = sx.size() - 2;
  PoolPlan pl;
  const std::vector<int64_t> kernel = kernels::kernel_shape_attr(ctx, nd, nullptr);
  const bool ceil_mode = ceil_allowed && ctx.attr_int("ceil_mode", 0) != 0;
  pl.w = kernels::resolve_window(ctx, Shape(sx.begin() + 2, sx.end()), kernel, ceil_mode,
                                 dilations_allowed);
  pl.planes = sx[0] * sx[1];
  Shape out{sx[0], sx[1]};
  for (int64_t d : pl.w.out_shape()) out.push_back(d);
  ctx.set_output(0, ctx.dtype(0), out);
  return pl;
}

// Runs fn(plane) over all planes, in parallel when the total work is large enough.
template <typename Fn>
void for_planes(ThreadPool* pool, int64_t planes, int64_t taps_per_plane, Fn&& fn) {
  const int64_t grain = std::max<int64_t>(1, kParallelTaps / std::max<int64_t>(1, taps_per_plane));
  pool->parallel_for(planes, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) fn(i);
  });
}

// A 2-D 2x2 window with stride 2 (pool_max2x2.h).
bool is_2x2_stride2(const Window& w) {
  return w.nd == 2 && w.k[1] == 2 && w.k[2] == 2 && w.stride[1] == 2 && w.stride[2] == 2;
}

template <typename T>
std::unique_ptr<Kernel> max_kernel(const PoolPlan& pl, bool with_indices) {
  return make_kernel([pl, with_indices](const KernelArgs& args) {
    const T* x = static_cast<const T*>(args.in[0]);
    T* y = static_cast<T*>(args.out[0]);
    int64_t* idx = with_indices ? static_cast<int64_t*>(args.out[1]) : nullptr;
    const int64_t in = pl.w.in_size(), out = pl.w.out_size();
    const bool inside = !idx && windows_inside(pl.w);
    for_planes(args.pool, pl.planes, out * pl.w.k_size(), [&](int64_t i) {
      if (inside && is_2x2_stride2(pl.w) && std::is_same_v<T, float> &&
          active_isa() == Isa::kAvx512)
        kernels::max_pool_2x2_avx512(reinterpret_cast<const float*>(x + i * in), pl.w.in[2],
                                     pl.w.out[1] * pl.w.out[0], pl.w.out[2],
                                     reinterpret_cast<float*>(y + i * out));
      else if (inside)
        max_plane_inside<T>(pl.w, x + i * in, y + i * out);
      else
        max_plane<T>(pl, x + i * in, y + i * out, idx ? idx + i * out : nullptr, i);
    });
  });
}

std::unique_ptr<Kernel> avg_lp_kernel(const PoolPlan& pl, PoolKind kind) {
  return make_kernel([pl, kind](const KernelArgs& args) {
    const float* x = static_cast<const float*>(args.in[0]);
    float* y = static_cast<float*>(args.out[0]);
    const int64_t in = pl.w.in_size(), out = pl.w.out_size();
    for_planes(args.pool, pl.planes, out * pl.w.k_size(),
               [&](int64_t i) { avg_lp_plane(pl, kind, x + i * in, y + i * out); });
  });
}

}  // namespace

std::unique_ptr<Kernel> prepare_MaxPool(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32, DType::kUInt8, DType::kInt8, DType::kFloat64});
  PoolPlan pl = plan_pool(ctx, true, true);
  const int64_t order = ctx.attr_int("storage_order", 0);
  if (order != 0 && order != 1) {
    ctx.fail("attribute 'storage_order' is " + std::to_string(order) + ", expected 0 or 1");
  }
  pl.col_major = order == 1;
  const bool with_indices = ctx.has_output(1);
  if (with_indices) ctx.set_output(1, DType::kInt64, ctx.outputs()[0].shape);
  switch (ctx.dtype(0)) {
    case DType::kUInt8: return max_kernel<uint8_t>(pl, with_indices);
    case DType::kInt8: return max_kernel<int8_t>(pl, with_indices);
    case DType::kFloat64: return max_kernel<double>(pl, with_indices);
    default: return max_kernel<float>(pl, with_indices);
  }
}

std::unique_ptr<Kernel> prepare_AveragePool(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32});
  // Dilations arrived in opset 19; earlier models never carry them, so accepting them is safe.
  PoolPlan pl = plan_pool(ctx, true, true);
  pl.count_include_pad = ctx.attr_int("count_include_pad", 0) != 0;
  return avg_lp_kernel(pl, PoolKind::kAvg);
}

std::unique_ptr<Kernel> prepare_LpPool(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32});
  PoolPlan pl = plan_pool(ctx, true, true);
  pl.p = ctx.attr_int("p", 2);
  if (pl.p < 1) ctx.fail("attribute 'p' is " + std::to_string(pl.p) + ", expected >= 1");
  return avg_lp_kernel(pl, PoolKind::kLp);
}

namespace {

std::unique_ptr<Kernel> global_pool(PrepareContext& ctx, bool is_max) {
  ctx.expect_dtype(0, {DType::kFloat32});
  const Shape& sx = ctx.shape(0);
  if (sx.size() < 3) {
    ctx.fail("input 0 ('" + ctx.input(0).name + "') has shape " + shape_to_string(sx) +
             ", expected [N, C, spatial...] (rank >= 3)");
  }
  Shape out(sx.size(), 1);
  out[0] = sx[0];
  out[1] = sx[1];
  ctx.set_output(0, DType::kFloat32, out);
  const int64_t planes = sx[0] * sx[1];
  const int64_t size = shape_numel(sx) / std::max<int64_t>(planes, 1);
  return make_kernel([=](const KernelArgs& args) {
    const float* x = static_cast<const float*>(args.in[0]);
    float* y = static_cast<float*>(args.out[0]);
    for_planes(args.pool, planes, size, [&](int64_t i) {
      const float* p = x + i * size;
      if (is_max) {
        float m = size > 0 ? p[0] : 0.f;
        for (int64_t j = 1; j < size; ++j) m = std::max(m, p[j]);
        y[i] = m;
      } else {
        // Four partial sums: vectorisable without -ffast-math and a little more accurate.
        float s[4] = {0, 0, 0, 0};
        int64_t j = 0;
        for (; j + 4 <= size; j += 4)
          for (int l = 0; l < 4; ++l) s[l] += p[j + l];
        for (; j < size; ++j) s[0] += p[j];
        y[i] = size > 0 ? ((s[0] + s[1]) + (s[2] + s[3])) / float(size) : 0.f;
      }
    });
  });
}

}  // namespace

std::unique_ptr<Kernel> prepare_GlobalAveragePool(PrepareContext& ctx) {
  return global_pool(ctx, false);
}
std::unique_ptr<Kernel> prepare_GlobalMaxPool(PrepareContext& ctx) {
  return global_pool(ctx, true);
}

}  // namespace softdpu::runtime
