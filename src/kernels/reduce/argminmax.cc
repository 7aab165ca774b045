// ArgMax and ArgMin: int64 index of the first (or, with select_last_index, last) extreme element
// along one axis. Any numeric input type.
#include <algorithm>

#include "kernels/reduce/reduce_common.h"

namespace softdpu::runtime {
namespace {

template <typename T, bool kMax, bool kLast>
inline bool better(T v, T best) {
  if constexpr (kMax) {
    return kLast ? v >= best : v > best;
  } else {
    return kLast ? v <= best : v < best;
  }
}

template <typename T, bool kMax, bool kLast>
struct ArgKernel {
  int64_t outer, n, inner;
  static constexpr int64_t kChunk = 64;

  // Rows (inner == 1) one at a time; otherwise kChunk adjacent positions per task so the inner
  // loop runs over contiguous memory.
  void run_tasks(const T* x, int64_t* y, int64_t begin, int64_t end) const {
    if (inner == 1) {
      for (int64_t o = begin; o < end; ++o) {
        const T* r = x + o * n;
        T best = r[0];
        int64_t idx = 0;
        for (int64_t j = 1; j < n; ++j) {
          if (better<T, kMax, kLast>(r[j], best)) {
            best = r[j];
            idx = j;
          }
        }
        y[o] = idx;
      }
      return;
    }
    const int64_t cpo = (inner + kChunk - 1) / kChunk;
    for (int64_t t = begin; t < end; ++t) {
      const int64_t o = t / cpo, i0 = (t % cpo) * kChunk;
      const int64_t cnt = std::min(kChunk, inner - i0);
      const T* base = x + o * n * inner + i0;
      T best[kChunk];
      int64_t idx[kChunk];
      for (int64_t i = 0; i < cnt; ++i) {
        best[i] = base[i];
        idx[i] = 0;
      }
      for (int64_t j = 1; j < n; ++j) {
        const T* row = base + j * inner;
        for (int64_t i = 0; i < cnt; ++i) {
          if (better<T, kMax, kLast>(row[i], best[i])) {
            best[i] = row[i];
            idx[i] = j;
          }
        }
      }
      std::copy_n(idx, cnt, y + o * inner + i0);
    }
  }

  void operator()(const KernelArgs& args) const {
    const T* x = static_cast<const T*>(args.in[0]);
    int64_t* y = static_cast<int64_t*>(args.out[0]);
    const int64_t tasks = inner == 1 ? outer : outer * ((inner + kChunk - 1) / kChunk);
    const int64_t work = inner == 1 ? n : n * kChunk;
    args.pool->parallel_for(tasks, kernels::grain_for(work),
                            [&](int64_t b, int64_t e) { run_tasks(x, y, b, e); });
  }
};

template <typename T, bool kMax>
std::unique_ptr<Kernel> make_arg_kernel(bool last, int64_t outer, int64_t n, int64_t inner) {
  if (last) return make_kernel(ArgKernel<T, kMax, true>{outer, n, inner});
  return make_kernel(ArgKernel<T, kMax, false>{outer, n, inner});
}

template <bool kMax>
std::unique_ptr<Kernel> prepare_arg(PrepareContext& ctx) {
  ctx.expect_dtype(0,
                   {DType::kFloat32, DType::kFloat64, DType::kInt8, DType::kUInt8, DType::kInt16,
                    DType::kUInt16, DType::kInt32, DType::kInt64, DType::kUInt32, DType::kUInt64});
  const Shape& in = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  ctx.check(rank >= 1, kernels::input_label(ctx, 0) + " must have rank >= 1, got a scalar");
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), rank);
  const bool keepdims = ctx.attr_int("keepdims", 1) != 0;
  const bool last = ctx.attr_int("select_last_index", 0) != 0;

  Shape out = in;
  if (keepdims) {
    out[axis] = 1;
  } else {
    out.erase(out.begin() + axis);
  }
  ctx.set_output(0, DType::kInt64, out);
  const int64_t outer = kernels::extent(in, 0, axis), n = in[axis];
  const int64_t inner = kernels::extent(in, axis + 1, in.size());
  if (outer * inner == 0) return make_kernel([](const KernelArgs&) {});
  ctx.check(n > 0, "axis " + std::to_string(axis) + " of " + kernels::input_label(ctx, 0) +
                       " has length 0: there is no element to pick");
  switch (ctx.dtype(0)) {
    case DType::kFloat32: return make_arg_kernel<float, kMax>(last, outer, n, inner);
    case DType::kFloat64: return make_arg_kernel<double, kMax>(last, outer, n, inner);
    case DType::kInt8: return make_arg_kernel<int8_t, kMax>(last, outer, n, inner);
    case DType::kUInt8: return make_arg_kernel<uint8_t, kMax>(last, outer, n, inner);
    case DType::kInt16: return make_arg_kernel<int16_t, kMax>(last, outer, n, inner);
    case DType::kUInt16: return make_arg_kernel<uint16_t, kMax>(last, outer, n, inner);
    case DType::kInt32: return make_arg_kernel<int32_t, kMax>(last, outer, n, inner);
    case DType::kInt64: return make_arg_kernel<int64_t, kMax>(last, outer, n, inner);
    case DType::kUInt32: return make_arg_kernel<uint32_t, kMax>(last, outer, n, inner);
    default: return make_arg_kernel<uint64_t, kMax>(last, outer, n, inner);
  }
}

}  // namespace

std::unique_ptr<Kernel> prepare_ArgMax(PrepareContext& ctx) {
  return prepare_arg<true>(ctx);
}
std::unique_ptr<Kernel> prepare_ArgMin(PrepareContext& ctx) {
  return prepare_arg<false>(ctx);
}

}  // namespace softdpu::runtime
