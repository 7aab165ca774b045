// TopK: the k largest (or smallest) values along an axis with their indices, ties broken by the
// lower index as ONNX specifies; NaN orders above every number, so the comparison stays a strict
// weak order (std::partial_sort needs one). Output is always sorted (allowed for sorted=0).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/tensor/tensor_util.h"

namespace softdpu::runtime {

using kernels::tensor::prod;

namespace {

template <typename A>
bool greater_nan_first(A a, A b) {
  if constexpr (std::is_floating_point_v<A>) {
    if (std::isnan(a)) return !std::isnan(b);
    if (std::isnan(b)) return false;
  }
  return a > b;
}

}  // namespace

std::unique_ptr<Kernel> prepare_TopK(PrepareContext& ctx) {
  const Shape& in = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  if (rank == 0) ctx.fail("input 0 must have rank >= 1");
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", -1), rank);
  int64_t k = 0;
  if (ctx.opset() >= 10) {
    kernels::tensor::expect_index_type(ctx, 1);
    k = kernels::tensor::constant_scalar_int(ctx, 1);
  } else {
    if (!ctx.has_attr("k")) ctx.fail("attribute 'k' is required before opset 10");
    k = ctx.attr_int("k", 0);
  }
  const int64_t len = in[axis];
  if (k < 0 || k > len) {
    ctx.fail("k = " + std::to_string(k) + " is outside [0, " + std::to_string(len) + "] (axis " +
             std::to_string(axis) + " of shape " + shape_to_string(in) + ")");
  }
  const bool largest = ctx.attr_int("largest", 1) != 0;
  Shape out = in;
  out[axis] = k;
  ctx.set_output(0, ctx.dtype(0), out);
  ctx.set_output(1, DType::kInt64, out);
  const int64_t outer = prod(in, 0, axis), inner = prod(in, axis + 1, in.size());
  ctx.request_scratch(static_cast<size_t>(len) * sizeof(int64_t));
  return kernels::tensor::dispatch_numeric(
      ctx, ctx.dtype(0), [&](auto tag) -> std::unique_ptr<Kernel> {
        using T = decltype(tag);
        using A = kernels::tensor::Acc<T>;
        return make_kernel([=](const KernelArgs& a) {
          const T* x = static_cast<const T*>(a.in[0]);
          T* values = static_cast<T*>(a.out[0]);
          auto* indices = static_cast<int64_t*>(a.out[1]);
          auto* order = static_cast<int64_t*>(a.scratch);
          for (int64_t o = 0; o < outer; ++o) {
            for (int64_t i = 0; i < inner; ++i) {
              const T* lane = x + o * len * inner + i;
              auto before = [&](int64_t p, int64_t q) {
                const A vp = static_cast<A>(lane[p * inner]), vq = static_cast<A>(lane[q * inner]);
                const bool pq = largest ? greater_nan_first(vp, vq) : greater_nan_first(vq, vp);
                const bool qp = largest ? greater_nan_first(vq, vp) : greater_nan_first(vp, vq);
                return pq || (!qp && p < q);
              };
              std::iota(order, order + len, int64_t{0});
              std::partial_sort(order, order + k, order + len, before);
              for (int64_t j = 0; j < k; ++j) {
                const int64_t dst = (o * k + j) * inner + i;
                if (values) values[dst] = lane[order[j] * inner];
                if (indices) indices[dst] = order[j];
              }
            }
          }
        });
      });
}

}  // namespace softdpu::runtime
