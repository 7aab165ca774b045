// CumSum (running sums along one axis, exclusive/reverse) and Trilu (keep the upper or lower
// triangle of the last two dims, zero the rest).
#include <algorithm>
#include <cstring>

#include "kernels/tensor/tensor_util.h"

namespace softdpu::runtime {

using kernels::tensor::prod;

namespace {

// Running sums over `len` rows of `inner` lanes; row order reversed when `reverse`.
template <typename T>
void cumsum(const T* x, T* y, int64_t outer, int64_t len, int64_t inner, bool exclusive,
            bool reverse) {
  using A = kernels::tensor::Acc<T>;
  for (int64_t o = 0; o < outer; ++o) {
    const T* xo = x + o * len * inner;
    T* yo = y + o * len * inner;
    for (int64_t s = 0; s < len; ++s) {
      const int64_t t = reverse ? len - 1 - s : s;
      const int64_t prev = reverse ? t + 1 : t - 1;  // the row summed just before
      T* row = yo + t * inner;
      if (s == 0) {
        for (int64_t j = 0; j < inner; ++j) row[j] = exclusive ? T(A(0)) : xo[t * inner + j];
        continue;
      }
      const T* add = xo + (exclusive ? prev : t) * inner;
      const T* acc = yo + prev * inner;
      for (int64_t j = 0; j < inner; ++j)
        row[j] = T(static_cast<A>(static_cast<A>(acc[j]) + static_cast<A>(add[j])));
    }
  }
}

}  // namespace

std::unique_ptr<Kernel> prepare_CumSum(PrepareContext& ctx) {
  const Shape& in = ctx.shape(0);
  kernels::tensor::expect_index_type(ctx, 1);
  const int64_t rank = static_cast<int64_t>(in.size());
  if (rank == 0) ctx.fail("input 0 must have rank >= 1");
  const int64_t axis = normalize_axis(ctx, kernels::tensor::constant_scalar_int(ctx, 1), rank);
  const bool exclusive = ctx.attr_int("exclusive", 0) != 0;
  const bool reverse = ctx.attr_int("reverse", 0) != 0;
  const int64_t outer = prod(in, 0, axis), len = in[axis], inner = prod(in, axis + 1, in.size());
  ctx.set_output(0, ctx.dtype(0), in);
  return kernels::tensor::dispatch_numeric(
      ctx, ctx.dtype(0), [&](auto tag) -> std::unique_ptr<Kernel> {
        using T = decltype(tag);
        return make_kernel([=](const KernelArgs& a) {
          cumsum(static_cast<const T*>(a.in[0]), static_cast<T*>(a.out[0]), outer, len, inner,
                 exclusive, reverse);
        });
      });
}

std::unique_ptr<Kernel> prepare_Trilu(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  ctx.expect_rank(0, 2, 1 << 20);
  const Shape& in = ctx.shape(0);
  const bool upper = ctx.attr_int("upper", 1) != 0;
  const int64_t rows = in[in.size() - 2], cols = in[in.size() - 1];
  const int64_t mats = prod(in, 0, in.size() - 2);
  const size_t elem = dtype_size(ctx.dtype(0));
  bool runtime_k = false;
  int64_t k = 0;
  if (ctx.has_input(1)) {
    kernels::tensor::expect_index_type(ctx, 1);
    if (shape_numel(ctx.shape(1)) != 1)
      ctx.fail("k (input 1) must hold one value, got shape " + shape_to_string(ctx.shape(1)));
    // k only moves the diagonal, so a run-time k is fine: the kernel reads it each run.
    if (ctx.is_constant(1)) {
      k = kernels::tensor::constant_scalar_int(ctx, 1);
    } else {
      runtime_k = true;
    }
  }
  const bool k64 = ctx.has_input(1) && ctx.dtype(1) == DType::kInt64;
  ctx.set_output(0, ctx.dtype(0), in);
  return make_kernel([=](const KernelArgs& a) {
    int64_t kk = runtime_k ? kernels::tensor::load_index(a.in[1], k64, 0) : k;
    // Past +-(rows + cols) every k gives the same result; clamping keeps i + k from overflowing.
    kk = std::clamp<int64_t>(kk, -(rows + cols), rows + cols);
    const auto* src = static_cast<const uint8_t*>(a.in[0]);
    auto* dst = static_cast<uint8_t*>(a.out[0]);
    for (int64_t m = 0; m < mats; ++m) {
      for (int64_t i = 0; i < rows; ++i) {
        const size_t off = static_cast<size_t>((m * rows + i) * cols) * elem;
        // Kept columns: j >= i + k (upper) or j <= i + k (lower).
        const int64_t split = std::clamp<int64_t>(upper ? i + kk : i + kk + 1, 0, cols);
        const int64_t keep_lo = upper ? split : 0, keep_hi = upper ? cols : split;
        std::memset(dst + off, 0, static_cast<size_t>(keep_lo) * elem);
        std::memcpy(dst + off + keep_lo * elem, src + off + keep_lo * elem,
                    static_cast<size_t>(keep_hi - keep_lo) * elem);
        std::memset(dst + off + keep_hi * elem, 0, static_cast<size_t>(cols - keep_hi) * elem);
      }
    }
  });
}

}  // namespace softdpu::runtime
